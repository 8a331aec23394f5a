import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import {
  formatResponseHead,
  ParseError,
  type ResponseHead,
  ResponseParser,
  type ResponseStep,
  STATUS_TEXT,
} from '../src/index.js'
import { cutAt, errorCodeOf } from './helpers.js'

interface ResponseOutcome {
  head: {
    version: string
    status: number
    reason: string
    headers: [string, string][]
    contentLength: number | null
  } | null
  body: string
  done: boolean
  leftover: string
  code: string | null
}

function plainHead(head: ResponseHead): NonNullable<ResponseOutcome['head']> {
  return {
    version: head.version,
    status: head.status,
    reason: head.reason,
    headers: head.headers.map(([n, v]) => [n, v]),
    contentLength: head.contentLength,
  }
}

/** Pushes the pieces, then signals EOF when `close` is set. */
function parseResponse(raw: string, cuts: number[], options: { expectBody?: boolean; close?: boolean } = {}) {
  const parser = new ResponseParser()
  parser.reset({ expectBody: options.expectBody ?? true })
  const outcome: ResponseOutcome = { head: null, body: '', done: false, leftover: '', code: null }
  const take = (step: ResponseStep): void => {
    if (step.head !== null) outcome.head = plainHead(step.head)
    outcome.body += step.body?.toString('latin1') ?? ''
    outcome.leftover += step.leftover?.toString('latin1') ?? ''
    outcome.done = step.done
  }
  try {
    for (const piece of cutAt(Buffer.from(raw, 'latin1'), cuts)) take(parser.push(piece))
    if (options.close === true) take(parser.end())
  } catch (error) {
    if (!(error instanceof ParseError)) throw error
    outcome.code = error.code
  }
  return outcome
}

function everyCut(raw: string, options: { expectBody?: boolean; close?: boolean } = {}): ResponseOutcome {
  const whole = parseResponse(raw, [], options)
  for (let cut = 1; cut < raw.length; cut++) expect(parseResponse(raw, [cut], options), `cut ${cut}`).toEqual(whole)
  return whole
}

describe('formatResponseHead', () => {
  test('writes the status line, the fields and the empty line', () => {
    expect(
      formatResponseHead(404, [
        ['Content-Length', 9],
        ['Connection', 'close'],
      ]),
    ).toBe('HTTP/1.0 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\n')
  })

  test('HTTP/1.1 on request', () => {
    expect(formatResponseHead(200, [], '1.1')).toBe('HTTP/1.1 200 OK\r\n\r\n')
  })

  test('a status without a known phrase keeps the SP before the empty reason (RFC 9112 §4)', () => {
    expect(formatResponseHead(599, [])).toBe('HTTP/1.0 599 \r\n\r\n')
  })

  const impossible: [string, number, [string, string][]][] = [
    ['a status below 100', 99, []],
    ['a status above 599', 600, []],
    ['a fractional status', 200.5, []],
    ['a name with a space', 200, [['Bad Name', 'x']]],
    ['an empty name', 200, [['', 'x']]],
    ['a name with a colon', 200, [['X:', 'x']]],
    ['a non-latin1 name', 200, [['X\u0100', 'x']]],
    ['a value with CR LF (response splitting)', 200, [['Location', '/a\r\nSet-Cookie: x=1']]],
    ['a value with a bare LF', 200, [['X', 'a\nb']]],
    ['a value with NUL', 200, [['X', 'a\0b']]],
    ['a value beyond latin1', 200, [['X', 'caf\u00e9\u20ac']]],
  ]
  test.each(impossible)('rejects %s', (_name, status, headers) => {
    expect(errorCodeOf(() => formatResponseHead(status, headers))).toBe('BAD_RESPONSE_HEAD')
  })

  test('rejects non-finite numbers as values', () => {
    expect(errorCodeOf(() => formatResponseHead(200, [['Content-Length', Number.NaN]]))).toBe('BAD_RESPONSE_HEAD')
    expect(errorCodeOf(() => formatResponseHead(200, [['X', Number.POSITIVE_INFINITY]]))).toBe('BAD_RESPONSE_HEAD')
  })

  test('STATUS_TEXT has the RFC 9110 phrases, including the statuses this server sends', () => {
    expect(STATUS_TEXT[200]).toBe('OK')
    expect(STATUS_TEXT[201]).toBe('Created')
    expect(STATUS_TEXT[304]).toBe('Not Modified')
    expect(STATUS_TEXT[413]).toBe('Content Too Large')
    expect(STATUS_TEXT[431]).toBe('Request Header Fields Too Large')
    expect(STATUS_TEXT[505]).toBe('HTTP Version Not Supported')
    for (const status of [400, 404, 405, 408, 411, 414, 500, 501, 503]) expect(STATUS_TEXT[status]).toBeTypeOf('string')
    expect(Object.isFrozen(STATUS_TEXT)).toBe(true)
  })
})

