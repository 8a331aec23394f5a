import { UsageError } from './errors.js'

const SIZE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
}
const DURATION_UNITS: Readonly<Record<string, number>> = { '': 1000, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

function splitNumber(text: string): [number, string] | null {
  let end = 0
  while (end < text.length && '0123456789.'.includes(text[end] as string)) end++
  if (end === 0) return null
  const value = Number(text.slice(0, end))
  if (!Number.isFinite(value)) return null
  return [value, text.slice(end).trim().toLowerCase()]
}

/** `1024`, `1KiB`, `1MiB`, `1.5k` (binary), `1MB` (decimal) -> bytes. */
export function parseSize(name: string, text: string): number {
  const parts = splitNumber(text.trim())
  const unit = parts === null ? undefined : SIZE_UNITS[parts[1]]
  if (parts === null || unit === undefined)
    throw new UsageError(`${name}: expected a size such as 1024 or 1KiB, got "${text}"`)
  const bytes = Math.round(parts[0] * unit)
  if (!Number.isSafeInteger(bytes)) throw new UsageError(`${name}: size too large: "${text}"`)
  return bytes
}

/** `10s`, `500ms`, `2m`, or a plain number of seconds -> milliseconds. */
export function parseDuration(name: string, text: string): number {
  const parts = splitNumber(text.trim())
  const unit = parts === null ? undefined : DURATION_UNITS[parts[1]]
  if (parts === null || unit === undefined)
    throw new UsageError(`${name}: expected a duration such as 10s or 500ms, got "${text}"`)
  return parts[0] * unit
}

/** A positive (or, with `min: 0`, non-negative) integer option. */
export function parseCount(name: string, text: string, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  const value = Number(text)
  if (text.trim() === '' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`${name}: expected an integer from ${min} to ${max}, got "${text}"`)
  }
  return value
}
