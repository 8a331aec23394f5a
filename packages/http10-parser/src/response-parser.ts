import { DIGIT_0, FIELD_VALUE, SP } from './bytes.js'
import { createParseError, type ParseError, type ParseErrorCode } from './errors.js'
import { buildFields, type Field, findField } from './fields.js'
import { HeadScanner, Scan } from './head-scanner.js'
import { DEFAULT_LIMITS } from './limits.js'

/** A parsed status line and header block. */
export interface ResponseHead {
  /** As sent, e.g. '1.0'. */
  readonly version: string
  readonly status: number
  readonly reason: string
  readonly headers: ReadonlyArray<readonly [string, string]>
  /** First value of a field, name compared case-insensitively. */
  get(name: string): string | undefined
  /** Declared Content-Length, null when absent. */
  readonly contentLength: number | null
}

/** What one `push`/`end` produced; a fresh object every time. */
export interface ResponseStep {
  head: ResponseHead | null
  body: Buffer | null
  done: boolean
  /** Bytes after a complete response (e.g. the next pipelined one); never part of this response. */
  leftover: Buffer | null
}

export interface ResponseParserOptions {
  maxHeaderBytes?: number
  maxHeaderCount?: number
}

class ParsedResponseHead implements ResponseHead {
  readonly version: string
  readonly status: number
  readonly reason: string
  readonly headers: ReadonlyArray<Field>
  readonly contentLength: number | null
  constructor(version: string, status: number, reason: string, headers: ReadonlyArray<Field>, length: number | null) {
    this.version = version
    this.status = status
    this.reason = reason
    this.headers = headers
    this.contentLength = length
  }
  get(name: string): string | undefined {
    return findField(this.headers, name)
  }
}

const State = { Head: 0, Body: 1, UntilClose: 2, Done: 3 } as const
type State = (typeof State)[keyof typeof State]

// "HTTP/" DIGIT "." DIGIT SP 3DIGIT (RFC 9112 §4)
const HTTP_SLASH = [0x48, 0x54, 0x54, 0x50, 0x2f] as const
const STATUS_LINE_MIN_BYTES = 12
const REASON_START = 13

function createStep(
  head: ResponseHead | null,
  body: Buffer | null,
  done: boolean,
  leftover: Buffer | null,
): ResponseStep {
  return { head, body, done, leftover }
}

