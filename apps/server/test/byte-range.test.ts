import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { parseRange, type RangeRequest } from '../src/files/byte-range.js'

// RFC 9110 §14.1.2's examples are on a 10000-byte representation.
const SIZE = 10000

const none = { kind: 'none' } as const
const unsatisfiable = { kind: 'unsatisfiable' } as const
const multiple = { kind: 'multiple' } as const
const range = (start: number, end: number) => ({ kind: 'range', start, end }) as const

// `nginx` is the status nginx 1.22 (default max_ranges) answered for the same header and file;
// `differs` names the reviewed reason when this server answers otherwise.
// invalid-ignored: nginx rejects an invalid ranges-specifier with 416; the design ignores it (§14.2 allows both).
// multiple-served-whole: nginx sends multipart/byteranges; this server sends the whole file with 200.
// list-syntax: nginx rejects what RFC 9110 §5.6.1 lets a list hold: empty elements, a tab as OWS.
type Difference = 'invalid-ignored' | 'multiple-served-whole' | 'list-syntax'
interface Case {
  name: string
  header: string
  expected: RangeRequest
  nginx: 200 | 206 | 416 | 'multipart'
  differs?: Difference
}

const TEN_THOUSAND_BYTES: Case[] = [
  { name: 'the first 500 bytes', header: 'bytes=0-499', expected: range(0, 499), nginx: 206 },
  { name: 'the second 500 bytes', header: 'bytes=500-999', expected: range(500, 999), nginx: 206 },
  { name: 'the final 500 bytes as a suffix', header: 'bytes=-500', expected: range(9500, 9999), nginx: 206 },
  { name: 'the final 500 bytes as an open range', header: 'bytes=9500-', expected: range(9500, 9999), nginx: 206 },
  { name: 'a last-pos past the end, clipped', header: 'bytes=9500-20000', expected: range(9500, 9999), nginx: 206 },
  { name: 'a suffix longer than the representation', header: 'bytes=-20000', expected: range(0, 9999), nginx: 206 },
  { name: 'a one-byte range', header: 'bytes=0-0', expected: range(0, 0), nginx: 206 },
  { name: 'the last byte', header: 'bytes=9999-9999', expected: range(9999, 9999), nginx: 206 },
  { name: 'the unit in mixed case', header: 'Bytes=0-1', expected: range(0, 1), nginx: 206 },
  { name: 'the unit in uppercase', header: 'BYTES=0-1', expected: range(0, 1), nginx: 206 },
  { name: 'a space after "="', header: 'bytes= 0-1', expected: range(0, 1), nginx: 206 },
  { name: 'a tab after "="', header: 'bytes=\t0-1', expected: range(0, 1), nginx: 416, differs: 'list-syntax' },
  { name: 'spaces around "-"', header: 'bytes=0 - 1', expected: range(0, 1), nginx: 206 },
  { name: 'leading zeros', header: 'bytes=00000000000000000000001-2', expected: range(1, 2), nginx: 206 },
  { name: 'a 15-digit last-pos', header: 'bytes=0-999999999999999', expected: range(0, 9999), nginx: 206 },
  {
    name: 'one satisfiable range beside one past the end',
    header: 'bytes=0-1,20000-',
    expected: range(0, 1),
    nginx: 206,
  },
  {
    name: 'one range past the end before a satisfiable one',
    header: 'bytes=20000-,0-1',
    expected: range(0, 1),
    nginx: 206,
  },
  {
    name: 'a trailing comma (an empty list element)',
    header: 'bytes=0-1,',
    expected: range(0, 1),
    nginx: 416,
    differs: 'list-syntax',
  },
  {
    name: 'a leading comma (an empty list element)',
    header: 'bytes=,0-1',
    expected: range(0, 1),
    nginx: 416,
    differs: 'list-syntax',
  },
  { name: 'a first-pos at the end', header: 'bytes=10000-', expected: unsatisfiable, nginx: 416 },
  { name: 'a first-pos past the end', header: 'bytes=20000-30000', expected: unsatisfiable, nginx: 416 },
  { name: 'a suffix of zero bytes', header: 'bytes=-0', expected: unsatisfiable, nginx: 416 },
  { name: 'several ranges all past the end', header: 'bytes=10000-,20000-', expected: unsatisfiable, nginx: 416 },
  {
    name: 'the first and last bytes only',
    header: 'bytes=0-0,-1',
    expected: multiple,
    nginx: 'multipart',
    differs: 'multiple-served-whole',
  },
  {
    name: 'the second 500 bytes in two adjacent ranges',
    header: 'bytes=500-600,601-999',
    expected: multiple,
    nginx: 'multipart',
    differs: 'multiple-served-whole',
  },
  {
    name: 'two ranges with spaces around the comma',
    header: 'bytes=0-1 , 2-3',
    expected: multiple,
    nginx: 'multipart',
    differs: 'multiple-served-whole',
  },
  {
    name: 'ranges that add up to more than the whole',
    header: 'bytes=0-5000,4000-9999',
    expected: multiple,
    nginx: 200,
  },
  { name: 'the whole representation twice', header: 'bytes=0-9999,0-9999', expected: multiple, nginx: 200 },
  { name: 'another unit', header: 'items=0-1', expected: none, nginx: 200 },
  { name: 'a space before "="', header: 'bytes =0-1', expected: none, nginx: 200 },
  { name: 'no range at all', header: 'bytes=', expected: none, nginx: 200 },
  {
    name: 'a last-pos before the first-pos',
    header: 'bytes=500-400',
    expected: none,
    nginx: 416,
    differs: 'invalid-ignored',
  },
  {
    name: 'a last-pos one before the first-pos',
    header: 'bytes=1-0',
    expected: none,
    nginx: 416,
    differs: 'invalid-ignored',
  },
  { name: 'a "+" before the first-pos', header: 'bytes=+0-1', expected: none, nginx: 416, differs: 'invalid-ignored' },
  { name: 'a "+" in a suffix', header: 'bytes=-+1', expected: none, nginx: 416, differs: 'invalid-ignored' },
  { name: 'a doubled "-"', header: 'bytes=--1', expected: none, nginx: 416, differs: 'invalid-ignored' },
  { name: 'a lone "-"', header: 'bytes=-', expected: none, nginx: 416, differs: 'invalid-ignored' },
  { name: 'letters', header: 'bytes=abc', expected: none, nginx: 416, differs: 'invalid-ignored' },
  {
    name: 'letters after a valid range',
    header: 'bytes=0-1,abc',
    expected: none,
    nginx: 416,
    differs: 'invalid-ignored',
  },
  { name: 'a hex number', header: 'bytes=0x10-', expected: none, nginx: 416, differs: 'invalid-ignored' },
  {
    name: 'a parameter after the range',
    header: 'bytes=0-1;x',
    expected: none,
    nginx: 416,
    differs: 'invalid-ignored',
  },
  {
    name: 'a 20-digit last-pos',
    header: 'bytes=0-99999999999999999999',
    expected: none,
    nginx: 416,
    differs: 'invalid-ignored',
  },
  {
    name: 'a 20-digit first-pos',
    header: 'bytes=99999999999999999999-',
    expected: none,
    nginx: 416,
    differs: 'invalid-ignored',
  },
]

