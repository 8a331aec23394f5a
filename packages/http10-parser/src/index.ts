export { isTargetError, PARSE_ERROR_STATUS, ParseError, type ParseErrorCode } from './errors.js'
export {
  formatProxyHeaderV1,
  formatProxyHeaderV2,
  type ProxyHeaderV1Fields,
  type ProxyHeaderV2Fields,
  type ProxyTlv,
} from './format-proxy-header.js'
export { formatResponseHead } from './format-response-head.js'
export { DEFAULT_LIMITS, type ParserLimits } from './limits.js'
export { KNOWN_METHODS } from './methods.js'
export {
  MAX_PROXY_HEADER_BYTES,
  type ProxyHeader,
  type ProxyHeaderResult,
  parseProxyHeader,
  type TcpProxyHeader,
  type UnixProxyHeader,
  type UnknownProxyHeader,
} from './proxy-header.js'
export { type HttpVersion, type ParseStep, type RequestHead, RequestParser } from './request-parser.js'
export {
  type ResponseHead,
  ResponseParser,
  type ResponseParserOptions,
  type ResponseStep,
} from './response-parser.js'
export { STATUS_TEXT } from './status-text.js'
export { type ParsedTarget, parseTarget } from './target.js'
