/**
 * Every error code, with the HTTP status a worker answers when the error stops a client request
 * (a permit request that times out, or whose supervisor is gone, is a 503 to the client).
 */
export const IPC_ERROR_STATUS = {
  INVALID_MESSAGE: 500,
  VERSION_UNSUPPORTED: 500,
  TIMEOUT: 503,
  CLOSED: 503,
  HANDLER_FAILED: 500,
  SEND_FAILED: 503,
  NO_IPC_CHANNEL: 500,
} as const

export type IpcErrorCode = keyof typeof IPC_ERROR_STATUS

/** The one error class of this package: branch on `code`, never on the message text. */
export class IpcError extends Error {
  override name = 'IpcError'
  readonly code: IpcErrorCode
  readonly status: number
  constructor(code: IpcErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.status = IPC_ERROR_STATUS[code]
  }
}
