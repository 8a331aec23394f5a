import { parseNumberWithUnit, type UnitTable } from './parse-number-with-unit.js'

// k/m/g and the IEC names are 1024-based, as nginx reads `client_max_body_size 64m`; only the
// SI spellings kb/mb/gb are 1000-based, as disk and network vendors use them.
const SIZE_UNITS: UnitTable = new Map([
  ['', 1],
  ['b', 1],
  ['k', 1024],
  ['kib', 1024],
  ['kb', 1000],
  ['m', 1024 ** 2],
  ['mib', 1024 ** 2],
  ['mb', 1000 ** 2],
  ['g', 1024 ** 3],
  ['gib', 1024 ** 3],
  ['gb', 1000 ** 3],
])

/** How a size is written, for --help and error messages. */
export const SIZE_HINT = 'bytes, or with a unit: 64MiB, 512k, 1GB'

/**
 * Bytes from a human size: a bare number is bytes; undefined when the text is not a size or the
 * result is not a safe integer.
 * @example
 * parseSize('64MiB') // 67108864
 */
export function parseSize(text: string): number | undefined {
  return parseNumberWithUnit(text, SIZE_UNITS)
}