describe('ResponseParser', () => {
  test('a body by Content-Length, the same at every cut', () => {
    expect(everyCut('HTTP/1.0 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\nhello')).toEqual({
      head: {
        version: '1.0',
        status: 200,
        reason: 'OK',
        headers: [
          ['Content-Length', '5'],
          ['Server', 'x'],
        ],
        contentLength: 5,
      },
      body: 'hello',
      done: true,
      leftover: '',
      code: null,
    })
  })

  test('a body until close completes on end()', () => {
    const outcome = everyCut('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it', { close: true })
    expect(outcome.head?.contentLength).toBeNull()
    expect(outcome.body).toBe('all of it')
    expect(outcome.done).toBe(true)
    expect(outcome.leftover).toBe('')
  })

  test('a body until close is not done before end()', () => {
    expect(parseResponse('HTTP/1.0 200 OK\r\n\r\nabc', []).done).toBe(false)
  })

  test('a response to HEAD has no body, even with a Content-Length', () => {
    const outcome = everyCut('HTTP/1.0 200 OK\r\nContent-Length: 1234\r\n\r\n', { expectBody: false })
    expect(outcome.head?.contentLength).toBe(1234)
    expect(outcome.body).toBe('')
    expect(outcome.done).toBe(true)
  })

  test.each([204, 304, 100, 103])('a %i response has no body', (status) => {
    const outcome = everyCut(`HTTP/1.1 ${status} X\r\nContent-Length: 3\r\n\r\nabc`)
    expect(outcome.body).toBe('')
    expect(outcome.done).toBe(true)
    expect(outcome.leftover).toBe('abc')
  })

  test('Content-Length: 0 is done at the head', () => {
    expect(everyCut('HTTP/1.0 201 Created\r\nContent-Length: 0\r\n\r\n').done).toBe(true)
  })

  test('bytes after the body are leftover: pipelined keep-alive responses', () => {
    const raw = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nx'
    const outcome = everyCut(raw)
    expect(outcome.body).toBe('hi')
    expect(outcome.leftover).toBe('HTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nx')
    const parser = new ResponseParser()
    const first = parser.push(Buffer.from(raw))
    parser.reset()
    const second = parser.push(first.leftover as Buffer)
    expect(second.head?.status).toBe(404)
    expect(second.body?.toString()).toBe('x')
    expect(second.done).toBe(true)
  })

  test('a status line without a reason, and with an empty one', () => {
    expect(everyCut('HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n').head?.reason).toBe('')
    expect(everyCut('HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n').head?.reason).toBe('')
    expect(everyCut('HTTP/1.1 404 Not  Found\t!\r\nContent-Length: 0\r\n\r\n').head?.reason).toBe('Not  Found\t!')
  })

  test('versions are reported as sent', () => {
    expect(everyCut('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n').head?.version).toBe('1.1')
    expect(everyCut('HTTP/1.5 200 OK\r\nContent-Length: 0\r\n\r\n').head?.version).toBe('1.5')
  })

  test('get() finds fields case-insensitively', () => {
    const head = new ResponseParser().push(
      Buffer.from('HTTP/1.0 200 OK\r\nX-Thing: 1\r\nContent-Length: 0\r\n\r\n'),
    ).head
    expect(head?.get('x-thing')).toBe('1')
    expect(head?.get('x-other')).toBeUndefined()
  })

  test.each([
    ['truncated inside the body', 'HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nabc', 'INCOMPLETE_RESPONSE'],
    ['truncated inside the head', 'HTTP/1.0 200 OK\r\nContent-Len', 'INCOMPLETE_RESPONSE'],
    ['closed before any byte', '', 'INCOMPLETE_RESPONSE'],
    ['not HTTP at all', 'hello\r\n\r\n', 'BAD_STATUS_LINE'],
    ['lowercase protocol', 'http/1.0 200 OK\r\n\r\n', 'BAD_STATUS_LINE'],
    ['two-digit status', 'HTTP/1.0 20 OK\r\n\r\n', 'BAD_STATUS_LINE'],
    ['four-digit status', 'HTTP/1.0 2000 OK\r\n\r\n', 'BAD_STATUS_LINE'],
    ['status 099', 'HTTP/1.0 099 X\r\n\r\n', 'BAD_STATUS_LINE'],
    ['status 600', 'HTTP/1.0 600 X\r\n\r\n', 'BAD_STATUS_LINE'],
    ['bad version digit', 'HTTP/1.x 200 OK\r\n\r\n', 'BAD_STATUS_LINE'],
    ['bad version separator', 'HTTP/1,0 200 OK\r\n\r\n', 'BAD_STATUS_LINE'],
    ['no space after the version', 'HTTP/1.0_200 OK\r\n\r\n', 'BAD_STATUS_LINE'],
    ['control byte in the reason', 'HTTP/1.0 200 O\x01K\r\n\r\n', 'BAD_STATUS_LINE'],
    ['HTTP/2.0 status line', 'HTTP/2.0 200 OK\r\n\r\n', 'VERSION_UNSUPPORTED'],
    ['space before the colon', 'HTTP/1.0 200 OK\r\nX : y\r\n\r\n', 'BAD_HEADER'],
    [
      'differing Content-Length',
      'HTTP/1.0 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
      'BAD_CONTENT_LENGTH',
    ],
    ['chunked body', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 'TRANSFER_ENCODING_UNSUPPORTED'],
  ])('%s -> %s (at every cut)', (_name, raw, code) => {
    expect(everyCut(raw, { close: true }).code).toBe(code)
  })

  test('Transfer-Encoding is harmless on a response without a body', () => {
    expect(everyCut('HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n').done).toBe(true)
  })

  test('the header limits apply, to the status line too', () => {
    const parser = new ResponseParser({ maxHeaderBytes: 32, maxHeaderCount: 1 })
    expect(errorCodeOf(() => parser.push(Buffer.from(`HTTP/1.0 200 ${'x'.repeat(40)}\r\n\r\n`)))).toBe(
      'HEADER_TOO_LARGE',
    )
    parser.reset()
    expect(errorCodeOf(() => parser.push(Buffer.from('HTTP/1.0 200 OK\r\nA: 1\r\nB: 2\r\n\r\n')))).toBe(
      'TOO_MANY_HEADERS',
    )
    expect(() => new ResponseParser({ maxHeaderBytes: -1 })).toThrow(RangeError)
  })

  test('failure is sticky until reset()', () => {
    const parser = new ResponseParser()
    const code = errorCodeOf(() => parser.push(Buffer.from('nope\r\n')))
    expect(code).toBe('BAD_STATUS_LINE')
    expect(errorCodeOf(() => parser.push(Buffer.from('HTTP/1.0 200 OK\r\n\r\n')))).toBe(code)
    expect(errorCodeOf(() => parser.end())).toBe(code)
    parser.reset()
    expect(parser.push(Buffer.from('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n')).done).toBe(true)
  })

  test('after done, pushes are leftover and end() stays done', () => {
    const parser = new ResponseParser()
    parser.push(Buffer.from('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n'))
    expect(parser.push(Buffer.from('zz'))).toEqual({ head: null, body: null, done: true, leftover: Buffer.from('zz') })
    expect(parser.push(Buffer.alloc(0)).leftover).toBeNull()
    expect(parser.end()).toEqual({ head: null, body: null, done: true, leftover: null })
  })

  test('empty chunks change nothing', () => {
    const parser = new ResponseParser()
    expect(parser.push(Buffer.alloc(0))).toEqual({ head: null, body: null, done: false, leftover: null })
    parser.push(Buffer.from('HTTP/1.0 200 OK\r\n\r\n'))
    expect(parser.push(Buffer.alloc(0))).toEqual({ head: null, body: null, done: false, leftover: null })
    parser.reset()
    parser.push(Buffer.from('HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n'))
    expect(parser.push(Buffer.alloc(0))).toEqual({ head: null, body: null, done: false, leftover: null })
  })
})

