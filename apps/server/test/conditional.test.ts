import fc from 'fast-check'
import { expect, test } from 'vitest'
import { type ConditionalRequest, evaluatePreconditions } from '../src/files/conditional.js'
import { formatEtag } from '../src/files/etag.js'

// A 10000-byte file modified at 12:34:56.789 on 2024-03-01; the two-digit RFC 850 year 24 stays
// 2024 for as long as "now" is before 2074.
const MTIME_MS = Date.UTC(2024, 2, 1, 12, 34, 56, 789)
const FILE = { etag: formatEtag(MTIME_MS, 10000), lastModifiedMs: MTIME_MS, size: 10000 }
const ETAG = FILE.etag
const LAST_MODIFIED = 'Fri, 01 Mar 2024 12:34:56 GMT'
const A_SECOND_LATER = 'Fri, 01 Mar 2024 12:34:57 GMT'
const A_SECOND_EARLIER = 'Fri, 01 Mar 2024 12:34:55 GMT'

const ok = { status: 200 }
const notModified = { status: 304 }
const notSatisfiable = { status: 416 }
const partial = (start: number, end: number) => ({ status: 206, range: { start, end } })

test.each<{ name: string; request: ConditionalRequest; expected: object }>([
  { name: 'no conditional header gives the whole file', request: {}, expected: ok },
  { name: 'If-None-Match with the tag gives 304', request: { ifNoneMatch: ETAG }, expected: notModified },
  { name: 'If-None-Match with the weak tag gives 304', request: { ifNoneMatch: `W/${ETAG}` }, expected: notModified },
  { name: 'If-None-Match * gives 304', request: { ifNoneMatch: '*' }, expected: notModified },
  { name: 'If-None-Match with another tag gives 200', request: { ifNoneMatch: '"x"' }, expected: ok },
  { name: 'If-None-Match that is no list gives 200', request: { ifNoneMatch: 'garbage' }, expected: ok },
  {
    name: 'If-None-Match that does not match wins over an If-Modified-Since that would give 304',
    request: { ifNoneMatch: '"x"', ifModifiedSince: LAST_MODIFIED },
    expected: ok,
  },
  {
    name: 'If-None-Match that matches wins over an If-Modified-Since before Last-Modified',
    request: { ifNoneMatch: ETAG, ifModifiedSince: A_SECOND_EARLIER },
    expected: notModified,
  },
  {
    name: 'If-Modified-Since equal to Last-Modified gives 304',
    request: { ifModifiedSince: LAST_MODIFIED },
    expected: notModified,
  },
  {
    name: 'If-Modified-Since after Last-Modified gives 304',
    request: { ifModifiedSince: A_SECOND_LATER },
    expected: notModified,
  },
  {
    name: 'If-Modified-Since before Last-Modified gives 200',
    request: { ifModifiedSince: A_SECOND_EARLIER },
    expected: ok,
  },
  {
    name: 'If-Modified-Since in RFC 850 format gives 304',
    request: { ifModifiedSince: 'Friday, 01-Mar-24 12:34:56 GMT' },
    expected: notModified,
  },
  {
    name: 'If-Modified-Since in asctime format gives 304',
    request: { ifModifiedSince: 'Fri Mar  1 12:34:56 2024' },
    expected: notModified,
  },
  { name: 'If-Modified-Since that is a bare year gives 200', request: { ifModifiedSince: '2099' }, expected: ok },
  {
    name: 'If-Modified-Since in ISO 8601 gives 200',
    request: { ifModifiedSince: '2099-01-01T00:00:00Z' },
    expected: ok,
  },
  {
    name: 'If-Modified-Since with two dates gives 200',
    request: { ifModifiedSince: `${LAST_MODIFIED}, ${LAST_MODIFIED}` },
    expected: ok,
  },
  { name: 'a Range gives 206 with that range', request: { range: 'bytes=0-499' }, expected: partial(0, 499) },
  { name: 'a suffix Range gives the last bytes', request: { range: 'bytes=-500' }, expected: partial(9500, 9999) },
  { name: 'an unsatisfiable Range gives 416', request: { range: 'bytes=10000-' }, expected: notSatisfiable },
  { name: 'an invalid Range gives the whole file', request: { range: 'bytes=500-400' }, expected: ok },
  { name: 'a Range in another unit gives the whole file', request: { range: 'items=0-1' }, expected: ok },
  { name: 'several ranges give the whole file', request: { range: 'bytes=0-0,-1' }, expected: ok },
  {
    name: 'If-None-Match that matches gives 304 even with a Range',
    request: { ifNoneMatch: ETAG, range: 'bytes=0-1' },
    expected: notModified,
  },
  {
    name: 'If-Modified-Since that holds gives 304 even with an unsatisfiable Range',
    request: { ifModifiedSince: LAST_MODIFIED, range: 'bytes=10000-' },
    expected: notModified,
  },
  {
    name: 'If-Modified-Since that fails still lets the Range apply',
    request: { ifModifiedSince: A_SECOND_EARLIER, range: 'bytes=0-1' },
    expected: partial(0, 1),
  },
  {
    name: 'If-Range with the tag lets the Range apply',
    request: { ifRange: ETAG, range: 'bytes=0-1' },
    expected: partial(0, 1),
  },
  {
    name: 'If-Range with the weak tag gives the whole file',
    request: { ifRange: `W/${ETAG}`, range: 'bytes=0-1' },
    expected: ok,
  },
  {
    name: 'If-Range with another tag gives the whole file',
    request: { ifRange: '"x"', range: 'bytes=0-1' },
    expected: ok,
  },
  {
    name: 'If-Range with Last-Modified lets the Range apply',
    request: { ifRange: LAST_MODIFIED, range: 'bytes=0-1' },
    expected: partial(0, 1),
  },
  {
    name: 'If-Range with Last-Modified in asctime format lets the Range apply',
    request: { ifRange: 'Fri Mar  1 12:34:56 2024', range: 'bytes=0-1' },
    expected: partial(0, 1),
  },
  {
    name: 'If-Range with a date after Last-Modified gives the whole file',
    request: { ifRange: A_SECOND_LATER, range: 'bytes=0-1' },
    expected: ok,
  },
  {
    name: 'If-Range with a date before Last-Modified gives the whole file',
    request: { ifRange: A_SECOND_EARLIER, range: 'bytes=0-1' },
    expected: ok,
  },
  {
    name: 'If-Range that is neither tag nor date gives the whole file',
    request: { ifRange: 'x', range: 'bytes=0-1' },
    expected: ok,
  },
  {
    name: 'If-Range that fails gives the whole file even for an unsatisfiable Range',
    request: { ifRange: '"x"', range: 'bytes=10000-' },
    expected: ok,
  },
  { name: 'If-Range without a Range gives the whole file', request: { ifRange: ETAG }, expected: ok },
])('$name', ({ request, expected }) => {
  expect(evaluatePreconditions(request, FILE)).toEqual(expected)
})

