/** Multipliers by unit, keys in lower case; the key '' is the unit of a bare number. */
export type UnitTable = ReadonlyMap<string, number>

// A decimal number (no sign, no exponent, a dot only between digits), then an optional unit in
// any case; spaces around and between are allowed, as people type them in shells and env files.
// A regex is fine here: flags and env variables are read once, at start-up.
const NUMBER_WITH_UNIT = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i

/**
 * The number times its unit's multiplier, rounded to a whole number; undefined when the text is
 * not a number with a unit of the table, or the result is not a safe integer.
 */
export function parseNumberWithUnit(text: string, units: UnitTable): number | undefined {
  const match = NUMBER_WITH_UNIT.exec(text)
  if (match === null) return undefined
  // A Map, not an object: a unit such as "constructor" must not find Object.prototype's.
  const factor = units.get((match[2] as string).toLowerCase())
  if (factor === undefined) return undefined
  const value = Math.round(Number(match[1]) * factor)
  return Number.isSafeInteger(value) ? value : undefined
}
