import { skipSpaces } from './optional-whitespace.js'

const SPACE = 0x20
const TAB = 0x09
const DQUOTE = 0x22
const COMMA = 0x2c
const SLASH = 0x2f
const STAR = 0x2a
const UPPER_W = 0x57

// A content coding (`br`, `gzip`: a token, RFC 9110 §8.4.1) adds `-<coding>`, as Apache's
// mod_deflate adds `-gzip`: each coding is its own representation of the URL, so its tag differs
// from the other codings' even when their files share mtime and size (§8.8.3.3).
/**
 * The strong entity tag of a file in nginx's shape, `"<mtime seconds hex>-<size hex>"`, plus `-<coding>` for a content coding.
 * @example formatEtag(784111777000, 10000, 'br') // '"2ebc98a1-2710-br"'
 */
export function formatEtag(mtimeMs: number, size: number, encoding?: string): string {
  // Whole seconds, as nginx's ngx_http_set_etag prints the time_t of the Last-Modified header.
  const tag = `${Math.floor(mtimeMs / 1000).toString(16)}-${size.toString(16)}`
  return encoding === undefined ? `"${tag}"` : `"${tag}-${encoding}"`
}

// A value that is not a well-formed list matches nothing, so the response is the full one, which
// is always a safe answer.
/**
 * True when an If-None-Match value is `*` or lists a tag that weakly matches `etag` (RFC 9110 §13.1.2, §8.8.3.2).
 * @example matchesEntityTagList('"a", W/"2ebc98a1-2710"', '"2ebc98a1-2710"') // true
 */
export function matchesEntityTagList(fieldValue: string, etag: string): boolean {
  const end = fieldValue.length
  let at = skipSpaces(fieldValue, 0)
  if (fieldValue.charCodeAt(at) === STAR) return skipSpaces(fieldValue, at + 1) === end
  const etagOpaque = isWeak(etag, 0) ? 2 : 0
  const etagLength = etag.length - etagOpaque
  let matched = false
  // RFC 9110 §5.6.1.2: a recipient accepts empty list elements and OWS around the commas.
  while (at < end) {
    const code = fieldValue.charCodeAt(at)
    if (code === COMMA || code === SPACE || code === TAB) {
      at++
      continue
    }
    const opaque = isWeak(fieldValue, at) ? at + 2 : at
    const close = opaqueTagEnd(fieldValue, opaque)
    if (close < 0) return false
    if (close - opaque === etagLength && regionsEqual(fieldValue, opaque, etag, etagOpaque, etagLength)) matched = true
    at = skipSpaces(fieldValue, close)
    if (at < end && fieldValue.charCodeAt(at) !== COMMA) return false
  }
  return matched
}

// If-Range (§13.1.5) uses this comparison, so a weak tag there never matches.
/**
 * True when `tag` strongly matches `etag` (RFC 9110 §8.8.3.2): neither is weak and they are identical.
 * @example isStrongMatch('W/"2ebc98a1-2710"', '"2ebc98a1-2710"') // false
 */
export function isStrongMatch(tag: string, etag: string): boolean {
  return tag === etag && etag.length >= 2 && etag.charCodeAt(0) === DQUOTE && opaqueTagEnd(etag, 0) === etag.length
}

// W/ is case-sensitive (RFC 9110 §8.8.3: weak = %s"W/").
function isWeak(text: string, at: number): boolean {
  return text.charCodeAt(at) === UPPER_W && text.charCodeAt(at + 1) === SLASH
}

// The index just past the closing quote of the opaque-tag at `at`, or -1 when there is none there.
// etagc = %x21 / %x23-7E / obs-text (RFC 9110 §8.8.3): a comma may sit inside the quotes.
function opaqueTagEnd(text: string, at: number): number {
  if (text.charCodeAt(at) !== DQUOTE) return -1
  for (let i = at + 1; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code === DQUOTE) return i + 1
    if (code < 0x21 || code === 0x7f || code > 0xff) return -1
  }
  return -1
}

function regionsEqual(a: string, aAt: number, b: string, bAt: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (a.charCodeAt(aAt + i) !== b.charCodeAt(bAt + i)) return false
  return true
}
