/**
 * Every failure the logger reports, with the HTTP status the server maps it to. None of them is a
 * client's fault, so all map to 500; the table keeps the package shaped like its siblings.
 * Codes are added, never renamed: the README lists each one (a test checks).
 */
export const LOG_ERROR_STATUS = {
  INVALID_OPTIONS: 500,
  OPEN_FAILED: 500,
  WRITE_FAILED: 500,
  REOPEN_FAILED: 500,
  CLOSE_FAILED: 500,
  CLOSED: 500,
} as const

export type LogErrorCode = keyof typeof LOG_ERROR_STATUS

/**
 * The one error class of @threadserve/logger: branch on `code`, never on the message.
 * @example
 * if (error instanceof LogError && error.code === 'OPEN_FAILED') process.exit(2)
 */
export class LogError extends Error {
  override name = 'LogError'
  readonly code: LogErrorCode
  readonly status: number

  constructor(code: LogErrorCode, message: string, options?: { cause: unknown }) {
    super(message, options)
    this.code = code
    this.status = LOG_ERROR_STATUS[code]
  }
}
