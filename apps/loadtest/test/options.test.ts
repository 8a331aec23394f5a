import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { UsageError } from '../src/errors.js'
import { type LoadOptions, parseCommand, splitOptions } from '../src/options.js'
import { buildRequest } from '../src/request.js'
import { parseDuration, parseSize } from '../src/units.js'

function optionsOf(...args: string[]): LoadOptions {
  const command = parseCommand(args)
  if (command.kind !== 'run') throw new Error('expected a run command')
  return command.options
}

describe('units', () => {
  test.each([
    ['1024', 1024],
    ['1KiB', 1024],
    ['1k', 1024],
    ['1kB', 1000],
    ['1MiB', 1048576],
    ['1.5KiB', 1536],
  ])('size %s is %d bytes', (text, bytes) => {
    expect(parseSize('--body-size', text)).toBe(bytes)
  })

  test.each([
    ['10', 10_000],
    ['10s', 10_000],
    ['500ms', 500],
    ['2m', 120_000],
  ])('duration %s is %d ms', (text, ms) => {
    expect(parseDuration('--duration', text)).toBe(ms)
  })

  test('a bad size is a UsageError', () => {
    expect(() => parseSize('--body-size', 'lots')).toThrow(UsageError)
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
