// Differential test against Node's own llhttp, reached the way node's
// benchmark/http/bench-parser.js reaches it: HTTPParser from node:_http_common.
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { KNOWN_METHODS } from '../src/index.js'
import { parseInPieces } from './helpers.js'
import { HTTPParser, LLHTTP_METHODS } from './llhttp.js'

/** What both parsers are compared on; a string is an error code or 'incomplete'. */
type Result = { method: string; target: string; version: string; headers: string[]; body: string } | string

function parseWithLlhttp(raw: string): Result {
  const parser = new HTTPParser()
  parser.initialize(HTTPParser.REQUEST, {})
  const headers: string[] = []
  let target = ''
  let head: { method: string; version: string } | null = null
  let body = ''
  let complete = false
  // Node flushes headers in batches of 32 through kOnHeaders, then reports the rest at completion.
  parser[HTTPParser.kOnHeaders] = (batch: string[], url: string) => {
    headers.push(...batch)
    target += url
  }
  parser[HTTPParser.kOnHeadersComplete] = (
    major: number,
    minor: number,
    batch: string[] | undefined,
    method: number,
    url: string | undefined,
  ) => {
    if (batch !== undefined) headers.push(...batch)
    if (url !== undefined) target += url
    head = { method: LLHTTP_METHODS[method] ?? `#${method}`, version: `${major}.${minor}` }
  }
  parser[HTTPParser.kOnBody] = (chunk: Buffer) => {
    body += chunk.toString('latin1')
  }
  parser[HTTPParser.kOnMessageComplete] = () => {
    complete = true
  }
  const bytes = Buffer.from(raw, 'latin1')
  const parsed = parser.execute(bytes, 0, bytes.length)
  if (parsed instanceof Error) return (parsed as Error & { code: string }).code
  if (head === null || !complete) return 'incomplete'
  const { method, version } = head
  return { method, target, version, headers, body }
}

function parseWithOurs(raw: string): Result {
  const outcome = parseInPieces(raw, [])
  if (outcome.code !== null) return outcome.code
  if (outcome.head === null || !outcome.done) return 'incomplete'
  const { method, target, version, headers } = outcome.head
  return { method, target, version, headers: headers.flat(), body: outcome.body }
}

// Reviewed, intended differences: each row is checked against both parsers, so the table cannot
// silently go stale when either side changes.
const INTENDED_DIFFERENCES: { why: string; raw: string; ours: string; llhttp: string }[] = [
  {
    why: 'unregistered methods are 501 here (M-SEARCH is SSDP, not in the IANA registry)',
    raw: 'M-SEARCH * HTTP/1.1\r\n\r\n',
    ours: 'METHOD_NOT_IMPLEMENTED',
    llhttp: 'accepted',
  },
  {
    why: 'registered methods llhttp does not know are accepted here (the server answers 405)',
    raw: 'LABEL / HTTP/1.0\r\n\r\n',
    ours: 'accepted',
    llhttp: 'HPE_INVALID_METHOD',
  },
  {
    why: 'identical duplicate Content-Length fields are accepted here (RFC 9110 §8.6 allows it)',
    raw: 'POST / HTTP/1.0\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx',
    ours: 'accepted',
    llhttp: 'HPE_UNEXPECTED_CONTENT_LENGTH',
  },
  {
    why: 'a higher minor version is compatible (RFC 9110 §2.5) and reported as 1.1',
    raw: 'GET / HTTP/1.2\r\n\r\n',
    ours: 'accepted',
    llhttp: 'HPE_INVALID_VERSION',
  },
  {
    why: 'major versions other than 0 and 1 are 505 (RFC 9110 §15.6.6)',
    raw: 'GET / HTTP/2.0\r\n\r\n',
    ours: 'VERSION_UNSUPPORTED',
    llhttp: 'accepted',
  },
  {
    why: 'an HTTP/0.9 Simple-Request is complete at its line end (RFC 1945 §4.1)',
    raw: 'GET /\r\n',
    ours: 'accepted',
    llhttp: 'incomplete',
  },
  {
    why: 'a bare LF ends a line (RFC 9112 §2.2 lets a recipient accept it)',
    raw: 'GET / HTTP/1.0\nHost: x\n\n',
    ours: 'accepted',
    llhttp: 'HPE_INVALID_VERSION',
  },
  {
    why: 'any Transfer-Encoding is 501: bodies are read by Content-Length only',
    raw: 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    ours: 'TRANSFER_ENCODING_UNSUPPORTED',
    llhttp: 'accepted',
  },
  {
    why: 'POST without Content-Length is 411 (RFC 1945 §7.2.2)',
    raw: 'POST / HTTP/1.0\r\n\r\n',
    ours: 'LENGTH_REQUIRED',
    llhttp: 'accepted',
  },
  {
    why: 'obs-text bytes in the target are kept (parseTarget decodes them as UTF-8)',
    raw: 'GET /caf\xc3\xa9 HTTP/1.0\r\n\r\n',
    ours: 'accepted',
    llhttp: 'HPE_INVALID_URL',
  },
  {
    why: 'bytes after an HTTP/1.0 message are leftover, not an error',
    raw: 'GET / HTTP/1.0\r\n\r\nGET / HTTP/1.0\r\n\r\n',
    ours: 'accepted',
    llhttp: 'HPE_CLOSED_CONNECTION',
  },
]