const EMPTY_FILE: Case[] = [
  { name: 'an open range from 0', header: 'bytes=0-', expected: none, nginx: 200 },
  { name: 'the first byte', header: 'bytes=0-0', expected: none, nginx: 200 },
  { name: 'a range from 0 past the end', header: 'bytes=0-5', expected: none, nginx: 200 },
  { name: 'a suffix', header: 'bytes=-5', expected: none, nginx: 200 },
  { name: 'a suffix of zero bytes', header: 'bytes=-0', expected: none, nginx: 200 },
  { name: 'a range from 0 after one past the end', header: 'bytes=5-6,0-1', expected: none, nginx: 200 },
  { name: 'an open range from 1', header: 'bytes=1-', expected: unsatisfiable, nginx: 416 },
  { name: 'a range past the end', header: 'bytes=5-10', expected: unsatisfiable, nginx: 416 },
  { name: 'letters', header: 'bytes=abc', expected: none, nginx: 416, differs: 'invalid-ignored' },
]

function statusOf(request: RangeRequest): 200 | 206 | 416 {
  if (request.kind === 'range') return 206
  return request.kind === 'unsatisfiable' ? 416 : 200
}

describe.each([
  { representation: 'a 10000-byte representation', size: SIZE, cases: TEN_THOUSAND_BYTES },
  { representation: 'an empty representation', size: 0, cases: EMPTY_FILE },
])('on $representation', ({ size, cases }) => {
  test.each(cases)('$name ($header)', ({ header, expected }) => {
    expect(parseRange(header, size)).toEqual(expected)
  })

  test('the status differs from nginx only for a reviewed reason', () => {
    for (const { header, expected, nginx, differs } of cases) {
      const status = statusOf(expected)
      const sameAsNginx = nginx === 'multipart' ? false : status === nginx
      if (differs === undefined) {
        expect({ header, sameAsNginx }).toEqual({ header, sameAsNginx: true })
      } else if (differs === 'multiple-served-whole') {
        expect({ header, nginx, status }).toEqual({ header, nginx: 'multipart', status: 200 })
      } else if (differs === 'invalid-ignored') {
        expect({ header, nginx, status }).toEqual({ header, nginx: 416, status: 200 })
      } else {
        expect({ header, nginx, status }).toEqual({ header, nginx: 416, status: 206 })
      }
    }
  })
})

