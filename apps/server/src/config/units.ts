// Human-friendly sizes ("64MiB", "512k", "1048576") and durations ("10s", "500ms", "2m") for flags
// and environment variables. Plain numbers are bytes and milliseconds.

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

const DURATION_UNITS: Readonly<Record<string, number>> = { '': 1, ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 }

const NUMBER_WITH_UNIT = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i

function parseWithUnits(text: string, units: Readonly<Record<string, number>>): number | undefined {
  const match = NUMBER_WITH_UNIT.exec(text)
  if (match === null) return undefined
  const factor = units[(match[2] ?? '').toLowerCase()]
  if (factor === undefined) return undefined
  return Math.round(Number(match[1]) * factor)
}

/** Parses "64MiB", "16k", "1.5GiB" or a plain byte count; undefined when it is not one. */
export function parseSize(text: string): number | undefined {
  return parseWithUnits(text, SIZE_UNITS)
}

/** Parses "10s", "500ms", "2m" or plain milliseconds; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  return parseWithUnits(text, DURATION_UNITS)
}
