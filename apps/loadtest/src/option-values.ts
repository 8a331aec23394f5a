import { DURATION_HINT, parseDuration, parseSize, SIZE_HINT } from '@threadserve/units'
import { UsageError } from './errors.js'

// Option text to values, each failure one UsageError line naming the option (exit code 2).

/** A size option (`1024`, `1KiB`, `1MB`) in bytes. */
export function parseSizeOption(name: string, text: string): number {
  const bytes = parseSize(text)
  if (bytes === undefined) throw new UsageError(`${name}: expected ${SIZE_HINT}; got "${text}"`)
  return bytes
}

/** A duration option (`10s`, `500ms`, `2m`, or bare seconds) in milliseconds. */
export function parseDurationOption(name: string, text: string): number {
  const ms = parseDuration(text)
  if (ms === undefined) throw new UsageError(`${name}: expected ${DURATION_HINT}; got "${text}"`)
  return ms
}

/** A positive (or, with `min: 0`, non-negative) integer option. */
export function parseCount(name: string, text: string, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  const value = Number(text)
  if (text.trim() === '' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`${name}: expected an integer from ${min} to ${max}, got "${text}"`)
  }
  return value
}
