export { LOG_ERROR_STATUS, LogError, type LogErrorCode } from './errors.js'
export { formatJsonLine, formatTextLine } from './format-line.js'
export type { AccessLog, AccessLogOptions, AccessRecord, LogFormat } from './types.js'
export { createAccessLog } from './writer.js'
