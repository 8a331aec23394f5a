import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { DEFAULT_LIMITS, KNOWN_METHODS, PARSE_ERROR_STATUS, ParseError, RequestParser } from '../src/index.js'
import { INVALID_REQUESTS, SMALL_LIMITS, VALID_REQUESTS, type ValidRequest } from './fixtures/requests.js'
import { errorCodeOf, type Outcome, parseByteByByte, parseInPieces, toBuffer } from './helpers.js'

function expectedOutcome(fixture: ValidRequest): Outcome {
  const { head } = fixture
  return {
    head: {
      method: head.method,
      target: head.target,
      version: head.version,
      headers: head.headers,
      contentLength: head.contentLength ?? 0,
      hasContentLength: head.hasContentLength ?? false,
    },
    body: fixture.body ?? '',
    done: true,
    leftover: fixture.leftover ?? '',
    heads: 1,
    code: null,
  }
}

describe('valid requests', () => {
  test.each(VALID_REQUESTS)('$name: parsed whole', (fixture) => {
    expect(parseInPieces(fixture.raw, [], fixture.limits)).toEqual(expectedOutcome(fixture))
  })

  test.each(VALID_REQUESTS)('$name: same result at every cut', (fixture) => {
    const expected = expectedOutcome(fixture)
    for (let cut = 1; cut < fixture.raw.length; cut++) {
      expect(parseInPieces(fixture.raw, [cut], fixture.limits), `cut at ${cut}`).toEqual(expected)
    }
  })

  test.each(VALID_REQUESTS)('$name: same result byte by byte', (fixture) => {
    expect(parseByteByByte(fixture.raw, fixture.limits)).toEqual(expectedOutcome(fixture))
  })
})

describe('invalid requests', () => {
  test.each(INVALID_REQUESTS)('$name -> $code', ({ raw, code, limits }) => {
    expect(parseInPieces(raw, [], limits).code).toBe(code)
  })

  test.each(INVALID_REQUESTS)('$name: same code at every cut', ({ raw, code, limits }) => {
    for (let cut = 1; cut < raw.length; cut++) expect(parseInPieces(raw, [cut], limits).code, `cut ${cut}`).toBe(code)
  })

  test.each(INVALID_REQUESTS)('$name: same code byte by byte', ({ raw, code, limits }) => {
    expect(parseByteByByte(raw, limits).code).toBe(code)
  })

  test('every error carries the status of its code', () => {
    for (const { raw, limits } of INVALID_REQUESTS) {
      const parser = new RequestParser(limits)
      try {
        parser.push(toBuffer(raw))
        parser.end()
        expect.unreachable(`no error for ${JSON.stringify(raw)}`)
      } catch (error) {
        expect(error).toBeInstanceOf(ParseError)
        const parseError = error as ParseError
        expect(parseError.status).toBe(PARSE_ERROR_STATUS[parseError.code])
        expect(parseError.name).toBe('ParseError')
      }
    }
  })
})

describe('limits are detected as soon as they are passed', () => {
  test('a request line without an end is 414 once it passes the limit', () => {
    const parser = new RequestParser()
    expect(parser.push(Buffer.alloc(DEFAULT_LIMITS.maxRequestLineBytes, 0x41)).done).toBe(false)
    expect(errorCodeOf(() => parser.push(Buffer.from('A')))).toBe('URI_TOO_LONG')
  })

  test('a header block without an end is 431 once no LF can end it within the limit', () => {
    // The limit counts the LFs too: after maxHeaderBytes - 1 bytes only an LF ending the head may come.
    const parser = new RequestParser()
    parser.push(Buffer.from('GET / HTTP/1.0\r\nX: '))
    expect(parser.push(Buffer.alloc(DEFAULT_LIMITS.maxHeaderBytes - 4, 0x61)).done).toBe(false)
    expect(errorCodeOf(() => parser.push(Buffer.from('a')))).toBe('HEADER_TOO_LARGE')
  })

  test('a huge chunk without a line end fails at once', () => {
    expect(errorCodeOf(() => new RequestParser().push(Buffer.alloc(1 << 20, 0x41)))).toBe('URI_TOO_LONG')
  })

  test('BODY_TOO_LARGE is raised on the push that completes the head, before any body byte', () => {
    const parser = new RequestParser({ maxBodyBytes: 4 })
    parser.push(Buffer.from('POST / HTTP/1.0\r\nContent-Length: 5\r\n'))
    expect(errorCodeOf(() => parser.push(Buffer.from('\r\n')))).toBe('BODY_TOO_LARGE')
  })

  test('the limits are configurable and validated', () => {
    expect(parseInPieces('GET /abc HTTP/1.0\r\n\r\n', [], { maxRequestLineBytes: 10 }).code).toBe('URI_TOO_LONG')
    expect(() => new RequestParser({ maxHeaderCount: -1 })).toThrow(RangeError)
    expect(() => new RequestParser({ maxBodyBytes: 1.5 })).toThrow(RangeError)
  })

  test('DEFAULT_LIMITS are the documented defaults and frozen', () => {
    expect(DEFAULT_LIMITS).toEqual({
      maxRequestLineBytes: 8192,
      maxHeaderBytes: 16384,
      maxHeaderCount: 100,
      maxBodyBytes: 64 * 1024 * 1024,
    })
    expect(Object.isFrozen(DEFAULT_LIMITS)).toBe(true)
  })
})

