import fc from 'fast-check'
import { expect, test } from 'vitest'
import { DURATION_HINT, parseDuration } from '../src/index.js'

test.each([
  { name: 'a bare number is seconds', text: '10', ms: 10_000 },
  { name: 'a bare fraction is seconds', text: '0.5', ms: 500 },
  { name: 'zero', text: '0', ms: 0 },
  { name: 'ms', text: '500ms', ms: 500 },
  { name: 's', text: '10s', ms: 10_000 },
  { name: 'a fraction of a second', text: '1.5s', ms: 1500 },
  { name: 'm is minutes', text: '2m', ms: 120_000 },
  { name: 'min is minutes', text: '2min', ms: 120_000 },
  { name: 'h', text: '1h', ms: 3_600_000 },
  { name: 'a fraction of a millisecond rounds to whole milliseconds', text: '1.5ms', ms: 2 },
  { name: 'units in any case', text: '10S', ms: 10_000 },
  { name: 'spaces around and before the unit', text: ' 250 ms ', ms: 250 },
])('$name: "$text"', ({ text, ms }) => {
  expect(parseDuration(text)).toBe(ms)
})

test.each([
  { name: 'empty', text: '' },
  { name: 'a word', text: 'soon' },
  { name: 'a unit alone', text: 'ms' },
  { name: 'an unknown unit', text: '1d' },
  { name: 'a size unit', text: '10k' },
  { name: 'two units', text: '1h 30m' },
  { name: 'a negative number', text: '-5s' },
  { name: 'an exponent', text: '1e3' },
  { name: 'a leading dot', text: '.5s' },
  { name: 'two dots', text: '1.2.3s' },
  { name: 'past the largest safe integer', text: '9007199254740993ms' },
  { name: 'a unit that pushes it past the largest safe integer', text: '9007199254741h' },
])('not a duration: $name ("$text")', ({ text }) => {
  expect(parseDuration(text)).toBeUndefined()
})

const UNITS = [
  { unit: '', factor: 1000 },
  { unit: 'ms', factor: 1 },
  { unit: 's', factor: 1000 },
  { unit: 'm', factor: 60_000 },
  { unit: 'min', factor: 60_000 },
  { unit: 'h', factor: 3_600_000 },
]

test('a whole number written with any unit, in any case, parses back to itself times the unit', () => {
  fc.assert(
    fc.property(fc.nat(), fc.constantFrom(...UNITS), fc.boolean(), (count, { unit, factor }, spaced) => {
      const text = `${count}${spaced ? ' ' : ''}${unit}`
      const ms = count * factor
      expect(parseDuration(text)).toBe(Number.isSafeInteger(ms) ? ms : undefined)
      expect(parseDuration(text.toUpperCase())).toBe(parseDuration(text))
    }),
  )
})

test('milliseconds written as bare seconds with a fraction parse back to the same milliseconds', () => {
  // Up to about 31 years: far past any timer, and small enough that ms / 1000 * 1000 stays exact to 0.5.
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 10 ** 12 }), (ms) => {
      expect(parseDuration(String(ms / 1000))).toBe(ms)
    }),
  )
})

test('any text gives whole milliseconds or undefined, never a throw', () => {
  fc.assert(
    fc.property(fc.string(), (text) => {
      const ms = parseDuration(text)
      if (ms !== undefined) expect(Number.isSafeInteger(ms) && ms >= 0).toBe(true)
    }),
  )
})

test('every example in DURATION_HINT is a duration', () => {
  const examples = DURATION_HINT.slice(DURATION_HINT.indexOf(':') + 1).split(',')
  expect(examples.length).toBeGreaterThan(0)
  for (const example of examples) expect(parseDuration(example)).toBeGreaterThan(0)
})
