import { ParseError, type ParseErrorCode, type ParserLimits, RequestParser } from '../src/index.js'

/** Everything observable about parsing one input, as plain data that `toEqual` can compare. */
export interface Outcome {
  head: {
    method: string
    target: string
    version: string
    headers: [string, string][]
    contentLength: number
    hasContentLength: boolean
  } | null
  /** Body bytes (latin1), all pieces joined. */
  body: string
  done: boolean
  leftover: string
  /** How many pushes returned a head (must be at most 1). */
  heads: number
  code: ParseErrorCode | null
}

/** Pieces of `raw` cut at the given offsets (any order, duplicates and out-of-range allowed). */
export function cutAt(raw: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.filter((c) => c > 0 && c < raw.length))].sort((a, b) => a - b)
  const pieces: Buffer[] = []
  let start = 0
  for (const point of points) {
    pieces.push(raw.subarray(start, point))
    start = point
  }
  pieces.push(raw.subarray(start))
  return pieces
}

export function toBuffer(raw: string | Buffer): Buffer {
  return typeof raw === 'string' ? Buffer.from(raw, 'latin1') : raw
}

/**
 * Pushes `pieces` into a fresh parser (copying each, so a parser holding on to a caller's buffer
 * would show), then calls `end()` when asked. Any exception other than ParseError propagates.
 */
export function parsePieces(pieces: readonly Buffer[], limits?: Partial<ParserLimits>, callEnd = true): Outcome {
  const parser = new RequestParser(limits)
  const outcome: Outcome = { head: null, body: '', done: false, leftover: '', heads: 0, code: null }
  try {
    for (const piece of pieces) {
      const copy = Buffer.from(piece)
      const step = parser.push(copy)
      copy.fill(0x7e) // the step must not depend on the caller's buffer after push returned...
      if (step.head !== null) {
        outcome.heads++
        outcome.head = {
          method: step.head.method,
          target: step.head.target,
          version: step.head.version,
          headers: step.head.headers.map(([name, value]) => [name, value]),
          contentLength: step.head.contentLength,
          hasContentLength: step.head.hasContentLength,
        }
      }
      // ...except body and leftover, which are views: they read as '~' here if they were views
      // of an earlier chunk, so compare through a copy taken before the fill instead.
      outcome.done = step.done
      outcome.body += step.body === null ? '' : viewOf(piece, copy, step.body).toString('latin1')
      outcome.leftover += step.leftover === null ? '' : viewOf(piece, copy, step.leftover).toString('latin1')
    }
    if (callEnd) parser.end()
  } catch (error) {
    if (!(error instanceof ParseError)) throw error
    outcome.code = error.code
  }
  return outcome
}

/** The same range of `original` that `view` covers in `copy` (views must point into the chunk). */
function viewOf(original: Buffer, copy: Buffer, view: Buffer): Buffer {
  if (view.buffer !== copy.buffer) throw new Error('body/leftover is not a view of the pushed chunk')
  const start = view.byteOffset - copy.byteOffset
  if (start < 0 || start + view.length > copy.length) throw new Error('view outside the pushed chunk')
  return original.subarray(start, start + view.length)
}

export function parseInPieces(
  raw: string | Buffer,
  cuts: readonly number[],
  limits?: Partial<ParserLimits>,
  callEnd = true,
): Outcome {
  return parsePieces(cutAt(toBuffer(raw), cuts), limits, callEnd)
}

export function parseByteByByte(raw: string | Buffer, limits?: Partial<ParserLimits>, callEnd = true): Outcome {
  const buffer = toBuffer(raw)
  const pieces: Buffer[] = []
  for (let i = 0; i < buffer.length; i++) pieces.push(buffer.subarray(i, i + 1))
  return parsePieces(pieces, limits, callEnd)
}

export function errorCodeOf(run: () => unknown): ParseErrorCode | null {
  try {
    run()
    return null
  } catch (error) {
    if (error instanceof ParseError) return error.code
    throw error
  }
}
