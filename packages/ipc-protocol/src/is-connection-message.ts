import { type ConnectionMessage, PROTOCOL_VERSION } from './messages.js'

/**
 * Accepts exactly what the `ConnectionMessage` schema accepts, without zod: 'connection' is sent
 * once per accepted TCP connection, the one message on the accept/dispatch hot path. The schema
 * stays the contract; a property test checks that both agree on arbitrary input, and
 * bench/run.ts measures the difference.
 * @example
 * if (isConnectionMessage(raw)) handOff(raw.id, socket)
 */
export function isConnectionMessage(value: unknown): value is ConnectionMessage {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const message = value as Record<string, unknown>
  if (message.type !== 'connection' || message.v !== PROTOCOL_VERSION) return false
  const id = message.id
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) return false
  const acceptedAt = message.acceptedAt
  if (typeof acceptedAt !== 'number' || !Number.isFinite(acceptedAt) || acceptedAt < 0) return false
  // z.strictObject rejects any other key that for...in yields (so inherited enumerable ones too).
  for (const key in message) {
    if (key !== 'type' && key !== 'v' && key !== 'id' && key !== 'acceptedAt') return false
  }
  return true
}
