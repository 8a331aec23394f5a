import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { formatJsonLine, formatTextLine } from '../src/index.js'
import { anyRecord, makeRecord, parseTextLine } from './helpers.js'

const isAscii = (line: string): boolean => /^[\x20-\x7e]*\n$/.test(line)

// Strings of arbitrary UTF-16 code units, lone surrogates included.
const anyString = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) })

describe('formatTextLine', () => {
  test('writes the Common-Log-Format-like line of the contract', () => {
    expect(formatTextLine(makeRecord())).toBe(
      '2026-11-25T19:02:38.123Z w3 127.0.0.1 "GET /test.txt HTTP/1.0" 200 1234 1.2ms\n',
    )
  })

  test('rounds the duration to microseconds', () => {
    expect(formatTextLine(makeRecord({ durationMs: 0.1 + 0.2 }))).toContain(' 0.3ms\n')
    expect(formatTextLine(makeRecord({ durationMs: 12.3456789 }))).toContain(' 12.346ms\n')
  })

  test('writes a missing or invalid value as "-"', () => {
    const line = formatTextLine(
      makeRecord({ time: Number.NaN, workerId: Number.NaN, clientAddress: '', method: '', target: '', version: '' }),
    )
    expect(line).toBe('- w- - "- - -" 200 1234 1.2ms\n')
    expect(formatTextLine(makeRecord({ status: Number.POSITIVE_INFINITY, durationMs: Number.NaN }))).toContain(
      '" - 1234 -\n',
    )
  })

  test('writes the time of any valid date exactly as toISOString does', () => {
    fc.assert(
      fc.property(fc.integer({ min: -8.64e15, max: 8.64e15 }), (ms) => {
        expect(formatTextLine(makeRecord({ time: ms })).split(' ')[0]).toBe(new Date(ms).toISOString())
      }),
    )
  })

  test('keeps the time right when consecutive records cross a second', () => {
    const base = Date.UTC(2026, 0, 1, 0, 0, 0, 0)
    for (const ms of [base - 1, base, base + 999, base + 1000, base - 1, base + 1000.7]) {
      expect(formatTextLine(makeRecord({ time: ms })).split(' ')[0]).toBe(new Date(Math.floor(ms)).toISOString())
    }
  })
})

describe('formatJsonLine', () => {
  test('writes the JSON line of the contract, absent optional values as null', () => {
    expect(formatJsonLine(makeRecord())).toBe(
      '{"time":"2026-11-25T19:02:38.123Z","remote_addr":"127.0.0.1","remote_user":null,"method":"GET","path":"/test.txt","protocol":"HTTP/1.0","status":200,"bytes":null,"bytes_sent":1234,"duration_ms":1.2,"user_agent":null,"referer":null,"worker":3}\n',
    )
  })

  test('writes the optional values when the record has them', () => {
    const record = makeRecord({ remoteUser: 'alice', bodyBytes: 1000, userAgent: 'curl/7.88.1', referer: 'http://a/' })
    expect(JSON.parse(formatJsonLine(record))).toMatchObject({
      remote_user: 'alice',
      bytes: 1000,
      bytes_sent: 1234,
      user_agent: 'curl/7.88.1',
      referer: 'http://a/',
    })
  })

  test('writes an invalid time or number as null', () => {
    const record = makeRecord({ time: Number.NaN, bytes: Number.NaN, bodyBytes: Number.NaN, durationMs: 1 / 0 })
    const parsed = JSON.parse(formatJsonLine(record))
    expect(parsed).toMatchObject({ time: null, bytes: null, bytes_sent: null, duration_ms: null })
  })

  test('carries the same fields as the text line', () => {
    const record = makeRecord({ target: '/a b"c', clientAddress: '::1', status: 404, durationMs: 0.25 })
    const json = JSON.parse(formatJsonLine(record))
    const text = parseTextLine(formatTextLine(record).slice(0, -1))
    expect(text).toBeDefined()
    expect({
      time: text?.time,
      remote_addr: text?.client,
      remote_user: null,
      method: text?.method,
      path: text?.target,
      protocol: text?.version,
      status: Number(text?.status),
      bytes: null,
      bytes_sent: Number(text?.bytes),
      duration_ms: Number(text?.duration.replace('ms', '')),
      user_agent: null,
      referer: null,
      worker: Number(text?.worker),
    }).toEqual(json)
  })
})

const HOSTILE_TARGETS = [
  { name: 'a quote and a fake status', target: '/a" 200 0 0ms' },
  {
    name: 'CRLF and a forged second line',
    target: '/a\r\n2026-11-25T19:02:38.123Z w1 1.2.3.4 "GET / HTTP/1.0" 200 1 1ms',
  },
  { name: 'a bare LF', target: '/a\nb' },
  { name: 'NUL', target: '/a\u0000b' },
  { name: 'a backslash before a quote', target: '/a\\" 500' },
  { name: 'a fake escape sequence', target: '/a\\x0a' },
  { name: 'DEL and other controls', target: '/\u007f\u0001\u001b[31m' },
  { name: 'latin1 and non-latin1 characters', target: '/é/\u2028/😀' },
  { name: 'a lone surrogate', target: '/\ud800x' },
  { name: 'JSON breaking', target: '","status":999,"x":"' },
]

describe.each(HOSTILE_TARGETS)('a target with $name', ({ target }) => {
  const record = makeRecord({ target })

  test('stays on one ASCII text line and reads back unchanged', () => {
    const line = formatTextLine(record)
    expect(isAscii(line)).toBe(true)
    const parsed = parseTextLine(line.slice(0, -1))
    expect(parsed).toMatchObject({ method: 'GET', target, version: 'HTTP/1.0', status: '200', bytes: '1234' })
  })

  test('stays on one ASCII JSON line and parses back unchanged', () => {
    const line = formatJsonLine(record)
    expect(isAscii(line)).toBe(true)
    expect(JSON.parse(line)).toMatchObject({ path: target, status: 200, bytes_sent: 1234 })
  })
})

describe('any field content', () => {
  const records = anyRecord(anyString)
  const orDash = (value: string): string => (value === '' ? '-' : value)

  test('gives one well-formed ASCII text line that reads back to the same fields', () => {
    fc.assert(
      fc.property(records, (record) => {
        const line = formatTextLine(record)
        expect(isAscii(line)).toBe(true)
        const parsed = parseTextLine(line.slice(0, -1))
        expect(parsed).toMatchObject({
          client: orDash(record.clientAddress),
          method: orDash(record.method),
          target: orDash(record.target),
          version: orDash(record.version),
          status: String(record.status),
        })
      }),
    )
  })

  test('gives one ASCII JSON line that parses to the same fields', () => {
    fc.assert(
      fc.property(records, (record) => {
        const line = formatJsonLine(record)
        expect(isAscii(line)).toBe(true)
        expect(JSON.parse(line)).toEqual({
          time: new Date(record.time).toISOString(),
          remote_addr: record.clientAddress,
          remote_user: record.remoteUser ?? null,
          method: record.method,
          path: record.target,
          protocol: record.version,
          status: record.status,
          bytes: record.bodyBytes ?? null,
          bytes_sent: record.bytes,
          duration_ms: Math.round(record.durationMs * 1000) / 1000,
          user_agent: record.userAgent ?? null,
          referer: record.referer ?? null,
          worker: record.workerId,
        })
      }),
    )
  })
})
