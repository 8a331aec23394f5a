// The Date header changes once a second; formatting it per response would be wasted work on the hot path.
let cachedSecond = -1
let cachedText = ''

/** The current time as an RFC 9110 §5.6.7 IMF-fixdate, recomputed at most once a second. */
export function httpDateNow(now = Date.now()): string {
  const second = Math.floor(now / 1000)
  if (second !== cachedSecond) {
    cachedSecond = second
    cachedText = new Date(second * 1000).toUTCString()
  }
  return cachedText
}

/** Formats a modification time (ms) as an IMF-fixdate, dropping sub-second precision as HTTP does. */
export function formatHttpDate(timeMs: number): string {
  return new Date(Math.floor(timeMs / 1000) * 1000).toUTCString()
}

/** Parses any of the three HTTP date formats (RFC 9110 §5.6.7); undefined when it is not a date. */
export function parseHttpDate(text: string): number | undefined {
  const timeMs = Date.parse(text)
  return Number.isNaN(timeMs) ? undefined : timeMs
}
