/** Size limits of one request; every one maps to a status when exceeded (414, 431, 431, 413). */
export interface ParserLimits {
  /** Bytes of the request line before its LF (a CR counts), empty lines before it included. */
  maxRequestLineBytes: number
  /** Bytes after the request line up to and including the LF of the empty line ending the head. */
  maxHeaderBytes: number
  maxHeaderCount: number
  /** Largest accepted Content-Length. */
  maxBodyBytes: number
}

/** The server's defaults: 8 KiB request line, 16 KiB header block, 100 fields, 64 MiB body. */
export const DEFAULT_LIMITS: Readonly<ParserLimits> = Object.freeze({
  maxRequestLineBytes: 8 * 1024,
  maxHeaderBytes: 16 * 1024,
  maxHeaderCount: 100,
  maxBodyBytes: 64 * 1024 * 1024,
})

// A server makes a parser per connection, all with one frozen limits object: resolved once.
const resolvedFrozen = new WeakMap<object, ParserLimits>()

/**
 * Fills in defaults; a limit that is not a non-negative safe integer is a programming error.
 * A frozen `limits` is resolved once and the result reused (it cannot change).
 */
export function resolveLimits(limits: Partial<ParserLimits> | undefined): ParserLimits {
  if (limits === undefined) return DEFAULT_LIMITS
  const known = resolvedFrozen.get(limits)
  if (known !== undefined) return known
  const resolved: ParserLimits = { ...DEFAULT_LIMITS, ...limits }
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof ParserLimits)[]) {
    const value = resolved[key]
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`${key} must be a non-negative integer, got ${String(value)}`)
    }
  }
  if (Object.isFrozen(limits)) resolvedFrozen.set(limits, Object.freeze(resolved))
  return resolved
}
