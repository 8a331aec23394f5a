import * as z from 'zod/mini'

// The checks settings' values must pass, shared by the tables in settings-*.ts.

// Node timers take at most 2^31 - 1 ms (about 24.8 days); a longer one fires at once.
export const MAX_TIMER_MS = 2 ** 31 - 1

export function between(min: number, max: number) {
  return z.number().check(z.int(), z.gte(min), z.lte(max))
}
export const NON_EMPTY = z.string().check(z.minLength(1))
export const FLAG = z.boolean()

// A header value we send as given: visible ASCII and spaces only (RFC 9110 §5.5), never a CR or
// LF that would end the header early.
export const HEADER_VALUE = z.string().check(z.regex(/^[\x20-\x7e]*$/, 'expected printable ASCII, no line breaks'))
// --cors: '' (off), '*', or one origin as a browser sends it: scheme://host[:port], no path.
export const CORS_ORIGIN = z
  .string()
  .check(
    z.regex(
      /^(|\*|https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?|https?:\/\/\[[0-9A-Fa-f:.]+\](:\d{1,5})?)$/,
      "expected '*' or an origin such as https://example.com",
    ),
  )

// --health-path: '' (off) or an absolute path of RFC 3986 pchars without '%', so that the raw
// request target can be compared with it as it is, never decoded.
export const HEALTH_PATH = z
  .string()
  .check(z.regex(/^(|\/[A-Za-z0-9._~!$&'()*+,;=:@/-]*)$/, "expected a path such as '/healthz' (no '%', '?' or spaces)"))

export const CREDENTIALS = z.nullable(z.array(z.strictObject({ user: z.string(), hash: z.string() })))
