import { describe, expect, test } from 'vitest'
import { DEFAULT_LIMITS, KNOWN_METHODS, PARSE_ERROR_STATUS, ParseError, RequestParser } from '../src/index.js'
import { INVALID_REQUESTS, VALID_REQUESTS, type ValidRequest } from './fixtures/requests.js'
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

  test('a frozen limits object holds for every parser made with it; a mutable one is read at construction', () => {
    const frozen = Object.freeze({ maxRequestLineBytes: 10 })
    for (let i = 0; i < 3; i++)
      expect(parseInPieces('GET /abc HTTP/1.0\r\n\r\n', [], frozen).code, `parser ${i}`).toBe('URI_TOO_LONG')
    // A bad frozen object is refused every time, not once and then remembered.
    const bad = Object.freeze({ maxHeaderCount: -1 })
    expect(() => new RequestParser(bad)).toThrow(RangeError)
    expect(() => new RequestParser(bad)).toThrow(RangeError)
    // A mutable one: a parser keeps the limits it was made with; the next parser sees the change.
    const mutable = { maxRequestLineBytes: 10 }
    const made = new RequestParser(mutable)
    mutable.maxRequestLineBytes = 100
    expect(() => made.push(Buffer.from('GET /abc HTTP/1.0\r\n\r\n'))).toThrow(ParseError)
    expect(parseInPieces('GET /abc HTTP/1.0\r\n\r\n', [], mutable).code).toBeNull()
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
