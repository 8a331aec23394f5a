import { BACKSLASH, MAX_TIME_MS, QUOTE, QUOTED_SAFE } from './ascii-fields.js'
import type { AccessRecord } from './types.js'

// Both formats produce pure ASCII lines (everything else is escaped), so a line's length in UTF-16
// code units is its length in bytes: the writer sizes its batches without Buffer.byteLength.

// Bytes a text-format field keeps as they are: visible ASCII except '"' and '\'. Space is escaped
// too, so the quoted request line always splits into exactly three fields.
const TEXT_SAFE = new Uint8Array(128)
for (let c = 0x21; c <= 0x7e; c++) TEXT_SAFE[c] = 1
TEXT_SAFE[QUOTE] = TEXT_SAFE[BACKSLASH] = 0

// Characters a JSON string keeps as they are: RFC 8259 §7 requires escaping '"', '\' and controls;
// DEL and non-ASCII are escaped as well to keep the line ASCII.
const JSON_SAFE = QUOTED_SAFE

const HEX2: string[] = []
for (let b = 0; b < 256; b++) HEX2.push(b.toString(16).padStart(2, '0'))

// How each ASCII character that JSON_SAFE rejects is written: the short forms of RFC 8259 §7 where
// they exist, \u00XX for the rest.
const JSON_ASCII_ESCAPES: string[] = []
for (let c = 0; c < 128; c++) JSON_ASCII_ESCAPES.push(`\\u00${HEX2[c]}`)
JSON_ASCII_ESCAPES[0x08] = '\\b'
JSON_ASCII_ESCAPES[0x09] = '\\t'
JSON_ASCII_ESCAPES[0x0a] = '\\n'
JSON_ASCII_ESCAPES[0x0c] = '\\f'
JSON_ASCII_ESCAPES[0x0d] = '\\r'
JSON_ASCII_ESCAPES[QUOTE] = '\\"'
JSON_ASCII_ESCAPES[BACKSLASH] = '\\\\'

const MILLIS: string[] = []
for (let ms = 0; ms < 1000; ms++) MILLIS.push(String(ms).padStart(3, '0'))

// MAX_TIME_MS: toISOString throws beyond it.

// toISOString allocates a Date and a string per call; a busy worker logs many lines per second, so
// the 'YYYY-MM-DDTHH:MM:SS.' prefix is cached per second (nginx caches its log time the same way).
let cachedSecond = Number.NaN
let cachedPrefix = ''

/** ISO 8601 UTC time with milliseconds, or undefined when `ms` is not a valid time. */
function formatIsoTime(ms: number): string | undefined {
  if (!(Math.abs(ms) <= MAX_TIME_MS)) return undefined // also catches NaN
  const whole = Math.floor(ms)
  const second = Math.floor(whole / 1000)
  if (second !== cachedSecond) {
    const iso = new Date(second * 1000).toISOString()
    cachedPrefix = iso.slice(0, iso.length - 4) // drop 'mmmZ'; years past 9999 make the prefix longer
    cachedSecond = second
  }
  return `${cachedPrefix}${MILLIS[whole - second * 1000]}Z`
}

function formatNumber(n: number | undefined): string | undefined {
  return Number.isFinite(n) ? String(n) : undefined
}

function formatDurationMs(durationMs: number): string | undefined {
  // Microsecond resolution is what a request timer can honestly claim; it also turns
  // 1.2000000000000002 into 1.2.
  return Number.isFinite(durationMs) ? String(Math.round(durationMs * 1000) / 1000) : undefined
}

/**
 * Escapes one text-format field the way nginx does (`\xHH`): '"', '\', space, controls, DEL and
 * non-ASCII bytes. Code units above 0xff (the caller decoded the target as something other than
 * latin1) become `\uHHHH`. A hostile target can therefore neither end the quoted request line nor
 * start a new line (log injection).
 */
export function escapeTextField(value: string): string {
  if (typeof value !== 'string' || value.length === 0) return '-'
  const length = value.length
  let i = 0
  while (i < length && TEXT_SAFE[value.charCodeAt(i)] === 1) i++
  if (i === length) return value
  let out = value.slice(0, i)
  for (; i < length; i++) {
    const c = value.charCodeAt(i)
    if (TEXT_SAFE[c] === 1) out += value[i]
    else if (c <= 0xff) out += `\\x${HEX2[c]}`
    else out += `\\u${HEX2[c >> 8]}${HEX2[c & 0xff]}`
  }
  return out
}

/** A JSON string literal (quotes included) that is pure ASCII, JSON.parse gives back `value`; null for no string. */
export function formatJsonString(value: string | undefined): string {
  if (typeof value !== 'string') return 'null'
  const length = value.length
  let i = 0
  while (i < length && JSON_SAFE[value.charCodeAt(i)] === 1) i++
  if (i === length) return `"${value}"`
  let out = `"${value.slice(0, i)}`
  for (; i < length; i++) {
    const c = value.charCodeAt(i)
    if (JSON_SAFE[c] === 1) out += value[i]
    else if (c < 128) out += JSON_ASCII_ESCAPES[c]
    else out += `\\u${HEX2[c >> 8]}${HEX2[c & 0xff]}`
  }
  return `${out}"`
}

/**
 * One Common-Log-Format-like line, '\n' included: time, worker, client, quoted request line,
 * status, bytes, duration. A value that is missing or not finite is written as '-'.
 * @example
 * formatTextLine(record) // '2026-11-25T19:02:38.123Z w3 127.0.0.1 "GET /test.txt HTTP/1.0" 200 1234 1.2ms\n'
 */
export function formatTextLine(record: AccessRecord): string {
  const duration = formatDurationMs(record.durationMs)
  return `${formatIsoTime(record.time) ?? '-'} w${formatNumber(record.workerId) ?? '-'} ${escapeTextField(record.clientAddress)} "${escapeTextField(record.method)} ${escapeTextField(record.target)} ${escapeTextField(record.version)}" ${formatNumber(record.status) ?? '-'} ${formatNumber(record.bytes) ?? '-'} ${duration === undefined ? '-' : `${duration}ms`}\n`
}

/**
 * One JSON object per line, '\n' included, with the field names log pipelines expect: time,
 * remote_addr, remote_user, method, path, protocol, status, bytes (body), bytes_sent (head and body,
 * nginx's $bytes_sent), duration_ms, user_agent, referer, worker. Every key is on every line, so
 * an absent value, an invalid time or number is null.
 * @example
 * formatJsonLine(record) // '{"time":"2026-11-25T19:02:38.123Z","remote_addr":"127.0.0.1",...,"worker":3}\n'
 */
export function formatJsonLine(record: AccessRecord): string {
  const time = formatIsoTime(record.time)
  return `{"time":${time === undefined ? 'null' : `"${time}"`},"remote_addr":${formatJsonString(record.clientAddress)},"remote_user":${formatJsonString(record.remoteUser)},"method":${formatJsonString(record.method)},"path":${formatJsonString(record.target)},"protocol":${formatJsonString(record.version)},"status":${formatNumber(record.status) ?? 'null'},"bytes":${formatNumber(record.bodyBytes) ?? 'null'},"bytes_sent":${formatNumber(record.bytes) ?? 'null'},"duration_ms":${formatDurationMs(record.durationMs) ?? 'null'},"user_agent":${formatJsonString(record.userAgent)},"referer":${formatJsonString(record.referer)},"worker":${formatNumber(record.workerId) ?? 'null'}}\n`
}
