import { createParseError } from './errors.js'

/** A request target made safe to resolve under a root directory. */
export interface ParsedTarget {
  /** Percent-decoded exactly once, dot segments removed, empty segments collapsed, starts with '/'. */
  pathname: string
  /** `pathname` without its leading '/': safe to `path.join` under a root ('' for the root itself). */
  relativePath: string
  /** Raw query without '?', '' if none. */
  query: string
  /** Some segment begins with '.' (dotfiles are not served). */
  hasHiddenSegment: boolean
  /** `pathname` ends with '/'. */
  isDirectory: boolean
}

const SLASH = 0x2f
const DOT = 0x2e
const PERCENT = 0x25
const QUESTION = 0x3f
const HASH = 0x23
const BACKSLASH = 0x5c

// Per code unit of the raw target: what it means before decoding.
const Char = { Plain: 0, Forbidden: 1, Invalid: 2, Percent: 3, High: 4 } as const
const RAW = new Uint8Array(256) // Char.Plain
for (let c = 0; c < 0x20; c++) RAW[c] = Char.Forbidden
RAW[0x7f] = Char.Forbidden
RAW[BACKSLASH] = Char.Forbidden // Windows separator: never part of a name we serve
RAW[0x20] = Char.Invalid
RAW[PERCENT] = Char.Percent
for (let c = 0x80; c <= 0xff; c++) RAW[c] = Char.High // obs-text bytes, decoded as UTF-8 below

const HEX = new Int8Array(256).fill(-1)
for (let c = 0; c < 10; c++) HEX[0x30 + c] = c
for (let c = 0; c < 6; c++) HEX[0x41 + c] = HEX[0x61 + c] = 10 + c

// Decoded bytes that end the request with 404: NUL and CTLs, an encoded '/' (it would change the
// segments the client meant) or '\' (a separator on Windows), DEL.
const FORBIDDEN_DECODED = new Uint8Array(256)
for (let c = 0; c < 0x20; c++) FORBIDDEN_DECODED[c] = 1
FORBIDDEN_DECODED[SLASH] = 1
FORBIDDEN_DECODED[BACKSLASH] = 1
FORBIDDEN_DECODED[0x7f] = 1

/**
 * Turns a request target (origin-form or absolute-form, RFC 9112 §3.2) into a normalized path.
 * Throws ParseError BAD_TARGET (400) for a malformed target and FORBIDDEN_TARGET (404) for a
 * traversal attempt or a name that must never reach the file system.
 * @example
 * parseTarget('/docs/../a%20b.txt?x=1') // { pathname: '/a b.txt', relativePath: 'a b.txt', query: 'x=1', ... }
 */
export function parseTarget(rawTarget: string): ParsedTarget {
  const length = rawTarget.length
  let needsDecoding = false
  for (let i = 0; i < length; i++) {
    const c = rawTarget.charCodeAt(i)
    if (c > 0xff) throw createParseError('BAD_TARGET') // not a byte: cannot have come off the wire
    const kind = RAW[c]
    if (kind === Char.Plain) continue
    if (kind === Char.Forbidden) throw createParseError('FORBIDDEN_TARGET')
    if (kind === Char.Invalid) throw createParseError('BAD_TARGET')
    needsDecoding = true
  }
  const pathStart = length > 0 && rawTarget.charCodeAt(0) === SLASH ? 0 : absoluteFormPathStart(rawTarget)
  // Query and fragment are split off before decoding, so '%3F' stays part of the path.
  let pathEnd = pathStart
  while (pathEnd < length) {
    const c = rawTarget.charCodeAt(pathEnd)
    if (c === QUESTION || c === HASH) break
    pathEnd++
  }
  let query = ''
  if (pathEnd < length && rawTarget.charCodeAt(pathEnd) === QUESTION) {
    const hash = rawTarget.indexOf('#', pathEnd + 1)
    query = rawTarget.slice(pathEnd + 1, hash === -1 ? length : hash)
  }
  let path = '/' // RFC 9112 §3.2.2: an absolute-form target with an empty path means '/'
  if (pathEnd > pathStart) {
    const rawPath = rawTarget.slice(pathStart, pathEnd)
    path = needsDecoding ? decodePath(rawPath) : rawPath
  }
  const target = normalizePath(path)
  target.query = query
  return target
}

/** Index of the path of an `http://` or `https://` absolute-form target (RFC 9112 §3.2.2). */
function absoluteFormPathStart(raw: string): number {
  let i: number
  if (startsWithIgnoringCase(raw, 'http://')) i = 7
  else if (startsWithIgnoringCase(raw, 'https://')) i = 8
  else throw createParseError('BAD_TARGET') // '*', authority-form, relative paths, other schemes
  const authorityStart = i
  while (i < raw.length) {
    const c = raw.charCodeAt(i)
    if (c === SLASH || c === QUESTION || c === HASH) break
    i++
  }
  // RFC 9110 §4.2.1: an http URI with an empty host is invalid and MUST be rejected.
  if (i === authorityStart) throw createParseError('BAD_TARGET')
  return i
}

