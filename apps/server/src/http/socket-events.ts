import type { Socket } from 'node:net'

// The listeners every client socket gets: module-level functions shared by all connections (no
// closure per connection). Each finds its connection through a symbol on the socket.

/** What the socket's events are delivered to (http/connection.ts). */
export interface SocketEventTarget {
  handleData(chunk: Buffer): void
  handleEnd(): void
  handleIdle(): void
  handleFlushed(): void
  handleClose(): void
  handleHeaderDeadline(): void
  closeIfIdle(): void
}

const TARGET = Symbol('connection')
type SocketWithTarget = Socket & { [TARGET]: SocketEventTarget }

function targetOf(socket: Socket): SocketEventTarget {
  return (socket as SocketWithTarget)[TARGET]
}

/**
 * How every client socket's bytes arrive: sockets are made by worker/client-socket.ts with this
 * as their `onRead` (no 'data' events), and the chunk lives only during this call.
 */
export function onSharedRead(this: Socket, bytes: number, buffer: Buffer): void {
  targetOf(this).handleData(buffer.subarray(0, bytes))
}
function onSocketClose(this: Socket): void {
  targetOf(this).handleClose()
}
/** The socket's inactivity timeout (socket.setTimeout). */
export function onSocketTimeout(this: Socket): void {
  targetOf(this).handleIdle()
}
function onSocketEnd(this: Socket): void {
  targetOf(this).handleEnd()
}
function onSocketError(): void {
  // 'close' always follows; resets from clients are normal and not worth a log line.
}
function onResponseFlushed(this: Socket): void {
  targetOf(this).handleFlushed()
}

/** setTimeout callback: the request head did not arrive in time. */
export function onHeaderDeadline(target: SocketEventTarget): void {
  target.handleHeaderDeadline()
}
/** setTimeout callback: a persistent connection sat idle too long between requests. */
export function onKeepAliveIdle(target: SocketEventTarget): void {
  target.closeIfIdle()
}
/** setTimeout callback: a lingering close is over. */
export function destroySocket(socket: Socket): void {
  socket.destroy()
}

/** Delivers `socket`'s events to `target`. */
export function attachSocket(socket: Socket, target: SocketEventTarget): void {
  ;(socket as SocketWithTarget)[TARGET] = target
  socket.on('end', onSocketEnd)
  socket.on('error', onSocketError)
  socket.on('close', onSocketClose)
  socket.on('finish', onResponseFlushed)
}
