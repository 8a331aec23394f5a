import fc from 'fast-check'
import { expect, test } from 'vitest'
import { parseSize, SIZE_HINT } from '../src/index.js'

const KiB = 1024
const MiB = 1024 ** 2
const GiB = 1024 ** 3

test.each([
  { name: 'a bare number is bytes', text: '1048576', bytes: 1048576 },
  { name: 'zero bytes', text: '0', bytes: 0 },
  { name: 'b is bytes', text: '512b', bytes: 512 },
  { name: 'k is 1024-based', text: '16k', bytes: 16 * KiB },
  { name: 'KiB is 1024-based', text: '1KiB', bytes: KiB },
  { name: 'kB is 1000-based', text: '1kB', bytes: 1000 },
  { name: 'MiB', text: '64MiB', bytes: 64 * MiB },
  { name: 'm is 1024-based', text: '8m', bytes: 8 * MiB },
  { name: 'MB is 1000-based', text: '1MB', bytes: 1_000_000 },
  { name: 'GiB with a fraction', text: '1.5GiB', bytes: 1.5 * GiB },
  { name: 'g is 1024-based', text: '2g', bytes: 2 * GiB },
  { name: 'GB is 1000-based', text: '1GB', bytes: 1_000_000_000 },
  { name: 'a fraction of a KiB', text: '1.5KiB', bytes: 1536 },
  { name: 'a fraction rounds to whole bytes', text: '0.4k', bytes: 410 },
  { name: 'units in any case', text: '1mIb', bytes: MiB },
  { name: 'spaces around and before the unit', text: ' 10 k ', bytes: 10 * KiB },
  { name: 'the largest safe integer', text: '9007199254740991', bytes: Number.MAX_SAFE_INTEGER },
])('$name: "$text"', ({ text, bytes }) => {
  expect(parseSize(text)).toBe(bytes)
})

test.each([
  { name: 'empty', text: '' },
  { name: 'only spaces', text: '   ' },
  { name: 'a word', text: 'lots' },
  { name: 'a unit alone', text: 'k' },
  { name: 'an unknown unit', text: '1XB' },
  { name: 'a duration unit', text: '10s' },
  { name: 'a unit twice', text: '1kk' },
  { name: 'a negative number', text: '-1' },
  { name: 'a plus sign', text: '+1' },
  { name: 'an exponent', text: '1e3' },
  { name: 'hexadecimal', text: '0x10' },
  { name: 'a leading dot', text: '.5k' },
  { name: 'a trailing dot', text: '5.k' },
  { name: 'two dots', text: '1.2.3' },
  { name: 'a space inside the number', text: '1 0' },
  { name: 'a unit that is a name on Object.prototype', text: '1constructor' },
  { name: 'past the largest safe integer', text: '9007199254740993' },
  { name: 'a unit that pushes it past the largest safe integer', text: '9000000GiB' },
  { name: 'Infinity', text: 'Infinity' },
])('not a size: $name ("$text")', ({ text }) => {
  expect(parseSize(text)).toBeUndefined()
})

const UNITS = [
  { unit: '', factor: 1 },
  { unit: 'b', factor: 1 },
  { unit: 'k', factor: KiB },
  { unit: 'KiB', factor: KiB },
  { unit: 'kB', factor: 1000 },
  { unit: 'm', factor: MiB },
  { unit: 'MiB', factor: MiB },
  { unit: 'MB', factor: 1000 ** 2 },
  { unit: 'g', factor: GiB },
  { unit: 'GiB', factor: GiB },
  { unit: 'GB', factor: 1000 ** 3 },
]

test('a whole number written with any unit, in any case, parses back to itself times the unit', () => {
  fc.assert(
    fc.property(fc.nat(), fc.constantFrom(...UNITS), fc.boolean(), (count, { unit, factor }, spaced) => {
      const text = `${count}${spaced ? ' ' : ''}${unit}`
      const bytes = count * factor
      expect(parseSize(text)).toBe(Number.isSafeInteger(bytes) ? bytes : undefined)
      expect(parseSize(text.toUpperCase())).toBe(parseSize(text))
    }),
  )
})

test('any text gives a whole number of bytes or undefined, never a throw', () => {
  fc.assert(
    fc.property(fc.string(), (text) => {
      const bytes = parseSize(text)
      if (bytes !== undefined) expect(Number.isSafeInteger(bytes) && bytes >= 0).toBe(true)
    }),
  )
})

test('every example in SIZE_HINT is a size', () => {
  const examples = SIZE_HINT.slice(SIZE_HINT.indexOf(':') + 1).split(',')
  expect(examples.length).toBeGreaterThan(0)
  for (const example of examples) expect(parseSize(example)).toBeGreaterThan(0)
})
