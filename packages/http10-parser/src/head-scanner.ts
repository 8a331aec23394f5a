import { strict as assert } from 'node:assert'
import { bytesOf, COLON, CR, DIGIT_0, equalsLowercase, FIELD_VALUE, HT, indexOfLf, LF, SP, TOKEN } from './bytes.js'
import type { ParseErrorCode } from './errors.js'

/** What `HeadScanner.feed`/`resume` found. */
export const Scan = { NeedMore: 0, FirstLine: 1, Complete: 2, Failed: 3 } as const
export type Scan = (typeof Scan)[keyof typeof Scan]

const CONTENT_LENGTH = bytesOf('content-length')
const TRANSFER_ENCODING = bytesOf('transfer-encoding')
// 15 decimal digits stay below 2^53, so the sum below is exact.
const MAX_CONTENT_LENGTH_DIGITS = 15
const EMPTY = Buffer.alloc(0)
const FIRST_STASH_BYTES = 1024

export interface HeadScannerLimits {
  readonly maxFirstLineBytes: number
  readonly maxHeaderBytes: number
  readonly maxHeaderCount: number
  /** The code for a first line longer than `maxFirstLineBytes` (414 for requests). */
  readonly firstLineCode: ParseErrorCode
}

/**
 * Finds the lines of a message head across any number of chunks and validates its field lines.
 * The owning parser validates the first line when `Scan.FirstLine` is returned, then calls
 * `resume()`. Every position is an index into `src`: the caller's chunk while the head fits in
 * it (the common case, no copy), or a stash holding the head so far once a chunk ends inside it.
 *
 * A line is judged only once its LF arrived or once it has passed its limit, never earlier, so
 * that the outcome is the same however the bytes are split into chunks.
 */
export class HeadScanner {
  src: Buffer = EMPTY
  /** Index of `chunk[0]` in `src` during the current feed. */
  base = 0
  /** First byte of the first line (empty lines before it skipped). */
  headStart = 0
  /** First line, without its line end. */
  lineStart = 0
  lineEnd = 0
  /** Index just past the LF ending the head, valid after `Scan.Complete`. */
  headEnd = 0
  errorCode: ParseErrorCode = 'BAD_HEADER'
  fieldCount = 0
  /** Four numbers per field: name start, name end, value start, value end (OWS trimmed). */
  readonly fields: number[] = []
  contentLength = 0
  hasContentLength = false
  hasTransferEncoding = false

  readonly #limits: HeadScannerLimits
  readonly #stashCapacity: number
  #stash: Buffer | null = null
  #stashed = false
  #end = 0
  #pos = 0
  #searchFrom = 0
  #firstLineDone = false
  /** LF of the first line must come before this index (the limit counts skipped empty lines). */
  #firstBound = 0
  /** LF of every field line and of the final empty line must come before this index. */
  #headerBound = 0

  constructor(limits: HeadScannerLimits) {
    this.#limits = limits
    // The longest valid head: first line + LF + header block. Once the stash holds that much
    // without a complete head, some limit has been passed.
    this.#stashCapacity = limits.maxFirstLineBytes + 1 + limits.maxHeaderBytes
    this.reset()
  }

  reset(): void {
    this.src = EMPTY
    this.base = 0
    this.headStart = 0
    this.lineStart = 0
    this.lineEnd = 0
    this.headEnd = 0
    this.fieldCount = 0
    this.contentLength = 0
    this.hasContentLength = false
    this.hasTransferEncoding = false
    this.#stashed = false
    this.#end = 0
    this.#pos = 0
    this.#searchFrom = 0
    this.#firstLineDone = false
    this.#firstBound = this.#limits.maxFirstLineBytes + 1
    this.#headerBound = 0
  }

  /** True once a byte of the message other than a leading empty line has arrived. */
  get started(): boolean {
    return this.#firstLineDone || this.#end > this.headStart
  }

