import { skipSpaces } from './optional-whitespace.js'

const SPACE = 0x20
const TAB = 0x09
const COMMA = 0x2c
const DASH = 0x2d
const EQUALS = 0x3d
const DIGIT_0 = 0x30
const DIGIT_9 = 0x39
const UNIT = 'bytes'
// 15 significant digits cannot reach 2^53, so every position is exact (as Content-Length is read).
const MAX_DIGITS = 15
const INVALID = -1

/** An inclusive byte range inside a representation: 0 <= start <= end < size. */
export interface ByteRange {
  readonly start: number
  readonly end: number
}

/** What a Range header asks of a representation of a known size. */
export type RangeRequest =
  // Serve the whole representation with 200: another unit, or a ranges-specifier invalid anywhere
  // (§14.1.1: a bad number, last-pos before first-pos, stray characters). §14.2 lets a server ignore
  // or reject those; nginx answers 416, the design ignores them. Also an empty representation asked
  // for a range from 0 or a suffix, which nginx serves whole.
  | { readonly kind: 'none' }
  // No range-spec is satisfiable (§14.1.1: first-pos at or past the end, or a suffix of 0 bytes):
  // 416 with Content-Range "bytes */size" (§15.5.17).
  | { readonly kind: 'unsatisfiable' }
  // Exactly one satisfiable range-spec, last-pos clipped to size - 1. Unsatisfiable ones beside it
  // are dropped, as nginx drops them: "bytes=0-1,20000-" is a single 206.
  | { readonly kind: 'range'; readonly start: number; readonly end: number }
  // Two or more satisfiable ranges. nginx answers multipart/byteranges; the design serves one range
  // only, so the whole representation goes out with 200, which §14.2 allows (a server MAY ignore
  // Range) and nginx also does when the ranges add up to more than the representation.
  | { readonly kind: 'multiple' }

const NONE: RangeRequest = { kind: 'none' }
const UNSATISFIABLE: RangeRequest = { kind: 'unsatisfiable' }
const MULTIPLE: RangeRequest = { kind: 'multiple' }

/**
 * Reads a Range header (RFC 9110 §14.2) against a representation of `size` bytes.
 * @example parseRange('bytes=-500', 10000) // { kind: 'range', start: 9500, end: 9999 }
 */
export function parseRange(header: string, size: number): RangeRequest {
  const end = header.length
  let at = skipSpaces(header, 0)
  // range-unit is case-insensitive (§14.1); no space before the "=", as nginx reads it.
  if (!startsWithIgnoringCase(header, at, UNIT) || header.charCodeAt(at + UNIT.length) !== EQUALS) return NONE
  at += UNIT.length + 1
  let specs = 0
  let satisfiable = 0
  let firstStart = -1
  let firstEnd = -1
  let startsAtZero = false
  while (at < end) {
    const code = header.charCodeAt(at)
    // §5.6.1.2: OWS around commas and empty list elements are accepted; nginx also takes spaces after "=".
    if (code === COMMA || code === SPACE || code === TAB) {
      at++
      continue
    }
    let rangeStart: number
    let rangeEnd: number
    if (code === DASH) {
      // suffix-range: the last N bytes, all of them when N >= size.
      const digitsEnd = digitsEndAt(header, at + 1)
      const suffixLength = numberIn(header, at + 1, digitsEnd)
      if (suffixLength === INVALID) return NONE
      at = digitsEnd
      rangeStart = Math.max(size - suffixLength, 0)
      rangeEnd = suffixLength === 0 ? -1 : size - 1
      if (rangeStart === 0) startsAtZero = true
    } else {
      const firstEnd = digitsEndAt(header, at)
      const firstPos = numberIn(header, at, firstEnd)
      if (firstPos === INVALID) return NONE
      // nginx takes spaces on either side of the "-" of an int-range.
      at = skipSpaces(header, firstEnd)
      if (header.charCodeAt(at) !== DASH) return NONE
      at = skipSpaces(header, at + 1)
      let lastPos = Number.POSITIVE_INFINITY
      if (at < end && header.charCodeAt(at) !== COMMA) {
        const lastEnd = digitsEndAt(header, at)
        lastPos = numberIn(header, at, lastEnd)
        if (lastPos === INVALID || lastPos < firstPos) return NONE
        at = lastEnd
      }
      rangeStart = firstPos
      rangeEnd = Math.min(lastPos, size - 1)
      if (firstPos === 0) startsAtZero = true
    }
    specs++
    at = skipSpaces(header, at)
    if (at < end && header.charCodeAt(at) !== COMMA) return NONE
    if (rangeStart <= rangeEnd) {
      satisfiable++
      if (satisfiable === 1) {
        firstStart = rangeStart
        firstEnd = rangeEnd
      }
    }
  }
  if (specs === 0) return NONE
  // An empty representation has no byte to send: nginx serves it whole with 200 when a range
  // starts at 0 or is a suffix, and answers 416 when every range starts past its end.
  if (size === 0) return startsAtZero ? NONE : UNSATISFIABLE
  if (satisfiable === 0) return UNSATISFIABLE
  if (satisfiable > 1) return MULTIPLE
  return { kind: 'range', start: firstStart, end: firstEnd }
}

// The value of the digits in [start, end): 1 to MAX_DIGITS significant digits (leading zeros are
// allowed by 1*DIGIT and do not count), else INVALID.
function numberIn(text: string, start: number, end: number): number {
  if (end === start) return INVALID
  while (start < end - 1 && text.charCodeAt(start) === DIGIT_0) start++
  if (end - start > MAX_DIGITS) return INVALID
  let value = 0
  for (let i = start; i < end; i++) value = value * 10 + (text.charCodeAt(i) - DIGIT_0)
  return value
}

function digitsEndAt(text: string, at: number): number {
  while (at < text.length) {
    const code = text.charCodeAt(at)
    if (code < DIGIT_0 || code > DIGIT_9) break
    at++
  }
  return at
}

// `lower` is lowercase ASCII letters; `| 0x20` folds only letters here because `lower` has nothing else.
function startsWithIgnoringCase(text: string, at: number, lower: string): boolean {
  if (text.length - at < lower.length) return false
  for (let i = 0; i < lower.length; i++) {
    if ((text.charCodeAt(at + i) | 0x20) !== lower.charCodeAt(i)) return false
  }
  return true
}
