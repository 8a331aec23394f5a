// RFC 9110 §5.6.7: a recipient accepts three HTTP-date formats and nothing else. Each has a fixed
// shape, so each is read by position; anything off that shape (ISO 8601, a bare year, a zone other
// than GMT, trailing text, a lowercase month) is not a date. HTTP-date is case-sensitive.
//   IMF-fixdate   Sun, 06 Nov 1994 08:49:37 GMT
//   rfc850-date   Sunday, 06-Nov-94 08:49:37 GMT
//   asctime-date  Sun Nov  6 08:49:37 1994

const SPACE = 0x20
const COMMA = 0x2c
const DASH = 0x2d
const COLON = 0x3a
const DIGIT_0 = 0x30
const DIGIT_9 = 0x39

const DAY_NAMES = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const
const LONG_DAY_NAMES = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'] as const
const MONTH_NAMES = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const

const IMF_FIXDATE_LENGTH = 29
const ASCTIME_LENGTH = 24
// rfc850-date is the long day name followed by 24 fixed characters.
const RFC850_TAIL_LENGTH = 24
const MS_PER_DAY = 86_400_000

// `nowMs` places a two-digit rfc850 year; the other two formats do not read it.
/**
 * Parses an HTTP-date in any of RFC 9110 §5.6.7's three formats to epoch ms (whole seconds), else undefined.
 * @example parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT') // 784111777000
 */
export function parseHttpDate(text: string, nowMs?: number): number | undefined {
  const at3 = text.charCodeAt(3)
  if (at3 === COMMA) return parseImfFixdate(text)
  if (at3 === SPACE) return parseAsctime(text)
  return parseRfc850(text, nowMs ?? Date.now())
}

function parseImfFixdate(text: string): number | undefined {
  if (text.length !== IMF_FIXDATE_LENGTH || indexOfName(text, 0, DAY_NAMES) < 0) return undefined
  if (text.charCodeAt(4) !== SPACE || text.charCodeAt(7) !== SPACE || text.charCodeAt(11) !== SPACE) return undefined
  if (text.charCodeAt(16) !== SPACE || text.charCodeAt(25) !== SPACE || !text.startsWith('GMT', 26)) return undefined
  const day = twoDigitsAt(text, 5)
  const month = indexOfName(text, 8, MONTH_NAMES)
  const year = fourDigitsAt(text, 12)
  return toEpochMs(year, month, day, text, 17)
}

function parseRfc850(text: string, nowMs: number): number | undefined {
  const dayName = indexOfName(text, 0, LONG_DAY_NAMES)
  if (dayName < 0) return undefined
  const at = (LONG_DAY_NAMES[dayName] as string).length
  if (text.length !== at + RFC850_TAIL_LENGTH) return undefined
  if (text.charCodeAt(at) !== COMMA || text.charCodeAt(at + 1) !== SPACE) return undefined
  if (text.charCodeAt(at + 4) !== DASH || text.charCodeAt(at + 8) !== DASH) return undefined
  if (text.charCodeAt(at + 11) !== SPACE || text.charCodeAt(at + 20) !== SPACE) return undefined
  if (!text.startsWith('GMT', at + 21)) return undefined
  const day = twoDigitsAt(text, at + 2)
  const month = indexOfName(text, at + 5, MONTH_NAMES)
  const twoDigitYear = twoDigitsAt(text, at + 9)
  if (twoDigitYear < 0) return undefined
  return toEpochMs(fullYear(twoDigitYear, nowMs), month, day, text, at + 12)
}

function parseAsctime(text: string): number | undefined {
  if (text.length !== ASCTIME_LENGTH || indexOfName(text, 0, DAY_NAMES) < 0) return undefined
  if (text.charCodeAt(7) !== SPACE || text.charCodeAt(10) !== SPACE || text.charCodeAt(19) !== SPACE) return undefined
  const month = indexOfName(text, 4, MONTH_NAMES)
  // date3 = month SP ( 2DIGIT / ( SP DIGIT ) ): "Nov  6" and "Nov 06" are both allowed.
  const day = text.charCodeAt(8) === SPACE ? digitAt(text, 9) : twoDigitsAt(text, 8)
  const year = fourDigitsAt(text, 20)
  return toEpochMs(year, month, day, text, 11)
}

// RFC 9110 §5.6.7: a two-digit year that appears more than 50 years in the future is the most
// recent past year with those digits. Decided by year: the result lies in (now - 50, now + 50].
function fullYear(twoDigitYear: number, nowMs: number): number {
  const nowYear = new Date(nowMs).getUTCFullYear()
  const year = nowYear - (nowYear % 100) + twoDigitYear
  if (year > nowYear + 50) return year - 100
  if (year <= nowYear - 50) return year + 100
  return year
}

// Validates the calendar fields and reads time-of-day at `timeAt`; -1 marks a field that did not parse.
function toEpochMs(year: number, month: number, day: number, text: string, timeAt: number): number | undefined {
  if (year < 0 || month < 0 || day < 1) return undefined
  const leapDay = month === 1 && isLeapYear(year) ? 1 : 0
  if (day > (DAYS_IN_MONTH[month] as number) + leapDay) return undefined
  if (text.charCodeAt(timeAt + 2) !== COLON || text.charCodeAt(timeAt + 5) !== COLON) return undefined
  const hour = twoDigitsAt(text, timeAt)
  const minute = twoDigitsAt(text, timeAt + 3)
  const second = twoDigitsAt(text, timeAt + 6)
  // time-of-day runs 00:00:00 to 23:59:60: 60 is a leap second, which epoch time folds into the next second.
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) return undefined
  return daysFromCivil(year, month + 1, day) * MS_PER_DAY + ((hour * 60 + minute) * 60 + second) * 1000
}

function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
}

// Days since 1970-01-01 of a proleptic Gregorian date (month 1-12), by whole 400-year eras: no
// Date object, and years 0-99 keep their meaning (Date.UTC would move them to 1900-1999).
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yearOfEra = y - era * 400
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear
  return era * 146_097 + dayOfEra - 719_468
}

function indexOfName(text: string, at: number, names: readonly string[]): number {
  for (let i = 0; i < names.length; i++) if (text.startsWith(names[i] as string, at)) return i
  return -1
}

function digitAt(text: string, at: number): number {
  const code = text.charCodeAt(at)
  return code >= DIGIT_0 && code <= DIGIT_9 ? code - DIGIT_0 : -1
}

function twoDigitsAt(text: string, at: number): number {
  const tens = digitAt(text, at)
  const ones = digitAt(text, at + 1)
  return tens < 0 || ones < 0 ? -1 : tens * 10 + ones
}

function fourDigitsAt(text: string, at: number): number {
  const high = twoDigitsAt(text, at)
  const low = twoDigitsAt(text, at + 2)
  return high < 0 || low < 0 ? -1 : high * 100 + low
}
