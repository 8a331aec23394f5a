import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { RequestParser } from '../src/index.js'
import { SMALL_LIMITS, VALID_REQUESTS } from './fixtures/requests.js'
import { errorCodeOf, parseByteByByte, parseInPieces, toBuffer } from './helpers.js'

// Properties of the request parser over generated inputs (request-parser.test.ts has the tables):
// any split of a valid request parses alike, random bytes give a result or a ParseError, and
// hostile inputs finish.

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