function checkLimit(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer, got ${String(value)}`)
  }
  return value
}

/**
 * Incremental HTTP/1.x response parser for clients such as the load generator. Bodies are framed
 * by Content-Length or by the connection closing (`end()`); Transfer-Encoding is refused.
 * @example
 * const parser = new ResponseParser()
 * parser.reset({ expectBody: method !== 'HEAD' })
 * socket.on('data', (chunk) => { const step = parser.push(chunk); if (step.done) socket.end() })
 * socket.on('end', () => parser.end())
 */
export class ResponseParser {
  readonly #scanner: HeadScanner
  #state: State = State.Head
  #error: ParseError | null = null
  #expectBody = true
  #bodyRemaining = 0
  #version = ''
  #status = 0

  constructor(options?: ResponseParserOptions) {
    const maxHeaderBytes = checkLimit('maxHeaderBytes', options?.maxHeaderBytes, DEFAULT_LIMITS.maxHeaderBytes)
    this.#scanner = new HeadScanner({
      maxFirstLineBytes: maxHeaderBytes,
      maxHeaderBytes,
      maxHeaderCount: checkLimit('maxHeaderCount', options?.maxHeaderCount, DEFAULT_LIMITS.maxHeaderCount),
      firstLineCode: 'HEADER_TOO_LARGE',
    })
  }

  /** Prepares for the next response; `expectBody: false` for a response to HEAD. */
  reset(options?: { expectBody?: boolean }): void {
    this.#scanner.reset()
    this.#state = State.Head
    this.#error = null
    this.#expectBody = options?.expectBody ?? true
    this.#bodyRemaining = 0
    this.#version = ''
    this.#status = 0
  }

  /** Feeds the next bytes; throws ParseError on a malformed response, and again on every later call. */
  push(chunk: Buffer): ResponseStep {
    if (this.#error !== null) throw this.#error
    if (this.#state === State.UntilClose) return createStep(null, chunk.length > 0 ? chunk : null, false, null)
    if (this.#state === State.Body) return this.#takeBody(chunk, 0, null)
    if (this.#state === State.Done) return createStep(null, null, true, chunk.length > 0 ? chunk : null)
    if (chunk.length === 0) return createStep(null, null, false, null)
    const scanner = this.#scanner
    let status = scanner.feed(chunk)
    if (status === Scan.FirstLine) {
      const code = this.#parseStatusLine(scanner.src, scanner.lineStart, scanner.lineEnd)
      if (code === null) status = scanner.resume()
      else {
        scanner.errorCode = code
        status = Scan.Failed
      }
    }
    if (status === Scan.NeedMore) return createStep(null, null, false, null)
    if (status === Scan.Failed) throw this.#fail(scanner.errorCode)
    return this.#acceptHead(chunk)
  }

  /** The connection closed: completes a body read until close, throws INCOMPLETE_RESPONSE otherwise. */
  end(): ResponseStep {
    if (this.#error !== null) throw this.#error
    if (this.#state === State.Head || this.#state === State.Body) throw this.#fail('INCOMPLETE_RESPONSE')
    this.#state = State.Done
    return createStep(null, null, true, null)
  }

  #fail(code: ParseErrorCode): ParseError {
    const error = createParseError(code)
    this.#error = error
    this.#scanner.reset()
    return error
  }

  #parseStatusLine(src: Buffer, start: number, end: number): ParseErrorCode | null {
    if (end - start < STATUS_LINE_MIN_BYTES) return 'BAD_STATUS_LINE'
    for (let k = 0; k < HTTP_SLASH.length; k++) if (src[start + k] !== HTTP_SLASH[k]) return 'BAD_STATUS_LINE'
    const major = (src[start + 5] as number) - DIGIT_0
    const minor = (src[start + 7] as number) - DIGIT_0
    if (major < 0 || major > 9 || minor < 0 || minor > 9 || src[start + 6] !== 0x2e) return 'BAD_STATUS_LINE'
    if (src[start + 8] !== SP) return 'BAD_STATUS_LINE'
    let status = 0
    for (let k = 9; k < 12; k++) {
      const d = (src[start + k] as number) - DIGIT_0
      if (d < 0 || d > 9) return 'BAD_STATUS_LINE'
      status = status * 10 + d
    }
    // RFC 9110 §15: status codes are 100-599. The SP before an empty reason is often left out.
    if (status < 100 || status > 599) return 'BAD_STATUS_LINE'
    if (end - start > STATUS_LINE_MIN_BYTES && src[start + 12] !== SP) return 'BAD_STATUS_LINE'
    for (let i = start + REASON_START; i < end; i++) if (FIELD_VALUE[src[i] as number] !== 1) return 'BAD_STATUS_LINE'
    if (major !== 1) return 'VERSION_UNSUPPORTED'
    this.#version = minor === 0 ? '1.0' : minor === 1 ? '1.1' : `1.${minor}`
    this.#status = status
    return null
  }

  #acceptHead(chunk: Buffer): ResponseStep {
    const scanner = this.#scanner
    const status = this.#status
    // RFC 9112 §6.3 rules 1-2: responses to HEAD, 1xx, 204 and 304 end with their head.
    const hasBody = this.#expectBody && status >= 200 && status !== 204 && status !== 304
    if (hasBody && scanner.hasTransferEncoding) throw this.#fail('TRANSFER_ENCODING_UNSUPPORTED')
    const headStart = scanner.headStart
    const text = scanner.src.toString('latin1', headStart, scanner.headEnd)
    const reasonStart = scanner.lineStart + REASON_START
    const reason = reasonStart < scanner.lineEnd ? text.slice(reasonStart - headStart, scanner.lineEnd - headStart) : ''
    const head = new ParsedResponseHead(
      this.#version,
      status,
      reason,
      buildFields(text, headStart, scanner.fields, scanner.fieldCount),
      scanner.hasContentLength ? scanner.contentLength : null,
    )
    const bodyStart = scanner.headEnd - scanner.base
    const isLengthDelimited = scanner.hasContentLength
    this.#bodyRemaining = scanner.contentLength
    scanner.reset()
    if (!hasBody || (isLengthDelimited && this.#bodyRemaining === 0)) {
      this.#state = State.Done
      return createStep(head, null, true, bodyStart < chunk.length ? chunk.subarray(bodyStart) : null)
    }
    if (!isLengthDelimited) {
      // RFC 9112 §6.3 rule 8: no framing, the body ends when the server closes the connection.
      this.#state = State.UntilClose
      return createStep(head, bodyStart < chunk.length ? chunk.subarray(bodyStart) : null, false, null)
    }
    this.#state = State.Body
    return this.#takeBody(chunk, bodyStart, head)
  }

  #takeBody(chunk: Buffer, start: number, head: ResponseHead | null): ResponseStep {
    const available = chunk.length - start
    const remaining = this.#bodyRemaining
    if (available < remaining) {
      this.#bodyRemaining = remaining - available
      const body = available === 0 ? null : start === 0 ? chunk : chunk.subarray(start)
      return createStep(head, body, false, null)
    }
    this.#bodyRemaining = 0
    this.#state = State.Done
    const end = start + remaining
    const body = start === 0 && end === chunk.length ? chunk : chunk.subarray(start, end)
    return createStep(head, body, true, end < chunk.length ? chunk.subarray(end) : null)
  }
}