describe('steps', () => {
  test('head is reported exactly once, body as views, done at the last body byte', () => {
    const parser = new RequestParser()
    const first = parser.push(Buffer.from('POST /u HTTP/1.0\r\nContent-Length: 6\r\n\r\nab'))
    expect(first.head?.method).toBe('POST')
    expect(first.body?.toString()).toBe('ab')
    expect(first.done).toBe(false)
    const second = parser.push(Buffer.from('cd'))
    expect(second).toEqual({ head: null, body: Buffer.from('cd'), done: false, leftover: null })
    const third = parser.push(Buffer.from('efXY'))
    expect(third.head).toBeNull()
    expect(third.body?.toString()).toBe('ef')
    expect(third.done).toBe(true)
    expect(third.leftover?.toString()).toBe('XY')
  })

  test('body and leftover are views of the pushed chunk, not copies', () => {
    const chunk = Buffer.from('POST /u HTTP/1.0\r\nContent-Length: 2\r\n\r\nabcd')
    const step = new RequestParser().push(chunk)
    expect(step.body?.buffer).toBe(chunk.buffer)
    expect(step.leftover?.buffer).toBe(chunk.buffer)
    chunk[chunk.length - 4] = 0x7a
    expect(step.body?.toString()).toBe('zb')
  })

  test('a whole chunk of body is handed back as is', () => {
    const parser = new RequestParser()
    parser.push(Buffer.from('POST /u HTTP/1.0\r\nContent-Length: 10\r\n\r\n'))
    const chunk = Buffer.from('01234')
    expect(parser.push(chunk).body).toBe(chunk)
  })

  test('pushes after the message are all leftover', () => {
    const parser = new RequestParser()
    expect(parser.push(Buffer.from('GET / HTTP/1.0\r\n\r\n')).done).toBe(true)
    expect(parser.push(Buffer.from('GET /again HTTP/1.0\r\n\r\n'))).toEqual({
      head: null,
      body: null,
      done: true,
      leftover: Buffer.from('GET /again HTTP/1.0\r\n\r\n'),
    })
    expect(parser.push(Buffer.alloc(0)).leftover).toBeNull()
  })

  test('an empty chunk changes nothing', () => {
    const parser = new RequestParser()
    expect(parser.push(Buffer.alloc(0))).toEqual({ head: null, body: null, done: false, leftover: null })
    expect(() => parser.end()).not.toThrow()
    parser.push(Buffer.from('POST / HTTP/1.0\r\nContent-Length: 1\r\n\r\n'))
    expect(parser.push(Buffer.alloc(0))).toEqual({ head: null, body: null, done: false, leftover: null })
    expect(parser.push(Buffer.from('x')).done).toBe(true)
  })

  test('each push returns a fresh step object', () => {
    const parser = new RequestParser()
    const a = parser.push(Buffer.from('GET / HTTP/1.0\r\n'))
    const b = parser.push(Buffer.from('\r\n'))
    expect(a).not.toBe(b)
    expect(a.head).toBeNull()
    expect(b.head).not.toBeNull()
  })
})

describe('end()', () => {
  test('EOF before any byte is not an error', () => {
    expect(() => new RequestParser().end()).not.toThrow()
  })

  test('EOF after only empty lines is not an error', () => {
    const parser = new RequestParser()
    parser.push(Buffer.from('\r\n\r\n'))
    expect(() => parser.end()).not.toThrow()
  })

  test('EOF after a complete message is not an error', () => {
    const parser = new RequestParser()
    parser.push(Buffer.from('POST / HTTP/1.0\r\nContent-Length: 1\r\n\r\nx'))
    expect(() => parser.end()).not.toThrow()
  })

  test('EOF inside the head is INCOMPLETE_REQUEST', () => {
    const parser = new RequestParser()
    parser.push(Buffer.from('GET / HTTP/1.0\r\n'))
    expect(errorCodeOf(() => parser.end())).toBe('INCOMPLETE_REQUEST')
  })
})

