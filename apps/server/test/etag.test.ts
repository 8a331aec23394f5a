import fc from 'fast-check'
import { expect, test } from 'vitest'
import { formatEtag, isStrongMatch, matchesEntityTagList } from '../src/files/etag.js'

// A 10000-byte file last modified at RFC 9110's example instant: nginx 1.22 sends this ETag for it.
const MTIME_MS = Date.UTC(1994, 10, 6, 8, 49, 37)
const ETAG = '"2ebc98a1-2710"'

test('the tag is nginx\'s "<mtime seconds hex>-<size hex>"', () => {
  expect(formatEtag(MTIME_MS, 10000)).toBe(ETAG)
})

test('an empty file has size 0 in its tag, as nginx gives it', () => {
  expect(formatEtag(Date.UTC(2030, 0, 1), 0)).toBe('"70dbd880-0"')
})

test('milliseconds of the mtime do not change the tag, as Last-Modified has whole seconds', () => {
  expect(formatEtag(MTIME_MS + 999, 10000)).toBe(ETAG)
})

test('each content coding gets its own tag, with the coding as a suffix', () => {
  expect(formatEtag(MTIME_MS, 10000, 'br')).toBe('"2ebc98a1-2710-br"')
  expect(formatEtag(MTIME_MS, 10000, 'gzip')).toBe('"2ebc98a1-2710-gzip"')
})

test.each([
  { name: 'the same tag', list: ETAG, matches: true },
  { name: 'the weak form of the tag', list: `W/${ETAG}`, matches: true },
  { name: 'the tag among others', list: `"a", ${ETAG}, "b"`, matches: true },
  { name: 'the tag between commas without spaces', list: `"a",${ETAG}`, matches: true },
  { name: 'the tag among empty list elements', list: ` , ,${ETAG} ,`, matches: true },
  { name: 'a star', list: '*', matches: true },
  { name: 'a star with spaces around it', list: ' * ', matches: true },
  { name: 'another tag', list: '"a"', matches: false },
  { name: 'a longer tag that starts like it', list: '"2ebc98a1-27100"', matches: false },
  { name: 'the tag without its quotes', list: '2ebc98a1-2710', matches: false },
  { name: 'a lowercase weak prefix (W/ is case-sensitive)', list: `w/${ETAG}`, matches: false },
  { name: 'the tag beside a star', list: `*, ${ETAG}`, matches: false },
  { name: 'the tag followed by text that is no tag', list: `${ETAG} x`, matches: false },
  { name: 'the tag beside a tag without a closing quote', list: `${ETAG}, "a`, matches: false },
  { name: 'two tags without a comma', list: `"a" ${ETAG}`, matches: false },
  { name: 'the empty string', list: '', matches: false },
  { name: 'only commas', list: ',,', matches: false },
])('If-None-Match with $name: matches is $matches', ({ list, matches }) => {
  expect(matchesEntityTagList(list, ETAG)).toBe(matches)
})

test('a comma inside a quoted tag is part of the tag, not a list separator', () => {
  expect(matchesEntityTagList('"a,b"', '"a,b"')).toBe(true)
  expect(matchesEntityTagList('"a,b"', '"b"')).toBe(false)
})

test('a weak tag of the representation matches its strong form in the list', () => {
  expect(matchesEntityTagList(ETAG, `W/${ETAG}`)).toBe(true)
})

test.each([
  { name: 'the same strong tag', tag: ETAG, etag: ETAG, matches: true },
  { name: 'a weak tag', tag: `W/${ETAG}`, etag: ETAG, matches: false },
  { name: 'the same weak tag on both sides', tag: `W/${ETAG}`, etag: `W/${ETAG}`, matches: false },
  { name: 'another tag', tag: '"a"', etag: ETAG, matches: false },
  { name: 'a tag without a closing quote', tag: '"a', etag: '"a', matches: false },
])('strong comparison of $name: matches is $matches', ({ tag, etag, matches }) => {
  expect(isStrongMatch(tag, etag)).toBe(matches)
})

const anyEtag = fc
  .tuple(fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.nat(), fc.constantFrom(undefined, 'br', 'gzip'))
  .map(([mtimeMs, size, encoding]) => formatEtag(mtimeMs, size, encoding))
const otherTag = fc
  .tuple(fc.boolean(), fc.stringMatching(/^[!#-~]*$/))
  .map(([weak, opaque]) => `${weak ? 'W/' : ''}"${opaque}"`)
const separator = fc.constantFrom(',', ', ', ' ,', ' , ', ',\t')

test('a list holding the tag, strong or weak, anywhere among other tags matches it', () => {
  fc.assert(
    fc.property(
      anyEtag,
      fc.array(otherTag, { maxLength: 4 }),
      fc.nat(),
      fc.boolean(),
      separator,
      (etag, others, at, weak, sep) => {
        const tags = [...others]
        tags.splice(at % (others.length + 1), 0, weak ? `W/${etag}` : etag)
        expect(matchesEntityTagList(tags.join(sep), etag)).toBe(true)
      },
    ),
  )
})

test('a list of tags that differ from it never matches', () => {
  fc.assert(
    fc.property(anyEtag, fc.array(otherTag, { maxLength: 4 }), separator, (etag, others, sep) => {
      const strip = (tag: string) => (tag.startsWith('W/') ? tag.slice(2) : tag)
      fc.pre(others.every((tag) => strip(tag) !== etag))
      expect(matchesEntityTagList(others.join(sep), etag)).toBe(false)
    }),
  )
})

test('two tags are equal exactly when mtime second, size and coding are', () => {
  const parts = fc.tuple(
    fc.integer({ min: 0, max: 4000 }),
    fc.integer({ min: 0, max: 3 }),
    fc.constantFrom(undefined, 'br', 'gzip'),
  )
  fc.assert(
    fc.property(parts, parts, ([mtimeA, sizeA, codingA], [mtimeB, sizeB, codingB]) => {
      const same = Math.floor(mtimeA / 1000) === Math.floor(mtimeB / 1000) && sizeA === sizeB && codingA === codingB
      expect(formatEtag(mtimeA, sizeA, codingA) === formatEtag(mtimeB, sizeB, codingB)).toBe(same)
    }),
  )
})

test('any If-None-Match value gives a boolean and never throws', () => {
  const latin1Text = fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes).toString('latin1'))
  fc.assert(
    fc.property(fc.oneof(fc.string(), latin1Text), anyEtag, (list, etag) => {
      expect(typeof matchesEntityTagList(list, etag)).toBe('boolean')
      expect(isStrongMatch(list, etag)).toBe(list === etag)
    }),
  )
})
