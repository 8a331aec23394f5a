import type { Transport } from '../transport/transport.js'

// The timers every connection sets: module-level callbacks shared by all connections (no
// closure per connection), each given its connection or transport as the timer's argument.

/** What the timers call (http/connection.ts). */
export interface TimedConnection {
  handleHeaderDeadline(): void
  closeIfIdle(): void
}

/** setTimeout callback: the request head did not arrive in time. */
export function onHeaderDeadline(target: TimedConnection): void {
  target.handleHeaderDeadline()
}
/** setTimeout callback: a persistent connection sat idle too long between requests. */
export function onKeepAliveIdle(target: TimedConnection): void {
  target.closeIfIdle()
}
/** setTimeout callback: a lingering close is over. */
export function destroyTransport(transport: Transport): void {
  transport.destroy()
}