  /** Takes the next chunk (non-empty). */
  feed(chunk: Buffer): Scan {
    if (!this.#stashed) {
      this.src = chunk
      this.base = 0
      this.#end = chunk.length
      return this.#run()
    }
    const start = this.#end
    const stash = this.#reserve(start + chunk.length, start)
    const copied = Math.min(chunk.length, stash.length - start)
    chunk.copy(stash, start, 0, copied)
    this.src = stash
    this.base = start
    this.#end = start + copied
    // The pending partial line changes only when an LF arrives or its limit is passed.
    const bound = this.#firstLineDone ? this.#headerBound : this.#firstBound
    const stop = Math.min(this.#end, bound)
    if (indexOfLf(stash, this.#searchFrom, stop) === -1) {
      if (stop === bound) return this.#fail(this.#firstLineDone ? 'HEADER_TOO_LARGE' : this.#limits.firstLineCode)
      assert(copied === chunk.length, 'the stash holds any head within the limits')
      this.#searchFrom = this.#end
      return Scan.NeedMore
    }
    const status = this.#run()
    assert(status !== Scan.NeedMore || copied === chunk.length, 'the stash holds any head within the limits')
    return status
  }

  /** Continues with the field lines after the owner accepted the first line. */
  resume(): Scan {
    return this.#run()
  }

  /** Ends the head right after the first line (HTTP/0.9 Simple-Request). */
  completeAtFirstLine(): void {
    this.headEnd = this.#pos
  }

  #run(): Scan {
    const status = this.#firstLineDone ? this.#scanFields() : this.#scanFirstLine()
    if (status === Scan.NeedMore) this.#suspend()
    return status
  }

  #scanFirstLine(): Scan {
    const src = this.src
    const bound = this.#firstBound
    const stop = Math.min(this.#end, bound)
    let pos = this.#pos
    for (;;) {
      const lf = indexOfLf(src, pos, stop)
      if (lf === -1) {
        this.#pos = pos
        return stop === bound ? this.#fail(this.#limits.firstLineCode) : Scan.NeedMore
      }
      const start = pos
      const lineEnd = lf > start && src[lf - 1] === CR ? lf - 1 : lf
      pos = lf + 1
      if (lineEnd === start) {
        // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request-line.
        this.headStart = pos
        continue
      }
      this.lineStart = start
      this.lineEnd = lineEnd
      this.#pos = pos
      this.#firstLineDone = true
      this.#headerBound = pos + this.#limits.maxHeaderBytes
      return Scan.FirstLine
    }
  }

  #scanFields(): Scan {
    const src = this.src
    const fields = this.fields
    const maxCount = this.#limits.maxHeaderCount
    const bound = this.#headerBound
    const stop = Math.min(this.#end, bound)
    let pos = this.#pos
    // No table below holds LF, so every scanning loop stops at an LF at the latest: lines up to
    // the last LF before `stop` need no bounds tests (and never read past the data, which would
    // also make V8 fall back to slow generic loads). What follows that LF is an unfinished line.
    const lastLf = pos < stop ? src.lastIndexOf(LF, stop - 1) : -1
    while (pos <= lastLf) {
      let i = pos
      const first = src[i]
      if (first === LF) return this.#complete(i + 1)
      if (first === CR && src[i + 1] === LF) return this.#complete(i + 2)
      // Fast path: a valid field line in one pass over its bytes.
      while (TOKEN[src[i] as number] === 1) i++
      if (i === pos || src[i] !== COLON) break
      const nameEnd = i++
      while (src[i] === SP || src[i] === HT) i++
      const valueStart = i
      while (FIELD_VALUE[src[i] as number] === 1) i++
      let lf: number
      if (src[i] === LF) lf = i
      else if (src[i] === CR && src[i + 1] === LF) lf = i + 1
      else break
      let valueEnd = i
      while (valueEnd > valueStart && (src[valueEnd - 1] === SP || src[valueEnd - 1] === HT)) valueEnd--
      const count = this.fieldCount
      if (count === maxCount) return this.#fail('TOO_MANY_HEADERS')
      this.fieldCount = count + 1
      const at = count * 4
      fields[at] = pos
      fields[at + 1] = nameEnd
      fields[at + 2] = valueStart
      fields[at + 3] = valueEnd
      const nameLength = nameEnd - pos
      if (nameLength === 14 && equalsLowercase(src, pos, CONTENT_LENGTH)) {
        if (!this.#takeContentLength(valueStart, valueEnd)) return this.#fail('BAD_CONTENT_LENGTH')
      } else if (nameLength === 17 && equalsLowercase(src, pos, TRANSFER_ENCODING)) {
        this.hasTransferEncoding = true
      }
      pos = lf + 1
    }
    this.#pos = pos
    // The line at `pos` is unfinished, too long or invalid. Which one depends only on where its
    // LF is, so a line cut by a chunk boundary is judged the same once it is whole.
    if (pos > lastLf) return stop === bound ? this.#fail('HEADER_TOO_LARGE') : Scan.NeedMore
    // Whitespace before the colon (RFC 9112 §5.1), obs-fold (RFC 9112 §5.2), a missing colon, an
    // empty name, or a CTL/NUL/bare CR in the value: all rejected with 400.
    return this.#fail('BAD_HEADER')
  }

  #takeContentLength(start: number, end: number): boolean {
    // RFC 9110 §8.6: Content-Length = 1*DIGIT. No sign, no inner spaces, no lists; a repeated
    // field must carry the same value (RFC 9112 §6.3 rule 5 treats anything else as unrecoverable).
    const digits = end - start
    if (digits < 1 || digits > MAX_CONTENT_LENGTH_DIGITS) return false
    const src = this.src
    let n = 0
    for (let i = start; i < end; i++) {
      const d = (src[i] as number) - DIGIT_0
      if (d < 0 || d > 9) return false
      n = n * 10 + d
    }
    if (this.hasContentLength && n !== this.contentLength) return false
    this.contentLength = n
    this.hasContentLength = true
    return true
  }

  #complete(headEnd: number): Scan {
    this.headEnd = headEnd
    return Scan.Complete
  }

  #fail(code: ParseErrorCode): Scan {
    this.errorCode = code
    return Scan.Failed
  }

  /** Keeps the unfinished head for the next chunk: the chunk belongs to the caller. */
  #suspend(): void {
    if (!this.#stashed) {
      const from = this.headStart
      const length = this.#end - from
      const stash = this.#reserve(length, 0)
      this.src.copy(stash, 0, from, this.#end)
      this.src = stash
      this.#stashed = true
      this.#shift(from)
    }
    this.#searchFrom = this.#end
  }

  #shift(delta: number): void {
    this.headStart -= delta
    this.lineStart -= delta
    this.lineEnd -= delta
    this.#end -= delta
    this.#pos -= delta
    this.#firstBound -= delta
    this.#headerBound -= delta
    const fields = this.fields
    for (let i = 0; i < this.fieldCount * 4; i++) fields[i] = (fields[i] as number) - delta
  }

  /** A stash of at least `min(wanted, capacity)` bytes whose first `keep` bytes are preserved. */
  #reserve(wanted: number, keep: number): Buffer {
    const needed = Math.min(wanted, this.#stashCapacity)
    let stash = this.#stash
    if (stash === null || stash.length < needed) {
      let size = stash === null ? FIRST_STASH_BYTES : stash.length * 2
      while (size < needed) size *= 2
      const grown = Buffer.allocUnsafe(Math.min(size, this.#stashCapacity))
      if (stash !== null && keep > 0) stash.copy(grown, 0, 0, keep)
      this.#stash = stash = grown
    }
    return stash
  }
}