describe('format -> parse round trip', () => {
  const name = fc.string({ unit: fc.constantFrom(...'abcdefXYZ-_!#09'), minLength: 1, maxLength: 16 })
  const value = fc.string({ unit: fc.constantFrom(...'abc XYZ/;=,:"09\xe9\t'), maxLength: 40 })
  const status = fc.integer({ min: 200, max: 599 }).filter((s) => s !== 204 && s !== 304)

  test('a formatted head and its body parse back to what was formatted, at any split', () => {
    fc.assert(
      fc.property(
        status,
        fc.array(fc.tuple(name, value), { maxLength: 12 }),
        fc.uint8Array({ maxLength: 200 }),
        fc.constantFrom('1.0' as const, '1.1' as const),
        fc.array(fc.nat(), { maxLength: 5 }),
        (code, fields, body, version, seeds) => {
          const named = fields.filter(([n]) => !/^(content-length|transfer-encoding)$/i.test(n))
          const headers: [string, string | number][] = [...named, ['Content-Length', body.length]]
          const raw = Buffer.concat([Buffer.from(formatResponseHead(code, headers, version), 'latin1'), body])
          const text = raw.toString('latin1')
          const outcome = parseResponse(
            text,
            seeds.map((s) => s % text.length),
          )
          expect(outcome).toEqual({
            head: {
              version,
              status: code,
              reason: STATUS_TEXT[code] ?? '',
              headers: headers.map(([n, v]) => [n, String(v).replace(/^[ \t]+|[ \t]+$/g, '')]),
              contentLength: body.length,
            },
            body: Buffer.from(body).toString('latin1'),
            done: true,
            leftover: '',
            code: null,
          })
        },
      ),
      { numRuns: 500 },
    )
  })

  test('random bytes as a response give a result or a ParseError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.array(fc.nat(), { maxLength: 4 }), (bytes, seeds) => {
        const text = Buffer.from(bytes).toString('latin1')
        const cuts = seeds.map((s) => s % (text.length + 1))
        expect(parseResponse(`HTTP/1.0 200 OK\r\n${text}`, cuts, { close: true })).toEqual(
          parseResponse(`HTTP/1.0 200 OK\r\n${text}`, [], { close: true }),
        )
        parseResponse(text, cuts, { close: true })
      }),
      { numRuns: 1000 },
    )
  })
})
