import { type ByteRange, parseRange } from './byte-range.js'
import { isStrongMatch, matchesEntityTagList } from './etag.js'
import { parseHttpDate } from './http-date-parse.js'

const DQUOTE = 0x22
const UPPER_W = 0x57
const SLASH = 0x2f

/** The request fields that decide a GET or HEAD of a file; each as received, absent when not sent. */
export interface ConditionalRequest {
  readonly ifNoneMatch?: string | undefined
  readonly ifModifiedSince?: string | undefined
  readonly range?: string | undefined
  readonly ifRange?: string | undefined
}

/** The selected representation's validators: `etag` as `formatEtag` made it, `lastModifiedMs` as stat gave it. */
export interface Representation {
  readonly etag: string
  readonly lastModifiedMs: number
  readonly size: number
}

/** The status to answer with; 206 carries the one range to send (416 sends `Content-Range: bytes *\/size`). */
export type PreconditionOutcome =
  | { readonly status: 200 }
  | { readonly status: 304 }
  | { readonly status: 416 }
  | { readonly status: 206; readonly range: ByteRange }

const OK: PreconditionOutcome = { status: 200 }
const NOT_MODIFIED: PreconditionOutcome = { status: 304 }
const RANGE_NOT_SATISFIABLE: PreconditionOutcome = { status: 416 }

/**
 * Decides a GET or HEAD of an existing file: RFC 9110 §13.2.2's order of preconditions, then Range.
 * @example evaluatePreconditions({ range: 'bytes=0-499' }, { etag: '"1-2710"', lastModifiedMs: 0, size: 10000 })
 * // { status: 206, range: { start: 0, end: 499 } }
 */
export function evaluatePreconditions(
  request: ConditionalRequest,
  representation: Representation,
): PreconditionOutcome {
  // §13.1.3: If-Modified-Since is ignored whenever If-None-Match is present, even when it does not
  // match. nginx instead asks both to hold; the design asks for the RFC's order.
  if (request.ifNoneMatch !== undefined) {
    if (matchesEntityTagList(request.ifNoneMatch, representation.etag)) return NOT_MODIFIED
  } else if (request.ifModifiedSince !== undefined) {
    // §13.1.3: 304 when Last-Modified is "earlier or equal", which is nginx's `if_modified_since
    // before`; nginx's default, `exact`, answers 304 only on an equal date. An invalid date is ignored.
    const sinceMs = parseHttpDate(request.ifModifiedSince)
    if (sinceMs !== undefined && wholeSecondsMs(representation.lastModifiedMs) <= sinceMs) return NOT_MODIFIED
  }
  // HEAD gets the status and range GET would: nginx answers a ranged HEAD with 206 or 416 too, and
  // §9.3.2 has HEAD send the header fields GET would. A failed If-Range sends the whole file (§13.1.5).
  if (request.range === undefined) return OK
  if (request.ifRange !== undefined && !ifRangeHolds(request.ifRange, representation)) return OK
  const range = parseRange(request.range, representation.size)
  switch (range.kind) {
    case 'range':
      return { status: 206, range: { start: range.start, end: range.end } }
    case 'unsatisfiable':
      return RANGE_NOT_SATISFIABLE
    default:
      return OK
  }
}

// If-Range = entity-tag / HTTP-date (RFC 9110 §13.1.5): a quote or W/ starts an entity tag, which
// must match strongly, so a weak one never does; a date must equal Last-Modified exactly, as nginx
// compares it.
function ifRangeHolds(ifRange: string, representation: Representation): boolean {
  const code = ifRange.charCodeAt(0)
  if (code === DQUOTE || (code === UPPER_W && ifRange.charCodeAt(1) === SLASH)) {
    return isStrongMatch(ifRange, representation.etag)
  }
  return parseHttpDate(ifRange) === wholeSecondsMs(representation.lastModifiedMs)
}

// Last-Modified carries whole seconds (RFC 9110 §5.6.7), so validators compare whole seconds.
function wholeSecondsMs(timeMs: number): number {
  return Math.floor(timeMs / 1000) * 1000
}
