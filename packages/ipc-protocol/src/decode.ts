import type * as z from 'zod/mini'
import en from 'zod/v4/locales/en.js'
import { IpcError } from './errors.js'
import { isConnectionMessage } from './is-connection-message.js'
import { PROTOCOL_VERSION, SupervisorMessage, WorkerMessage } from './messages.js'

/**
 * Validates a message received from the supervisor; returns the message or an `IpcError`
 * (INVALID_MESSAGE, VERSION_UNSUPPORTED), never throws. 'connection' takes a hand-written check.
 * @example
 * const message = decodeSupervisorMessage(raw)
 * if (message instanceof IpcError) return report(message)
 */
export function decodeSupervisorMessage(raw: unknown): SupervisorMessage | IpcError {
  if (isConnectionMessage(raw)) return raw
  return decodeWith(SupervisorMessage, raw)
}

/**
 * Validates a message received from a worker; returns the message or an `IpcError`
 * (INVALID_MESSAGE, VERSION_UNSUPPORTED), never throws.
 * @example
 * const message = decodeWorkerMessage(raw)
 * if (message instanceof IpcError) return report(message)
 */
export function decodeWorkerMessage(raw: unknown): WorkerMessage | IpcError {
  return decodeWith(WorkerMessage, raw)
}

/** Without validation (`validate: false`): anything shaped like `{ type: string }` passes as is. */
export function decodeUnchecked<T extends { type: string }>(raw: unknown): T | IpcError {
  if (typeof raw === 'object' && raw !== null && typeof (raw as { type?: unknown }).type === 'string') return raw as T
  return new IpcError('INVALID_MESSAGE', `invalid message: expected an object with a string type, got ${kindOf(raw)}`)
}

// zod/mini carries no message text until a locale is set (every issue reads 'Invalid input'), and
// z.config() would set one for the whole process: for the consumer's own schemas too, and
// undoing its choice of language. Passed per parse, the English locale names what is wrong in
// our messages only, and outranks a global error map, so a consumer cannot reword them either.
const PARSE_OPTIONS = { error: en().localeError }

function decodeWith<T>(schema: z.ZodMiniType<T>, raw: unknown): T | IpcError {
  const result = schema.safeParse(raw, PARSE_OPTIONS)
  if (result.success) return result.data
  return describeFailure(raw, result.error)
}

// One line, for a log: the first issue only, and never the raw value (a peer controls its size).
function describeFailure(raw: unknown, error: z.core.$ZodError): IpcError {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return new IpcError('INVALID_MESSAGE', `invalid message: expected an object, got ${kindOf(raw)}`)
  }
  const { type, v } = raw as { type?: unknown; v?: unknown }
  const name = typeof type === 'string' ? `'${type.slice(0, 64)}'` : 'untyped'
  if (v !== undefined && v !== PROTOCOL_VERSION) {
    return new IpcError(
      'VERSION_UNSUPPORTED',
      `unsupported protocol version in ${name} message: got ${kindOf(v)}, expected ${PROTOCOL_VERSION}`,
    )
  }
  const issue = error.issues[0]
  const where = issue?.path.map(String).join('.') || 'message'
  return new IpcError('INVALID_MESSAGE', `invalid ${name} message: ${where}: ${issue?.message ?? 'rejected'}`)
}

function kindOf(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`
  return typeof value
}
