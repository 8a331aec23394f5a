import { MAX_TIME_MS, QUOTED_SAFE } from './ascii-fields.js'
import type { AccessRecord } from './types.js'

// nginx's `combined` and the Common Log Format, byte for byte as nginx writes them:
//   combined: $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"
//   common:   the same without the last two fields.
// Every line is pure ASCII (the escape below leaves nothing else), which the writer relies on.

// nginx's ngx_http_log_escape (src/http/modules/ngx_http_log_module.c, escape=default) writes the
// bytes 0x00-0x1f, '"', '\', 0x7f and 0x80-0xff as \xHH with uppercase hex; everything else,
// space included, as it is: the bytes that stay are QUOTED_SAFE's.
const NGINX_SAFE = QUOTED_SAFE

const ESCAPED_BYTE: string[] = []
for (let b = 0; b < 256; b++) ESCAPED_BYTE.push(`\\x${b.toString(16).toUpperCase().padStart(2, '0')}`)

// nginx's $status is "%03ui": 200, and 000 when no status was set.
const STATUS_TEXT: string[] = []
for (let s = 0; s < 1000; s++) STATUS_TEXT.push(String(s).padStart(3, '0'))
const NO_STATUS = '000'

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const TWO_DIGITS: string[] = []
for (let n = 0; n < 60; n++) TWO_DIGITS.push(String(n).padStart(2, '0'))

// Building '[dd/Mon/yyyy:HH:MM:SS +0000]' takes a Date and six getters; lines of the same second
// share it (nginx caches its $time_local per second the same way).
let cachedSecond = Number.NaN
let cachedTimeLocal = ''

/**
 * nginx's `[$time_local]` in UTC: `[02/Dec/2026:01:00:35 +0000]`. A time that is not valid becomes
 * the time of formatting (nginx's $time_local is always the time the line is written), so log tools
 * never meet a line without a date.
 */
function formatTimeLocal(ms: number): string {
  const second = Math.floor((Math.abs(ms) <= MAX_TIME_MS ? ms : Date.now()) / 1000) // also catches NaN
  if (second !== cachedSecond) {
    const date = new Date(second * 1000)
    // nginx: "%02d/%s/%d:%02d:%02d:%02d %c%02i%02i", the year unpadded.
    cachedTimeLocal = `[${TWO_DIGITS[date.getUTCDate()]}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${TWO_DIGITS[date.getUTCHours()]}:${TWO_DIGITS[date.getUTCMinutes()]}:${TWO_DIGITS[date.getUTCSeconds()]} +0000]`
    cachedSecond = second
  }
  return cachedTimeLocal
}

function formatStatus(status: number): string {
  if (!(Number.isSafeInteger(status) && status >= 0)) return NO_STATUS
  return STATUS_TEXT[status] ?? String(status)
}

/** nginx's $body_bytes_sent: a whole number, `0` when nothing (or nothing known) was sent. */
function formatBodyBytes(bodyBytes: number | undefined): string {
  const whole = Math.floor(bodyBytes as number) // undefined gives NaN
  return whole > 0 && whole <= Number.MAX_SAFE_INTEGER ? String(whole) : '0'
}

function isMissing(value: string | undefined): boolean {
  return typeof value !== 'string' || value.length === 0 || value === '-'
}

/**
 * Escapes one value as nginx's default `escape=default` does: `"`, `\`, bytes below 0x20 and bytes
 * from 0x7f up become `\xHH` (uppercase hex). A code unit up to 0xff is one byte, as
 * @threadserve/http10-parser decodes the head (latin1); a character above 0xff is written as its
 * UTF-8 bytes, a lone surrogate as U+FFFD's (what TextEncoder writes). A missing or empty value is `-`.
 */
export function escapeNginxValue(value: string | undefined): string {
  if (typeof value !== 'string' || value.length === 0) return '-'
  const length = value.length
  let i = 0
  while (i < length && NGINX_SAFE[value.charCodeAt(i)] === 1) i++
  if (i === length) return value
  let out = value.slice(0, i)
  for (; i < length; i++) {
    const c = value.charCodeAt(i)
    if (NGINX_SAFE[c] === 1) {
      out += value[i]
    } else if (c <= 0xff) {
      out += ESCAPED_BYTE[c]
    } else if (c < 0x800) {
      out += `${ESCAPED_BYTE[0xc0 | (c >> 6)]}${ESCAPED_BYTE[0x80 | (c & 0x3f)]}`
    } else {
      let codePoint = c
      const next = i + 1 < length ? value.charCodeAt(i + 1) : 0
      if (c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        codePoint = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00)
        i++
      } else if (c >= 0xd800 && c <= 0xdfff) {
        codePoint = 0xfffd
      }
      if (codePoint < 0x10000) {
        out += `${ESCAPED_BYTE[0xe0 | (codePoint >> 12)]}${ESCAPED_BYTE[0x80 | ((codePoint >> 6) & 0x3f)]}${ESCAPED_BYTE[0x80 | (codePoint & 0x3f)]}`
      } else {
        out += `${ESCAPED_BYTE[0xf0 | (codePoint >> 18)]}${ESCAPED_BYTE[0x80 | ((codePoint >> 12) & 0x3f)]}${ESCAPED_BYTE[0x80 | ((codePoint >> 6) & 0x3f)]}${ESCAPED_BYTE[0x80 | (codePoint & 0x3f)]}`
      }
    }
  }
  return out
}

/**
 * nginx's $request, the request line as received: `METHOD TARGET VERSION`. RFC 1945 §4.1: an
 * HTTP/0.9 Simple-Request line has no version, so `HTTP/0.9` (or no version) gives `METHOD TARGET`.
 * Without a method nothing was parsed: `-`, which goaccess and other CLF readers accept.
 */
function formatRequest(record: AccessRecord): string {
  const { method, target, version } = record
  if (isMissing(method)) return '-'
  const path = isMissing(target) ? '-' : target
  if (isMissing(version) || version === 'HTTP/0.9') return escapeNginxValue(`${method} ${path}`)
  return escapeNginxValue(`${method} ${path} ${version}`)
}

function formatCommonFields(record: AccessRecord): string {
  return `${escapeNginxValue(record.clientAddress)} - ${escapeNginxValue(record.remoteUser)} ${formatTimeLocal(record.time)} "${formatRequest(record)}" ${formatStatus(record.status)} ${formatBodyBytes(record.bodyBytes)}`
}

/**
 * One Common Log Format line as nginx would write it, '\n' included; the byte count is the body's.
 * @example
 * formatCommonLine(record) // '127.0.0.1 - - [25/Nov/2026:19:02:38 +0000] "GET /test.txt HTTP/1.0" 200 1000\n'
 */
export function formatCommonLine(record: AccessRecord): string {
  return `${formatCommonFields(record)}\n`
}

/**
 * One line of nginx's `combined` format, byte-compatible with nginx's own, '\n' included.
 * @example
 * formatCombinedLine(record) // '127.0.0.1 - - [25/Nov/2026:19:02:38 +0000] "GET / HTTP/1.1" 200 844 "-" "curl/7.88.1"\n'
 */
export function formatCombinedLine(record: AccessRecord): string {
  return `${formatCommonFields(record)} "${escapeNginxValue(record.referer)}" "${escapeNginxValue(record.userAgent)}"\n`
}