test('a Range on an empty file gives the whole (empty) file, as nginx does', () => {
  const empty = { etag: formatEtag(MTIME_MS, 0), lastModifiedMs: MTIME_MS, size: 0 }
  expect(evaluatePreconditions({ range: 'bytes=0-' }, empty)).toEqual(ok)
  expect(evaluatePreconditions({ range: 'bytes=1-' }, empty)).toEqual(notSatisfiable)
})

test('If-Modified-Since compares whole seconds: any millisecond of the Last-Modified second gives 304', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 999 }), (milliseconds) => {
      const file = { ...FILE, lastModifiedMs: Date.UTC(2024, 2, 1, 12, 34, 56, milliseconds) }
      expect(evaluatePreconditions({ ifModifiedSince: LAST_MODIFIED }, file)).toEqual(notModified)
      expect(evaluatePreconditions({ ifRange: LAST_MODIFIED, range: 'bytes=0-0' }, file)).toEqual(partial(0, 0))
    }),
  )
})

test('any If-Modified-Since date gives 304 exactly when Last-Modified is not after it', () => {
  const anyDate = fc.date({
    min: new Date(Date.UTC(1970, 0, 1)),
    max: new Date(Date.UTC(2100, 0, 1)),
    noInvalidDate: true,
  })
  fc.assert(
    fc.property(anyDate, anyDate, (since, modified) => {
      const file = { ...FILE, lastModifiedMs: modified.getTime() }
      const notAfter = Math.floor(modified.getTime() / 1000) <= Math.floor(since.getTime() / 1000)
      expect(evaluatePreconditions({ ifModifiedSince: since.toUTCString() }, file)).toEqual(notAfter ? notModified : ok)
    }),
  )
})

const latin1Text = fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes).toString('latin1'))
const field = fc.option(fc.oneof(fc.string(), latin1Text, fc.constantFrom(ETAG, LAST_MODIFIED, 'bytes=0-1', '*')), {
  nil: undefined,
})

test('any header values give one of the four statuses, a 206 always inside the file, and never throw', () => {
  fc.assert(
    fc.property(field, field, field, field, fc.nat(20), (ifNoneMatch, ifModifiedSince, range, ifRange, size) => {
      const outcome = evaluatePreconditions({ ifNoneMatch, ifModifiedSince, range, ifRange }, { ...FILE, size })
      expect([200, 206, 304, 416]).toContain(outcome.status)
      if (outcome.status === 206) {
        expect(0 <= outcome.range.start && outcome.range.start <= outcome.range.end && outcome.range.end < size).toBe(
          true,
        )
      }
    }),
  )
})