const anySize = fc.oneof(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 2 ** 40 }))
const position = fc.oneof(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 2 ** 41 }))
const ows = fc.constantFrom('', ' ', '\t', '  ')
const rangeSpec = fc.oneof(
  fc.tuple(position, fc.option(position, { nil: undefined })).map(([first, last]) => `${first}-${last ?? ''}`),
  position.map((suffix) => `-${suffix}`),
)
const rangeHeader = fc
  .tuple(
    fc.constantFrom('bytes', 'Bytes', 'BYTES'),
    fc.array(fc.tuple(rangeSpec, ows, ows), { minLength: 1, maxLength: 4 }),
  )
  .map(([unit, specs]) => `${unit}=${specs.map(([spec, before, after]) => `${before}${spec}${after}`).join(',')}`)
const latin1Text = fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes).toString('latin1'))

test('any range result lies inside the representation: 0 <= start <= end < size', () => {
  fc.assert(
    fc.property(fc.oneof(rangeHeader, fc.string(), latin1Text), anySize, (header, size) => {
      const result = parseRange(header, size)
      if (result.kind === 'range') {
        expect(0 <= result.start && result.start <= result.end && result.end < size).toBe(true)
      }
    }),
  )
})

test('a single int-range gives what RFC 9110 §14.1.1 says', () => {
  fc.assert(
    fc.property(position, position, fc.integer({ min: 1, max: 2 ** 40 }), (a, b, size) => {
      const [first, last] = a <= b ? [a, b] : [b, a]
      const expected = first >= size ? unsatisfiable : range(first, Math.min(last, size - 1))
      expect(parseRange(`bytes=${first}-${last}`, size)).toEqual(expected)
      expect(parseRange(`bytes=${first}-`, size)).toEqual(first >= size ? unsatisfiable : range(first, size - 1))
    }),
  )
})

test('a single suffix-range gives the last bytes, all of them when it is longer', () => {
  fc.assert(
    fc.property(position, fc.integer({ min: 1, max: 2 ** 40 }), (suffix, size) => {
      const expected = suffix === 0 ? unsatisfiable : range(Math.max(size - suffix, 0), size - 1)
      expect(parseRange(`bytes=-${suffix}`, size)).toEqual(expected)
    }),
  )
})

test('spaces and tabs around the commas do not change the result', () => {
  fc.assert(
    fc.property(
      fc.array(rangeSpec, { minLength: 1, maxLength: 4 }),
      fc.array(ows, { minLength: 8, maxLength: 8 }),
      anySize,
      (specs, spaces, size) => {
        const spaced = specs.map((spec, i) => `${spaces[i * 2]}${spec}${spaces[i * 2 + 1]}`).join(',')
        expect(parseRange(`bytes=${spaced}`, size)).toEqual(parseRange(`bytes=${specs.join(',')}`, size))
      },
    ),
  )
})

test('a position beyond 15 significant digits makes the whole header ignored', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 10n ** 15n, max: 10n ** 30n }), anySize, (huge, size) => {
      expect(parseRange(`bytes=${huge}-`, size)).toEqual(none)
      expect(parseRange(`bytes=0-${huge}`, size)).toEqual(none)
      expect(parseRange(`bytes=-${huge}`, size)).toEqual(none)
    }),
  )
})

test('any string gives one of the four kinds and never throws', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        rangeHeader,
        fc.string(),
        latin1Text.map((text) => `bytes=${text}`),
      ),
      anySize,
      (header, size) => {
        expect(['none', 'unsatisfiable', 'range', 'multiple']).toContain(parseRange(header, size).kind)
      },
    ),
  )
})
