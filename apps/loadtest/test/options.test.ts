import { DURATION_HINT, SIZE_HINT } from '@threadserve/units'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { UsageError } from '../src/errors.js'
import { type LoadOptions, parseCommand, splitOptions, USAGE } from '../src/options.js'
import { buildRequest } from '../src/request.js'

function optionsOf(...args: string[]): LoadOptions {
  const command = parseCommand(args)
  if (command.kind !== 'run') throw new Error('expected a run command')
  return command.options
}

describe('sizes and durations', () => {
  test.each([
    { name: 'a bare duration is seconds', args: ['-d', '10'], values: { durationMs: 10_000 } },
    { name: 'a duration in ms', args: ['-d', '500ms'], values: { durationMs: 500 } },
    { name: 'a fraction of a second', args: ['-t', '1.5s'], values: { timeoutMs: 1500 } },
    { name: 'minutes', args: ['--warmup', '2m'], values: { warmupMs: 120_000 } },
    { name: 'a bare size is bytes', args: ['-s', '1024'], values: { bodySize: 1024 } },
    { name: 'KiB is 1024-based', args: ['-s', '1.5KiB'], values: { bodySize: 1536 } },
    { name: 'kB is 1000-based', args: ['-s', '1kB'], values: { bodySize: 1000 } },
  ])('$name', ({ args, values }) => {
    expect(optionsOf('http://127.0.0.1/', ...args)).toMatchObject(values)
  })

  test.each([
    { name: 'size', args: ['--body-size', 'lots'] },
    { name: 'duration', args: ['--duration', 'soon'] },
    { name: 'timeout', args: ['--timeout', '10 sec'] },
  ])('a bad $name is a UsageError that names the option', ({ args }) => {
    expect(() => optionsOf('http://127.0.0.1/', ...args)).toThrow(UsageError)
    expect(() => optionsOf('http://127.0.0.1/', ...args)).toThrow(new RegExp(`^${args[0]}: `))
  })

  test('--help says how TIME and SIZE are written, in the words every app uses', () => {
    expect(USAGE).toContain(`TIME is ${DURATION_HINT}.`)
    expect(USAGE).toContain(`SIZE is ${SIZE_HINT}.`)
  })
})

describe('options', () => {
  test('defaults: 10 connections for 10 s, closed loop, GET', () => {
    const options = optionsOf('http://127.0.0.1:8080/a?b=1')
    expect(options).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      path: '/a?b=1',
      method: 'GET',
      connections: 10,
      durationMs: 10_000,
      requests: null,
      rate: null,
      workers: 1,
      keepAlive: false,
    })
  })

  test('a body makes the default method POST', () => {
    expect(optionsOf('http://127.0.0.1/', '-s', '1KiB').method).toBe('POST')
  })

  test('a request count alone sets no duration', () => {
    expect(optionsOf('http://127.0.0.1/', '-n', '5').durationMs).toBeNull()
  })

  test('splitting over workers keeps connections, requests and rate exact', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 0, max: 200 }), fc.nat(10_000), (w, extra, n) => {
        const options = optionsOf('http://127.0.0.1/', '-w', String(w), '-c', String(w + extra), '-n', String(n + 1))
        const parts = Array.from({ length: w }, (_, i) => splitOptions({ ...options, rate: 1000 }, i))
        expect(parts.reduce((sum, part) => sum + part.connections, 0)).toBe(w + extra)
        expect(parts.reduce((sum, part) => sum + (part.requests ?? 0), 0)).toBe(n + 1)
        expect(parts.reduce((sum, part) => sum + (part.rate ?? 0), 0)).toBeCloseTo(1000)
        for (const part of parts) expect(part.connections).toBeGreaterThanOrEqual(1)
      }),
    )
  })
})

describe('request', () => {
  test('an HTTP/1.0 GET with Host, User-Agent and Accept', () => {
    const request = buildRequest(optionsOf('http://127.0.0.1:8080/a.txt'), null).toString('latin1')
    expect(request).toBe(
      'GET /a.txt HTTP/1.0\r\nHost: 127.0.0.1:8080\r\nUser-Agent: loadtest/0.1.0\r\nAccept: */*\r\n\r\n',
    )
  })

  test('keep-alive asks for it; a body brings its length and type; own headers replace defaults', () => {
    const options = optionsOf('http://127.0.0.1/up', '-k', '-H', 'Content-Type: text/plain', '-H', 'X-A: 1')
    const request = buildRequest({ ...options, method: 'POST' }, Buffer.from('hey')).toString('latin1')
    expect(request).toBe(
      'POST /up HTTP/1.0\r\nHost: 127.0.0.1\r\nUser-Agent: loadtest/0.1.0\r\nAccept: */*\r\n' +
        'Connection: keep-alive\r\nContent-Length: 3\r\nContent-Type: text/plain\r\nX-A: 1\r\n\r\nhey',
    )
  })
})
