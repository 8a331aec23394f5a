import { DIGIT_0, METHOD, SP, TARGET, TOKEN } from './bytes.js'
import { createParseError, type ParseError, type ParseErrorCode } from './errors.js'
import { buildFields, type Field, findField } from './fields.js'
import { HeadScanner, Scan } from './head-scanner.js'
import { type ParserLimits, resolveLimits } from './limits.js'
import { KNOWN_METHODS } from './methods.js'

export type HttpVersion = '0.9' | '1.0' | '1.1'

/** A parsed request line and header block. */
export interface RequestHead {
  /** Validated method token, e.g. 'GET'. */
  readonly method: string
  /** The request target exactly as sent (latin1); see `parseTarget`. */
  readonly target: string
  readonly version: HttpVersion
  /** Raw names in order; values with surrounding whitespace trimmed. */
  readonly headers: ReadonlyArray<readonly [name: string, value: string]>
  /** First value of a field, name compared case-insensitively. */
  get(name: string): string | undefined
  /** Declared body length, 0 when absent. */
  readonly contentLength: number
  readonly hasContentLength: boolean
}

/** What one `push` produced. A fresh object on every call: it is safe to keep. */
export interface ParseStep {
  /** Non-null exactly on the push that completed the head. */
  head: RequestHead | null
  /** A view of the body bytes in this chunk (never more than Content-Length in total). */
  body: Buffer | null
  /** True once head and Content-Length body bytes are complete. */
  done: boolean
  /** Bytes after the complete message in this chunk, never parsed as a second request. */
  leftover: Buffer | null
}

class ParsedRequestHead implements RequestHead {
  readonly method: string
  readonly target: string
  readonly version: HttpVersion
  readonly headers: ReadonlyArray<Field>
  readonly contentLength: number
  readonly hasContentLength: boolean
  constructor(
    method: string,
    target: string,
    version: HttpVersion,
    headers: ReadonlyArray<Field>,
    contentLength: number,
    hasContentLength: boolean,
  ) {
    this.method = method
    this.target = target
    this.version = version
    this.headers = headers
    this.contentLength = contentLength
    this.hasContentLength = hasContentLength
  }
  get(name: string): string | undefined {
    return findField(this.headers, name)
  }
}

const State = { Head: 0, Body: 1, Done: 2 } as const
type State = (typeof State)[keyof typeof State]

const NO_FIELDS: ReadonlyArray<Field> = Object.freeze([])
// "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3): the name is case-sensitive.
const HTTP_SLASH = [0x48, 0x54, 0x54, 0x50, 0x2f] as const
const VERSION_BYTES = 8

function createStep(head: RequestHead | null, body: Buffer | null, done: boolean, leftover: Buffer | null): ParseStep {
  return { head, body, done, leftover }
}

/**
 * Incremental HTTP/1.0 request parser (HTTP/0.9 and HTTP/1.1 requests accepted): feed it the
 * chunks of one connection; it returns the head once, then body views, then the leftover.
 * @example
 * const parser = new RequestParser({ maxBodyBytes: 1 << 20 })
 * socket.on('data', (chunk) => { const step = parser.push(chunk); if (step.head) route(step.head) })
 * socket.on('end', () => parser.end())
 */
export class RequestParser {
  readonly #limits: ParserLimits
  readonly #scanner: HeadScanner
  #state: State = State.Head
  #error: ParseError | null = null
  #method = ''
  #methodLength = 0
  #version: HttpVersion = '1.0'
  #isSimpleRequest = false
  #bodyRemaining = 0

