export { isTargetError, PARSE_ERROR_STATUS, ParseError, type ParseErrorCode } from './errors.js'
export { formatResponseHead } from './format-response-head.js'
export { DEFAULT_LIMITS, type ParserLimits } from './limits.js'
export { KNOWN_METHODS } from './methods.js'
export { type HttpVersion, type ParseStep, type RequestHead, RequestParser } from './request-parser.js'
export {
  type ResponseHead,
  ResponseParser,
  type ResponseParserOptions,
  type ResponseStep,
} from './response-parser.js'
export { STATUS_TEXT } from './status-text.js'
export { type ParsedTarget, parseTarget } from './target.js'
