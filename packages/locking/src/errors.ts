/**
 * Every error code, with the HTTP status a server answers when the error stops a client request:
 * contention and giving up on a wait are a 503 (try again later), misuse and broken locks are our
 * own fault, so 500. Codes are added, never renamed: the README lists each one (a test checks).
 */
export const LOCK_ERROR_STATUS = {
  LOCKED: 503,
  TIMEOUT: 503,
  ABORTED: 503,
  NOT_HELD: 500,
  COMPROMISED: 500,
  INVALID_ARGUMENT: 500,
  IO_FAILED: 500,
} as const

export type LockErrorCode = keyof typeof LOCK_ERROR_STATUS

/** Every code of {@link LockError}, in table order. */
export const LOCK_ERROR_CODES: readonly LockErrorCode[] = Object.freeze(
  Object.keys(LOCK_ERROR_STATUS) as LockErrorCode[],
)

/**
 * The one error class of @threadserve/locking: branch on `code`, never on the message.
 * @example
 * if (error instanceof LockError && error.code === 'LOCKED') exitWith('another server holds the pid file')
 */
export class LockError extends Error {
  override name = 'LockError'
  readonly code: LockErrorCode
  readonly status: number

  constructor(code: LockErrorCode, message: string, options?: { cause: unknown }) {
    super(message, options)
    this.code = code
    this.status = LOCK_ERROR_STATUS[code]
  }
}
