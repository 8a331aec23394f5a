import type { Server, Socket } from 'node:net'

/**
 * What `send` can pass along: a socket, a server, or a raw libuv handle (the bound TCP handle of
 * the 'listen' message, as `net._createServerHandle` returns it: it arrives raw at the peer).
 */
export type SendableHandle = Socket | Server | NativeHandle

/** A raw libuv handle (a TCP wrap): what a peer receives for a raw handle sent with `send`. */
export interface NativeHandle {
  close(callback?: () => void): void
}

/**
 * What a handler receives with a message: a `net.Socket` for a socket sent as one, the raw
 * handle for a raw handle (the peer wraps it itself: `new net.Socket({ handle })`).
 */
export type ReceivedHandle = Socket | NativeHandle

/**
 * Node's send options. `keepOpen: true` leaves the sender's copy of a socket open after it is
 * sent, so the sender can still close it if the peer never takes it (it must close it itself).
 */
export interface SendOptions {
  readonly keepOpen?: boolean
}

// Nobody will ever own a handle that arrives with a message nobody takes: close it rather than
// leak its file descriptor.
export function releaseHandle(handle: unknown): void {
  if (handle === undefined || handle === null) return
  const closable = handle as { destroy?: () => void; close?: () => void }
  if (typeof closable.destroy === 'function') closable.destroy()
  else if (typeof closable.close === 'function') closable.close()
}