const summary = (result: Result): string => (typeof result === 'string' ? result : 'accepted')

describe('intended differences from llhttp', () => {
  test.each(INTENDED_DIFFERENCES)('$why', ({ raw, ours, llhttp }) => {
    expect(summary(parseWithOurs(raw))).toBe(ours)
    expect(summary(parseWithLlhttp(raw))).toBe(llhttp)
  })
})

describe('agreement with llhttp on valid requests', () => {
  // `methods` of node:_http_common is indexed by llhttp's method number only for the classic
  // methods (QUERY is reported as 46); keep the methods llhttp reports under their own name.
  // CONNECT and PRI switch llhttp into tunnel/HTTP2 handling.
  const bothKnow = [...KNOWN_METHODS].filter((m) => {
    if (m === 'CONNECT' || m === 'PRI') return false
    const result = parseWithLlhttp(`${m} / HTTP/1.0\r\n\r\n`)
    return typeof result === 'object' && result.method === m
  })
  const tchar = fc.constantFrom(...("!#$%&'*+-.^_`|~" + 'abcxyzABCXYZ0189'))
  const valueChar = fc.constantFrom(...' \tabcxyzABC0189!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~\xa0\xe9\xff')
  const targetChar = fc.constantFrom(..."abcXYZ019-._~!$&'()*+,;=:@/?%")
  const request = fc.record({
    method: fc.constantFrom(...bothKnow),
    target: fc.string({ unit: targetChar, maxLength: 40 }),
    version: fc.constantFrom('1.0', '1.1'),
    leadingEmptyLine: fc.boolean(),
    fields: fc.array(
      fc.tuple(fc.string({ unit: tchar, minLength: 1, maxLength: 12 }), fc.string({ unit: valueChar, maxLength: 30 })),
      { maxLength: 40 },
    ),
    body: fc.string({ unit: fc.constantFrom('a', 'b', '\r', '\n', '\0'), maxLength: 20 }),
  })

  test('the compared methods include the common ones', () => {
    expect(bothKnow).toEqual(expect.arrayContaining(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']))
  })

  test('method, target, version, headers and body are the same', () => {
    fc.assert(
      fc.property(request, ({ method, target, version, leadingEmptyLine, fields, body }) => {
        const named = fields.filter(([name]) => !/^(content-length|transfer-encoding)$/i.test(name))
        const lines = [`${method} /${target} HTTP/${version}`, ...named.map(([n, v]) => `${n}: ${v}`)]
        lines.push(`Content-Length: ${body.length}`)
        const raw = `${leadingEmptyLine ? '\r\n' : ''}${lines.join('\r\n')}\r\n\r\n${body}`
        const ours = parseWithOurs(raw)
        expect(typeof ours).toBe('object')
        expect(ours).toEqual(parseWithLlhttp(raw))
      }),
      { numRuns: 1000 },
    )
  })

  test('requests both reject are rejected for the same kind of reason', () => {
    const pairs: [string, string][] = [
      ['GET / HTTP/1.0\r\nHost : x\r\n\r\n', 'BAD_HEADER'],
      ['GET / HTTP/1.0\r\nA: b\r\n c\r\n\r\n', 'BAD_HEADER'],
      ['GET / HTTP/1.0\r\nA: \x7f\r\n\r\n', 'BAD_HEADER'],
      ['GET / HTTP/1.0\r\nA: \x00\r\n\r\n', 'BAD_HEADER'],
      ['POST / HTTP/1.0\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', 'BAD_CONTENT_LENGTH'],
      ['POST / HTTP/1.0\r\nContent-Length: -1\r\n\r\n', 'BAD_CONTENT_LENGTH'],
      [
        'POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n',
        'TRANSFER_ENCODING_WITH_CONTENT_LENGTH',
      ],
      ['get / HTTP/1.0\r\n\r\n', 'BAD_METHOD'],
      ['GET / HTTP/1.x\r\n\r\n', 'BAD_VERSION'],
    ]
    for (const [raw, code] of pairs) {
      expect(parseWithOurs(raw), raw).toBe(code)
      expect(summary(parseWithLlhttp(raw)), raw).toMatch(/^HPE_/)
    }
  })
})
