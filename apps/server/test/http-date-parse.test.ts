import fc from 'fast-check'
import { expect, test } from 'vitest'
import { parseHttpDate } from '../src/files/http-date-parse.js'

// RFC 9110 §5.6.7's example instant, in each of its three formats.
const EXAMPLE_MS = Date.UTC(1994, 10, 6, 8, 49, 37)
const NOW_2026_MS = Date.UTC(2026, 5, 1)
const DAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const
const LONG_DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const
const MONTH_NAMES = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const

function utcMs(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): number {
  const date = new Date(0)
  date.setUTCFullYear(year, month, day) // unlike Date.UTC, keeps years 0-99 as they are
  date.setUTCHours(hour, minute, second)
  return date.getTime()
}

const pad = (value: number, width: number) => String(value).padStart(width, '0')

function asctimeOf(date: Date): string {
  const day = String(date.getUTCDate()).padStart(2, ' ')
  const time = `${pad(date.getUTCHours(), 2)}:${pad(date.getUTCMinutes(), 2)}:${pad(date.getUTCSeconds(), 2)}`
  return `${DAY_NAMES[date.getUTCDay()]} ${MONTH_NAMES[date.getUTCMonth()]} ${day} ${time} ${pad(date.getUTCFullYear(), 4)}`
}

function rfc850Of(date: Date): string {
  const time = `${pad(date.getUTCHours(), 2)}:${pad(date.getUTCMinutes(), 2)}:${pad(date.getUTCSeconds(), 2)}`
  const day = `${pad(date.getUTCDate(), 2)}-${MONTH_NAMES[date.getUTCMonth()]}-${pad(date.getUTCFullYear() % 100, 2)}`
  return `${LONG_DAY_NAMES[date.getUTCDay()]}, ${day} ${time} GMT`
}

test.each([
  { name: 'IMF-fixdate', text: 'Sun, 06 Nov 1994 08:49:37 GMT' },
  { name: 'obsolete RFC 850 format', text: 'Sunday, 06-Nov-94 08:49:37 GMT' },
  { name: 'asctime with a space-padded day', text: 'Sun Nov  6 08:49:37 1994' },
  { name: 'asctime with a two-digit day', text: 'Sun Nov 06 08:49:37 1994' },
])('the RFC example in $name parses to its instant', ({ text }) => {
  expect(parseHttpDate(text, NOW_2026_MS)).toBe(EXAMPLE_MS)
})

test.each([
  { name: 'a bare year', text: '2099' },
  { name: 'ISO 8601', text: '1994-11-06T08:49:37Z' },
  { name: 'a date without a time', text: 'Nov 6 1994' },
  { name: 'a numeric date', text: '11/06/1994' },
  { name: 'the empty string', text: '' },
  { name: 'a zone other than GMT', text: 'Sun, 06 Nov 1994 08:49:37 UTC' },
  { name: 'a numeric zone', text: 'Sun, 06 Nov 1994 08:49:37 +0000' },
  { name: 'no zone', text: 'Sun, 06 Nov 1994 08:49:37' },
  { name: 'lowercase names', text: 'sun, 06 nov 1994 08:49:37 gmt' },
  { name: 'an unknown day name', text: 'Xyz, 06 Nov 1994 08:49:37 GMT' },
  { name: 'an unknown month name', text: 'Sun, 06 Noo 1994 08:49:37 GMT' },
  { name: 'a one-digit day in IMF-fixdate', text: 'Sun, 6 Nov 1994 08:49:37 GMT' },
  { name: 'a two-digit year in IMF-fixdate', text: 'Sun, 06 Nov 94 08:49:37 GMT' },
  { name: 'a long day name in IMF-fixdate', text: 'Sunday, 06 Nov 1994 08:49:37 GMT' },
  { name: 'a short day name in RFC 850 format', text: 'Sun, 06-Nov-94 08:49:37 GMT' },
  { name: 'a four-digit year in RFC 850 format', text: 'Sunday, 06-Nov-1994 08:49:37 GMT' },
  { name: 'asctime with one space before a one-digit day', text: 'Sun Nov 6 08:49:37 1994' },
  { name: 'asctime with a zone', text: 'Sun Nov  6 08:49:37 1994 GMT' },
  { name: 'trailing text', text: 'Sun, 06 Nov 1994 08:49:37 GMT, x' },
  { name: 'a leading space', text: ' Sun, 06 Nov 1994 08:49:37 GMT' },
  { name: 'a trailing space', text: 'Sun, 06 Nov 1994 08:49:37 GMT ' },
  { name: 'a sign in a number', text: 'Sun, +6 Nov 1994 08:49:37 GMT' },
  { name: 'day 00', text: 'Sun, 00 Nov 1994 08:49:37 GMT' },
  { name: 'day 31 of a 30-day month', text: 'Thu, 31 Nov 1994 08:49:37 GMT' },
  { name: 'February 29 of a common year', text: 'Wed, 29 Feb 2023 00:00:00 GMT' },
  { name: 'February 29 of a century that is not a leap year', text: 'Thu, 29 Feb 1900 00:00:00 GMT' },
  { name: 'hour 24', text: 'Sun, 06 Nov 1994 24:00:00 GMT' },
  { name: 'minute 60', text: 'Sun, 06 Nov 1994 08:60:00 GMT' },
  { name: 'second 61', text: 'Sun, 06 Nov 1994 08:49:61 GMT' },
  { name: 'a dot for a colon', text: 'Sun, 06 Nov 1994 08.49.37 GMT' },
])('$name is not an HTTP-date', ({ text }) => {
  expect(parseHttpDate(text, NOW_2026_MS)).toBeUndefined()
})

