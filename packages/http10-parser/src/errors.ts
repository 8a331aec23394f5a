/**
 * Every error code and the HTTP status a server answers it with. Codes are added, never renamed.
 * The response-side codes (BAD_STATUS_LINE, INCOMPLETE_RESPONSE) map to 502 as a gateway would.
 */
export const PARSE_ERROR_STATUS = {
  BAD_REQUEST_LINE: 400,
  BAD_METHOD: 400,
  BAD_VERSION: 400,
  BAD_TARGET: 400,
  BAD_HEADER: 400,
  BAD_CONTENT_LENGTH: 400,
  TRANSFER_ENCODING_WITH_CONTENT_LENGTH: 400,
  INCOMPLETE_REQUEST: 400,
  BAD_PROXY_HEADER: 400,
  FORBIDDEN_TARGET: 404,
  LENGTH_REQUIRED: 411,
  BODY_TOO_LARGE: 413,
  URI_TOO_LONG: 414,
  HEADER_TOO_LARGE: 431,
  TOO_MANY_HEADERS: 431,
  BAD_RESPONSE_HEAD: 500,
  METHOD_NOT_IMPLEMENTED: 501,
  TRANSFER_ENCODING_UNSUPPORTED: 501,
  BAD_STATUS_LINE: 502,
  INCOMPLETE_RESPONSE: 502,
  VERSION_UNSUPPORTED: 505,
} as const

export type ParseErrorCode = keyof typeof PARSE_ERROR_STATUS

/**
 * The one error type of this package: bad input (or an impossible response head to format).
 * @example
 * try { parser.push(chunk) } catch (err) { if (err instanceof ParseError) reply(err.status) }
 */
export class ParseError extends Error {
  override name = 'ParseError'
  readonly code: ParseErrorCode
  readonly status: number
  constructor(code: ParseErrorCode, message: string) {
    super(message) // a client may read this: short, no internals
    this.code = code
    this.status = PARSE_ERROR_STATUS[code]
  }
}

/** Short client-safe messages, one per code, so call sites pass only the code. */
const MESSAGES: Readonly<Record<ParseErrorCode, string>> = {
  BAD_REQUEST_LINE: 'malformed request line',
  BAD_METHOD: 'malformed method',
  BAD_VERSION: 'malformed HTTP version',
  BAD_TARGET: 'malformed request target',
  BAD_HEADER: 'malformed header field',
  BAD_CONTENT_LENGTH: 'invalid Content-Length',
  TRANSFER_ENCODING_WITH_CONTENT_LENGTH: 'Transfer-Encoding together with Content-Length',
  INCOMPLETE_REQUEST: 'connection closed before the request was complete',
  BAD_PROXY_HEADER: 'malformed PROXY protocol header',
  FORBIDDEN_TARGET: 'not found',
  LENGTH_REQUIRED: 'Content-Length required',
  BODY_TOO_LARGE: 'request body too large',
  URI_TOO_LONG: 'request line too long',
  HEADER_TOO_LARGE: 'header block too large',
  TOO_MANY_HEADERS: 'too many header fields',
  BAD_RESPONSE_HEAD: 'invalid response head',
  METHOD_NOT_IMPLEMENTED: 'method not implemented',
  TRANSFER_ENCODING_UNSUPPORTED: 'Transfer-Encoding not supported',
  BAD_STATUS_LINE: 'malformed status line',
  INCOMPLETE_RESPONSE: 'connection closed before the response was complete',
  VERSION_UNSUPPORTED: 'HTTP version not supported',
}

export function createParseError(code: ParseErrorCode): ParseError {
  return new ParseError(code, MESSAGES[code])
}

/**
 * True for the errors `parseTarget` throws (BAD_TARGET, FORBIDDEN_TARGET).
 * @example
 * if (isTargetError(err)) return reply(err.status)
 */
export function isTargetError(error: unknown): error is ParseError {
  return error instanceof ParseError && (error.code === 'BAD_TARGET' || error.code === 'FORBIDDEN_TARGET')
}