describe('failure is sticky, reset() starts over', () => {
  test('push after an error throws the same error', () => {
    const parser = new RequestParser()
    let first: unknown
    try {
      parser.push(Buffer.from('get / HTTP/1.0\r\n\r\n'))
    } catch (error) {
      first = error
    }
    expect(first).toBeInstanceOf(ParseError)
    expect(() => parser.push(Buffer.from('GET / HTTP/1.0\r\n\r\n'))).toThrow(first as Error)
    expect(() => parser.end()).toThrow(first as Error)
  })

  test('reset() after an error parses a new request', () => {
    const parser = new RequestParser()
    expect(errorCodeOf(() => parser.push(Buffer.from('Host : x\r\n')))).toBe('BAD_METHOD')
    parser.reset()
    expect(parser.push(Buffer.from('GET /ok HTTP/1.0\r\n\r\n')).head?.target).toBe('/ok')
  })

  test('reset() in the middle of a head and of a body discards it', () => {
    const parser = new RequestParser()
    parser.push(Buffer.from('GET /first HTTP/1.0\r\nHo'))
    parser.reset()
    expect(parser.push(Buffer.from('GET /second HTTP/1.0\r\n\r\n')).head?.target).toBe('/second')
    parser.reset()
    parser.push(Buffer.from('POST / HTTP/1.0\r\nContent-Length: 9\r\n\r\nabc'))
    parser.reset()
    const step = parser.push(Buffer.from('GET /third HTTP/1.0\r\n\r\n'))
    expect(step.head?.target).toBe('/third')
    expect(step.done).toBe(true)
  })

  test('one parser reused for many requests of all shapes gives the results of fresh parsers', () => {
    const parser = new RequestParser()
    for (const fixture of VALID_REQUESTS.filter((f) => f.limits === undefined)) {
      parser.reset()
      const raw = toBuffer(fixture.raw)
      const middle = raw.length >> 1
      parser.push(raw.subarray(0, middle))
      const step = parser.push(raw.subarray(middle))
      expect(step.done, fixture.name).toBe(true)
    }
  })
})

describe('RequestHead', () => {
  const raw = 'GET / HTTP/1.0\r\nHost: a\r\nX-Dup: 1\r\nx-dup: 2\r\nAccept-^: z\r\n\r\n'
  const head = new RequestParser().push(Buffer.from(raw)).head

  test('get() is case-insensitive and returns the first occurrence', () => {
    expect(head?.get('host')).toBe('a')
    expect(head?.get('HOST')).toBe('a')
    expect(head?.get('x-DUP')).toBe('1')
  })

  test('get() returns undefined for absent names, including near misses', () => {
    expect(head?.get('hos')).toBeUndefined()
    expect(head?.get('hosu')).toBeUndefined()
    expect(head?.get('Accept-~')).toBeUndefined() // '^' | 0x20 is '~': not a letter, no folding
    expect(head?.get('Accept-^')).toBe('z')
  })

  test('contentLength is 0 and hasContentLength false without the field', () => {
    expect(head?.contentLength).toBe(0)
    expect(head?.hasContentLength).toBe(false)
  })
})

test('KNOWN_METHODS holds the registered methods the brief names', () => {
  for (const method of [
    'GET',
    'HEAD',
    'POST',
    'PUT',
    'DELETE',
    'CONNECT',
    'OPTIONS',
    'TRACE',
    'PATCH',
    'LINK',
    'UNLINK',
  ]) {
    expect(KNOWN_METHODS.has(method)).toBe(true)
  }
  for (const method of KNOWN_METHODS) {
    expect(parseInPieces(`${method} /x HTTP/1.0\r\nContent-Length: 0\r\n\r\n`, []).head?.method).toBe(method)
  }
})