  constructor(limits?: Partial<ParserLimits>) {
    this.#limits = resolveLimits(limits)
    this.#scanner = new HeadScanner({
      maxFirstLineBytes: this.#limits.maxRequestLineBytes,
      maxHeaderBytes: this.#limits.maxHeaderBytes,
      maxHeaderCount: this.#limits.maxHeaderCount,
      firstLineCode: 'URI_TOO_LONG',
    })
  }

  /** Feeds the next bytes of a connection. Throws `ParseError` on bad input, and again on every later call. */
  push(chunk: Buffer): ParseStep {
    if (this.#error !== null) throw this.#error
    if (this.#state === State.Body) return this.#takeBody(chunk, 0, null)
    if (this.#state === State.Done) return createStep(null, null, true, chunk.length > 0 ? chunk : null)
    if (chunk.length === 0) return createStep(null, null, false, null)
    const scanner = this.#scanner
    let status = scanner.feed(chunk)
    if (status === Scan.FirstLine) status = this.#acceptRequestLine()
    if (status === Scan.NeedMore) return createStep(null, null, false, null)
    if (status === Scan.Failed) throw this.#fail(scanner.errorCode)
    return this.#acceptHead(chunk)
  }

  /** The connection reached EOF: throws INCOMPLETE_REQUEST if a message was started but not finished. */
  end(): void {
    if (this.#error !== null) throw this.#error
    if (this.#state === State.Body || (this.#state === State.Head && this.#scanner.started)) {
      throw this.#fail('INCOMPLETE_REQUEST')
    }
  }

  /** Starts over for the next request, forgetting any error. */
  reset(): void {
    this.#scanner.reset()
    this.#state = State.Head
    this.#error = null
    this.#method = ''
    this.#methodLength = 0
    this.#version = '1.0'
    this.#isSimpleRequest = false
    this.#bodyRemaining = 0
  }

  #fail(code: ParseErrorCode): ParseError {
    const error = createParseError(code)
    this.#error = error
    this.#scanner.reset() // drop the reference to the caller's chunk
    return error
  }

  #acceptRequestLine(): Scan {
    const scanner = this.#scanner
    const code = this.#parseRequestLine(scanner.src, scanner.lineStart, scanner.lineEnd)
    if (code !== null) {
      scanner.errorCode = code
      return Scan.Failed
    }
    if (!this.#isSimpleRequest) return scanner.resume()
    // RFC 1945 §4.1: a Simple-Request has no header fields and no body.
    scanner.completeAtFirstLine()
    return Scan.Complete
  }

  /** Request-line = method SP request-target SP HTTP-version (RFC 9112 §3), or RFC 1945 §4.1 Simple-Request. */
  #parseRequestLine(src: Buffer, start: number, end: number): ParseErrorCode | null {
    let i = start
    while (i < end && METHOD[src[i] as number] === 1) i++
    const methodEnd = i
    if (i === start || i === end || src[i] !== SP) return classifyMethod(src, start, end)
    const targetStart = ++i
    while (i < end && TARGET[src[i] as number] === 1) i++
    if (i === targetStart) return 'BAD_REQUEST_LINE' // empty target, or two spaces
    const method = methodName(src, start, methodEnd)
    let version: HttpVersion
    const isSimpleRequest = i === end
    if (isSimpleRequest) {
      // RFC 1945 §4.1: Simple-Request = "GET" SP Request-URI CRLF; nothing else has this shape.
      if (method !== 'GET') return 'BAD_REQUEST_LINE'
      version = '0.9'
    } else {
      if (src[i] !== SP) return 'BAD_TARGET' // a CTL or whitespace other than SP inside the target
      const versionStart = i + 1
      if (end - versionStart !== VERSION_BYTES) return 'BAD_VERSION'
      for (let k = 0; k < HTTP_SLASH.length; k++) if (src[versionStart + k] !== HTTP_SLASH[k]) return 'BAD_VERSION'
      const major = (src[versionStart + 5] as number) - DIGIT_0
      const minor = (src[versionStart + 7] as number) - DIGIT_0
      if (major < 0 || major > 9 || minor < 0 || minor > 9 || src[versionStart + 6] !== 0x2e) return 'BAD_VERSION'
      // RFC 9110 §2.5: a higher minor version of the same major is compatible. HTTP/0.x in a full
      // request line is taken as 0.9 (as llhttp does); only a major above 1 is 505.
      if (major > 1) return 'VERSION_UNSUPPORTED'
      version = major === 0 ? '0.9' : minor === 0 ? '1.0' : '1.1'
    }
    if (!KNOWN_METHODS.has(method)) return 'METHOD_NOT_IMPLEMENTED'
    this.#method = method
    this.#methodLength = methodEnd - start
    this.#version = version
    this.#isSimpleRequest = isSimpleRequest
    return null
  }

  #acceptHead(chunk: Buffer): ParseStep {
    const scanner = this.#scanner
    const limits = this.#limits
    const method = this.#method
    const version = this.#version
    const isSimpleRequest = this.#isSimpleRequest
    if (!isSimpleRequest) {
      // RFC 9112 §6.1: Transfer-Encoding with Content-Length is how request smuggling starts, and
      // this server reads bodies by Content-Length only (RFC 9112 §6.1: 501 for an unknown coding).
      if (scanner.hasTransferEncoding) {
        throw this.#fail(
          scanner.hasContentLength ? 'TRANSFER_ENCODING_WITH_CONTENT_LENGTH' : 'TRANSFER_ENCODING_UNSUPPORTED',
        )
      }
      if (scanner.contentLength > limits.maxBodyBytes) throw this.#fail('BODY_TOO_LARGE')
      // RFC 1945 §7.2.2: a valid Content-Length is required on all HTTP/1.0 POST requests.
      if (!scanner.hasContentLength && method === 'POST') throw this.#fail('LENGTH_REQUIRED')
    }
    const src = scanner.src
    const headStart = scanner.headStart
    const text = src.toString('latin1', headStart, scanner.headEnd)
    const targetStart = scanner.lineStart + this.#methodLength + 1 - headStart
    const targetEnd = scanner.lineEnd - (isSimpleRequest ? 0 : VERSION_BYTES + 1) - headStart
    const head = new ParsedRequestHead(
      method,
      text.slice(targetStart, targetEnd),
      version,
      scanner.fieldCount === 0 ? NO_FIELDS : buildFields(text, headStart, scanner.fields, scanner.fieldCount),
      scanner.contentLength,
      scanner.hasContentLength,
    )
    const bodyStart = scanner.headEnd - scanner.base
    this.#bodyRemaining = scanner.contentLength
    scanner.reset()
    if (this.#bodyRemaining === 0) {
      this.#state = State.Done
      return createStep(head, null, true, bodyStart < chunk.length ? chunk.subarray(bodyStart) : null)
    }
    this.#state = State.Body
    return this.#takeBody(chunk, bodyStart, head)
  }

  // RFC 1945 §7.2.2: an HTTP/1.0 body is exactly Content-Length bytes. Bytes after it are reported
  // as leftover, never parsed as a second request: that is how request smuggling starts.
  #takeBody(chunk: Buffer, start: number, head: RequestHead | null): ParseStep {
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

/** Interned names for the common methods, so the hot path allocates no string for them. */
function methodName(src: Buffer, start: number, end: number): string {
  const length = end - start
  const b0 = src[start]
  if (length === 3 && b0 === 0x47 && src[start + 1] === 0x45 && src[start + 2] === 0x54) return 'GET'
  if (length === 4 && src[start + 3] === 0x44 && b0 === 0x48 && src[start + 1] === 0x45 && src[start + 2] === 0x41) {
    return 'HEAD'
  }
  if (length === 4 && b0 === 0x50 && src[start + 1] === 0x4f && src[start + 2] === 0x53 && src[start + 3] === 0x54) {
    return 'POST'
  }
  return src.toString('latin1', start, end)
}

/** Why a request line did not start with `UPPERCASE-METHOD SP`. */
function classifyMethod(src: Buffer, start: number, end: number): ParseErrorCode {
  let i = start
  while (i < end && TOKEN[src[i] as number] === 1) i++
  // A token followed by SP is a method of the wrong shape (e.g. lowercase); anything else is not
  // a request line at all.
  return i > start && i < end && src[i] === SP ? 'BAD_METHOD' : 'BAD_REQUEST_LINE'
}
