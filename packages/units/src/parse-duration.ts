import { parseNumberWithUnit, type UnitTable } from './parse-number-with-unit.js'

// A bare number is seconds, as in nginx's `keepalive_timeout 75`: the unit people mean when they
// leave it out, and one meaning for every app that reads these values.
const DURATION_UNITS: UnitTable = new Map([
  ['', 1000],
  ['ms', 1],
  ['s', 1000],
  ['m', 60_000],
  ['min', 60_000],
  ['h', 3_600_000],
])

/** How a duration is written, for --help and error messages. */
export const DURATION_HINT = 'seconds, or with a unit: 500ms, 10s, 2m'

/**
 * Milliseconds, rounded to a whole number, from a human duration: a bare number is seconds;
 * undefined when the text is not a duration or the result is not a safe integer.
 * @example
 * parseDuration('1.5s') // 1500
 */
export function parseDuration(text: string): number | undefined {
  return parseNumberWithUnit(text, DURATION_UNITS)
}