describe('properties', () => {
  const validRaws = VALID_REQUESTS.filter((f) => f.raw.length < 2000)

  test('any split of a valid request parses like the whole request', () => {
    fc.assert(
      fc.property(fc.constantFrom(...validRaws), fc.array(fc.nat(), { maxLength: 8 }), (fixture, seeds) => {
        const cuts = seeds.map((s) => s % fixture.raw.length)
        expect(parseInPieces(fixture.raw, cuts, fixture.limits)).toEqual(parseInPieces(fixture.raw, [], fixture.limits))
      }),
      { numRuns: 500 },
    )
  })

  test('random bytes give a result or a ParseError, whatever the split', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(), { maxLength: 6 }), (bytes, seeds) => {
        const raw = Buffer.from(bytes)
        const cuts = seeds.map((s) => s % (raw.length + 1))
        // parseInPieces rethrows anything that is not a ParseError, failing the property.
        expect(parseInPieces(raw, cuts, SMALL_LIMITS)).toEqual(parseInPieces(raw, [], SMALL_LIMITS))
        expect(parseInPieces(raw, cuts)).toEqual(parseInPieces(raw, []))
      }),
      { numRuns: 1000 },
    )
  })

  test('random bytes after a valid request line give a result or a ParseError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const raw = Buffer.concat([Buffer.from('POST / HTTP/1.0\r\n'), Buffer.from(bytes)])
        expect(parseByteByByte(raw, SMALL_LIMITS)).toEqual(parseInPieces(raw, [], SMALL_LIMITS))
      }),
      { numRuns: 500 },
    )
  })

  test('mutated valid requests give a result or a ParseError, the same for any split', () => {
    const mutation = fc.record({
      at: fc.nat(),
      kind: fc.constantFrom('replace', 'insert', 'delete'),
      byte: fc.constantFrom(0x00, 0x09, 0x0a, 0x0d, 0x20, 0x3a, 0x7f, 0xff, 0x41, 0x61, 0x2f, 0x30),
    })
    fc.assert(
      fc.property(
        fc.constantFrom(...validRaws),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (fixture, mutations, seeds) => {
          const bytes = [...toBuffer(fixture.raw)]
          for (const { at, kind, byte } of mutations) {
            const index = at % (bytes.length + 1)
            if (kind === 'insert') bytes.splice(index, 0, byte)
            else if (kind === 'delete') bytes.splice(index, 1)
            else bytes[Math.min(index, bytes.length - 1)] = byte
          }
          const raw = Buffer.from(bytes)
          const cuts = seeds.map((s) => s % (raw.length + 1))
          expect(parseInPieces(raw, cuts, fixture.limits)).toEqual(parseInPieces(raw, [], fixture.limits))
        },
      ),
      { numRuns: 1000 },
    )
  })

  test('generated requests parse to what was generated', () => {
    const token = fc.string({ unit: fc.constantFrom(...'abcXYZ-_09!#'), minLength: 1, maxLength: 12 })
    const value = fc.string({ unit: fc.constantFrom(...'abc XYZ/;=,"\t:09'), maxLength: 30 })
    const path = fc.string({ unit: fc.constantFrom(...'abc/.%?=&~09'), maxLength: 40 })
    fc.assert(
      fc.property(
        fc.constantFrom('GET', 'HEAD', 'DELETE', 'OPTIONS'),
        path,
        fc.constantFrom('1.0', '1.1'),
        fc.array(fc.tuple(token, value), { maxLength: 20 }),
        fc.constantFrom('\r\n', '\n'),
        (method, target, version, fields, eol) => {
          const named = fields.filter(([name]) => !/^(content-length|transfer-encoding)$/i.test(name))
          const raw = `${method} /${target} HTTP/${version}${eol}${named.map(([n, v]) => `${n}:${v}${eol}`).join('')}${eol}`
          const outcome = parseInPieces(raw, [])
          expect(outcome.code).toBeNull()
          expect(outcome.head).toEqual({
            method,
            target: `/${target}`,
            version,
            headers: named.map(([n, v]) => [n, v.replace(/^[ \t]+|[ \t]+$/g, '')]),
            contentLength: 0,
            hasContentLength: false,
          })
        },
      ),
      { numRuns: 500 },
    )
  })
})

test('hostile inputs finish: drip-fed header lines, then a flood of them', () => {
  const parser = new RequestParser()
  parser.push(Buffer.from('GET / HTTP/1.0\r\n'))
  const line = 'X: 1\r\n'
  for (let i = 0; i < 99 * line.length; i++) {
    expect(parser.push(Buffer.from(line[i % line.length] as string)).done).toBe(false)
  }
  expect(errorCodeOf(() => parser.push(Buffer.from(line.repeat(10_000))))).toBe('TOO_MANY_HEADERS')
})

test('hostile inputs finish: a megabyte of spaces, of LFs, of one header line', () => {
  expect(parseInPieces(Buffer.alloc(1 << 20, 0x20), [1000]).code).toBe('URI_TOO_LONG')
  expect(parseInPieces(Buffer.alloc(1 << 20, 0x0a), [1000]).code).toBe('URI_TOO_LONG')
  expect(parseInPieces(`GET / HTTP/1.0\r\nX: ${'x'.repeat(1 << 20)}`, [1000]).code).toBe('HEADER_TOO_LARGE')
})

describe('method', () => {
  test('is the request line method once the line is read, even when the head is then rejected', () => {
    const parser = new RequestParser()
    expect(parser.method).toBe('')
    expect(() => parser.push(Buffer.from('HEAD / HTTP/1.0\r\nBad Header: x\r\n\r\n'))).toThrow(ParseError)
    expect(parser.method).toBe('HEAD')
  })

  test('is empty again after reset()', () => {
    const parser = new RequestParser()
    parser.push(Buffer.from('GET / HTTP/1.0\r\n\r\n'))
    parser.reset()
    expect(parser.method).toBe('')
  })
})