function startsWithIgnoringCase(raw: string, lowercasePrefix: string): boolean {
  if (raw.length < lowercasePrefix.length) return false
  for (let i = 0; i < lowercasePrefix.length; i++) {
    const c = raw.charCodeAt(i)
    const folded = c >= 0x41 && c <= 0x5a ? c | 0x20 : c
    if (folded !== lowercasePrefix.charCodeAt(i)) return false
  }
  return true
}

/** Percent-decodes once (RFC 3986 §2.1) and reads the bytes as strict UTF-8 (RFC 3629). */
function decodePath(rawPath: string): string {
  const bytes = Buffer.allocUnsafe(rawPath.length)
  let n = 0
  for (let i = 0; i < rawPath.length; i++) {
    let byte = rawPath.charCodeAt(i)
    if (byte === PERCENT) {
      const high = i + 1 < rawPath.length ? (HEX[rawPath.charCodeAt(i + 1) & 0xff] as number) : -1
      const low = i + 2 < rawPath.length ? (HEX[rawPath.charCodeAt(i + 2) & 0xff] as number) : -1
      if (high < 0 || low < 0) throw createParseError('BAD_TARGET')
      byte = (high << 4) | low
      if (FORBIDDEN_DECODED[byte] === 1) throw createParseError('FORBIDDEN_TARGET')
      i += 2
    }
    bytes[n++] = byte
  }
  if (!isStrictUtf8(bytes, n)) throw createParseError('FORBIDDEN_TARGET')
  return bytes.toString('utf8', 0, n)
}

/**
 * RFC 3629 §4 well-formed UTF-8: no overlong forms (so %C0%AE is not '.'), no surrogates, nothing
 * above U+10FFFF. C1 controls (U+0080-U+009F) are refused too: they are controls, not names.
 */
function isStrictUtf8(bytes: Buffer, length: number): boolean {
  let i = 0
  while (i < length) {
    const b0 = bytes[i] as number
    if (b0 < 0x80) {
      i++
      continue
    }
    let needed: number
    let low = 0x80
    let high = 0xbf
    if (b0 >= 0xc2 && b0 <= 0xdf) {
      needed = 1
      if (b0 === 0xc2) low = 0xa0
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      needed = 2
      if (b0 === 0xe0) low = 0xa0
      else if (b0 === 0xed) high = 0x9f
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      needed = 3
      if (b0 === 0xf0) low = 0x90
      else if (b0 === 0xf4) high = 0x8f
    } else {
      return false
    }
    if (i + needed >= length) return false
    const b1 = bytes[i + 1] as number
    if (b1 < low || b1 > high) return false
    for (let k = 2; k <= needed; k++) {
      const b = bytes[i + k] as number
      if (b < 0x80 || b > 0xbf) return false
    }
    i += needed + 1
  }
  return true
}

/**
 * RFC 3986 §5.2.4 remove_dot_segments, plus collapsing empty segments. '..' above the root is an
 * attack and is refused rather than clamped.
 */
function normalizePath(path: string): ParsedTarget {
  const length = path.length
  const segments: string[] = []
  let isNormal = true
  let isDirectory = false
  let start = 1 // path[0] is '/'
  while (start <= length) {
    let end = path.indexOf('/', start)
    if (end === -1) end = length
    const segmentLength = end - start
    const isLast = end === length
    if (segmentLength === 0) {
      // A trailing '/' names a directory; any other empty segment is collapsed.
      if (isLast) isDirectory = true
      else isNormal = false
    } else if (segmentLength === 1 && path.charCodeAt(start) === DOT) {
      isNormal = false
      if (isLast) isDirectory = true
    } else if (segmentLength === 2 && path.charCodeAt(start) === DOT && path.charCodeAt(start + 1) === DOT) {
      if (segments.length === 0) throw createParseError('FORBIDDEN_TARGET')
      segments.pop()
      isNormal = false
      if (isLast) isDirectory = true
    } else {
      segments.push(path.slice(start, end))
    }
    start = end + 1
  }
  let hasHiddenSegment = false
  for (const segment of segments) if (segment.charCodeAt(0) === DOT) hasHiddenSegment = true
  // A path that needed no change is returned as is: no join on the common path.
  let pathname = path
  if (!isNormal) pathname = segments.length === 0 ? '/' : `/${segments.join('/')}${isDirectory ? '/' : ''}`
  return { pathname, relativePath: pathname.slice(1), query: '', hasHiddenSegment, isDirectory }
}