test('February 29 parses in leap years, 2000 included', () => {
  expect(parseHttpDate('Tue, 29 Feb 2000 12:00:00 GMT')).toBe(Date.UTC(2000, 1, 29, 12))
  expect(parseHttpDate('Thu, 29 Feb 2024 00:00:00 GMT')).toBe(Date.UTC(2024, 1, 29))
})

test('a leap second is the first second of the next minute, as epoch time has no leap seconds', () => {
  expect(parseHttpDate('Sat, 31 Dec 2016 23:59:60 GMT')).toBe(Date.UTC(2017, 0, 1))
})

test('years before 100 keep their value, on the proleptic Gregorian calendar', () => {
  expect(parseHttpDate('Sat, 01 Jan 0000 00:00:00 GMT')).toBe(utcMs(0, 0, 1))
  expect(parseHttpDate('Thu, 31 Dec 0099 23:59:59 GMT')).toBe(utcMs(99, 11, 31, 23, 59, 59))
})

test('the day name is not checked against the date, as the grammar does not tie them', () => {
  expect(parseHttpDate('Mon, 06 Nov 1994 08:49:37 GMT')).toBe(EXAMPLE_MS)
})

test.each([
  { now: 2026, twoDigits: '94', year: 1994 },
  { now: 2026, twoDigits: '26', year: 2026 },
  { now: 2026, twoDigits: '00', year: 2000 },
  { now: 2026, twoDigits: '76', year: 2076 },
  { now: 2026, twoDigits: '77', year: 1977 },
  { now: 2090, twoDigits: '41', year: 2041 },
  { now: 2090, twoDigits: '40', year: 2140 },
  { now: 2099, twoDigits: '01', year: 2101 },
])('in $now an RFC 850 year $twoDigits is $year: never more than 50 years ahead', ({ now, twoDigits, year }) => {
  const text = `Friday, 01-Jan-${twoDigits} 00:00:00 GMT`
  expect(parseHttpDate(text, Date.UTC(now, 5, 1))).toBe(utcMs(year, 0, 1))
})

const anyDate = fc.date({
  min: new Date(utcMs(0, 0, 1)),
  max: new Date(utcMs(9999, 11, 31, 23, 59, 59)),
  noInvalidDate: true,
})

test('a date formatted with toUTCString parses back to the same second', () => {
  fc.assert(
    fc.property(anyDate, (date) => {
      expect(parseHttpDate(date.toUTCString())).toBe(Math.floor(date.getTime() / 1000) * 1000)
    }),
  )
})

test('the asctime form of any date parses to the same instant as its IMF-fixdate', () => {
  fc.assert(
    fc.property(anyDate, (date) => {
      expect(parseHttpDate(asctimeOf(date))).toBe(parseHttpDate(date.toUTCString()))
    }),
  )
})

test('the RFC 850 form of a date within 50 years of now parses to the same instant as its IMF-fixdate', () => {
  const within = fc.date({ min: new Date(Date.UTC(1977, 0, 1)), max: new Date(Date.UTC(2076, 11, 31)) })
  fc.assert(
    fc.property(
      within.filter((date) => !Number.isNaN(date.getTime())),
      (date) => {
        expect(parseHttpDate(rfc850Of(date), NOW_2026_MS)).toBe(parseHttpDate(date.toUTCString()))
      },
    ),
  )
})

// Header values arrive decoded as latin1: any byte is one char.
const latin1Text = fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes).toString('latin1'))

test('any string gives undefined or whole seconds, and never throws', () => {
  const nearDate = fc.tuple(anyDate, fc.nat(40), fc.string({ maxLength: 3 })).map(([date, at, insert]) => {
    const text = date.toUTCString()
    return text.slice(0, at) + insert + text.slice(at + 1)
  })
  fc.assert(
    fc.property(fc.oneof(fc.string(), latin1Text, nearDate), (text) => {
      const timeMs = parseHttpDate(text)
      if (timeMs !== undefined) expect(Number.isInteger(timeMs / 1000)).toBe(true)
    }),
  )
})
