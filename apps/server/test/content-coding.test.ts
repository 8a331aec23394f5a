import fc from 'fast-check'
import { expect, test } from 'vitest'
import { acceptedPrecompressed } from '../src/files/content-coding.js'

// Which precompressed siblings (`.br`, `.gz`) an Accept-Encoding allows (RFC 9110 §12.5.3), in
// the order they are tried: brotli first, whatever order or weights the client lists.

const codingsFor = (header: string | undefined): string[] => acceptedPrecompressed(header).map((c) => c.coding)

test.each([
  { name: 'no header', header: undefined, codings: [] },
  { name: 'an empty header', header: '', codings: [] },
  { name: 'only spaces', header: '   ', codings: [] },
  { name: 'gzip', header: 'gzip', codings: ['gzip'] },
  { name: 'br', header: 'br', codings: ['br'] },
  { name: 'gzip then br: br is still tried first', header: 'gzip, br', codings: ['br', 'gzip'] },
  { name: "curl's --compressed list", header: 'deflate, gzip, br, zstd', codings: ['br', 'gzip'] },
  { name: "a browser's list", header: 'gzip, deflate, br, zstd', codings: ['br', 'gzip'] },
  { name: 'a lower q for br: the order stays', header: 'br;q=0.1, gzip;q=1', codings: ['br', 'gzip'] },
  { name: 'x-gzip, the old name of gzip', header: 'x-gzip', codings: ['gzip'] },
  { name: 'codings in another case', header: 'GZip, BR', codings: ['br', 'gzip'] },
  { name: 'spaces around names and parameters', header: ' gzip ; q=0.5 ,br ', codings: ['br', 'gzip'] },
  { name: '*', header: '*', codings: ['br', 'gzip'] },
  { name: '* with q=0', header: '*;q=0', codings: [] },
  { name: '* beside gzip;q=0', header: '*, gzip;q=0', codings: ['br'] },
  { name: 'br;q=0 before *', header: 'br;q=0, *', codings: ['gzip'] },
  { name: 'a listed coding wins over * with q=0', header: 'gzip, *;q=0', codings: ['gzip'] },
  { name: 'gzip;q=0', header: 'gzip;q=0', codings: [] },
  { name: 'br;q=0 and gzip', header: 'br;q=0, gzip', codings: ['gzip'] },
  { name: 'q=0.000', header: 'gzip;q=0.000', codings: [] },
  { name: 'the smallest q above 0', header: 'gzip;q=0.001', codings: ['gzip'] },
  { name: 'Q in uppercase', header: 'gzip;Q=0', codings: [] },
  { name: 'a q above 1 (not a qvalue)', header: 'gzip;q=1.5', codings: [] },
  { name: 'a q that is not a number', header: 'gzip;q=high', codings: [] },
  { name: 'a parameter before q', header: 'gzip;level=9;q=0', codings: [] },
  { name: 'identity only', header: 'identity', codings: [] },
  { name: 'other codings only', header: 'deflate, zstd, compress', codings: [] },
  { name: 'a coding that only starts like one', header: 'gzipped, brotli', codings: [] },
])('$name -> $codings', ({ header, codings }) => {
  expect(codingsFor(header)).toEqual(codings)
})

test('each coding comes with the suffix of its sibling file', () => {
  expect(acceptedPrecompressed('br, gzip')).toEqual([
    { coding: 'br', suffix: '.br' },
    { coding: 'gzip', suffix: '.gz' },
  ])
})

test('any header gives br, gzip, both in that order, or none', () => {
  const member = fc.oneof(
    fc.constantFrom('br', 'gzip', 'x-gzip', '*', 'identity', 'deflate', 'BR', ''),
    fc.string({ maxLength: 8 }),
  )
  const weight = fc.oneof(fc.constant(''), fc.constantFrom(';q=0', ';q=1', ';q=0.5', ';q=', ';q=2'))
  const header = fc
    .array(fc.tuple(member, weight), { maxLength: 6 })
    .map((list) => list.map((m) => m.join('')).join(','))
  fc.assert(
    fc.property(header, (text) => {
      expect([[], ['br'], ['gzip'], ['br', 'gzip']]).toContainEqual(codingsFor(text))
    }),
  )
})
