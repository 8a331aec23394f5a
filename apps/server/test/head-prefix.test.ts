import fc from 'fast-check'
import { expect, test } from 'vitest'
import { HeadPrefix } from '../src/http/head-prefix.js'

function isHeadInPieces(raw: string, cuts: readonly number[]): boolean {
  const bytes = Buffer.from(raw, 'latin1')
  const prefix = new HeadPrefix()
  let from = 0
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    prefix.feed(bytes.subarray(from, cut))
    from = cut
  }
  prefix.feed(bytes.subarray(from))
  return prefix.isHead
}

test.each([
  { name: 'a HEAD request line', raw: `HEAD /${'a'.repeat(100)} HTTP/1.0\r\n`, isHead: true },
  { name: 'a HEAD line after empty lines', raw: '\r\n\nHEAD / HTTP/1.0\r\n', isHead: true },
  { name: 'a bare "HEAD " with the rest still to come', raw: 'HEAD ', isHead: true },
  { name: 'a GET request line', raw: 'GET / HTTP/1.0\r\n', isHead: false },
  { name: 'a lowercase head', raw: 'head / HTTP/1.0\r\n', isHead: false },
  { name: 'a longer token that starts with HEAD', raw: 'HEADER / HTTP/1.0\r\n', isHead: false },
  { name: 'HEAD without its space yet', raw: 'HEAD', isHead: false },
  { name: 'a space before the method', raw: ' HEAD / HTTP/1.0\r\n', isHead: false },
])('$name, split anywhere -> $isHead', ({ raw, isHead }) => {
  for (let cut = 0; cut <= raw.length; cut++) expect(isHeadInPieces(raw, [cut])).toBe(isHead)
})

test('reset forgets the request before', () => {
  const prefix = new HeadPrefix()
  prefix.feed(Buffer.from('HEAD / HTTP/1.0\r\n\r\n'))
  prefix.reset()
  prefix.feed(Buffer.from('GET / HTTP/1.0\r\n\r\n'))
  expect(prefix.isHead).toBe(false)
})

test('any split of any bytes gives the answer of the whole', () => {
  const start = fc.constantFrom('HEAD ', 'GET ', '\r\nHEAD ', 'HEA', '')
  fc.assert(
    fc.property(start, fc.string(), fc.array(fc.nat(), { maxLength: 6 }), (head, rest, seeds) => {
      const raw = head + rest
      const cuts = seeds.map((seed) => seed % (raw.length + 1))
      expect(isHeadInPieces(raw, cuts)).toBe(isHeadInPieces(raw, []))
    }),
  )
})
