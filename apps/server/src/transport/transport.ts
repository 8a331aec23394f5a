// What a client connection's bytes travel on. Two implementations: raw-transport.ts drives the
// libuv TCP handle directly (the default: no net.Socket, no stream state, no closure per
// connection), socket-transport.ts wraps the handle in a net.Socket (the fallback when this Node
// lacks the internals, common/node-internals.ts). The connection (http/connection.ts) sees only
// this interface; both behave as net.Socket does with allowHalfOpen (the peer's FIN is news,
// not the end) and close once both sides have ended.

/** What a transport tells its connection. Every call comes from the event loop, never from inside a transport method. */
export interface TransportEvents {
  /** Bytes from the client, valid only during this call (the worker's shared read buffer). */
  handleData(chunk: Buffer): void
  /** The client sent its FIN: it will send nothing more. */
  handleEnd(): void
  /** Nothing was read or written for the idle timeout (setIdleTimeout). */
  handleIdle(): void
  /** Our side is ended (end()) and everything written has been handed to the kernel. */
  handleFlushed(): void
  /** The connection is closed (always last, exactly once). */
  handleClose(): void
}

/** Called once a write is in the kernel (null) or has failed (then the transport is destroyed). */
export type WriteDone = (error?: Error | null) => void

export interface Transport {
  /** The client's address, read when the connection was admitted ('-' if it was already gone). */
  readonly remoteAddress: string
  /** Closed, or closing: nothing more is read or written. */
  readonly destroyed: boolean
  /** end() was called. */
  readonly ended: boolean
  /** end() was called and everything written is in the kernel. */
  readonly finished: boolean
  /** Bytes given to write() so far, including those not yet in the kernel. */
  readonly bytesWritten: number
  /** Bytes given to write() and not yet in the kernel (a slow reader's backlog). */
  readonly pendingBytes: number
  /** Starts delivering events to `events`; call once, before resume(). */
  attach(events: TransportEvents): void
  /** Sends small writes at once (TCP_NODELAY); once is enough, later calls cost nothing. */
  setNoDelay(): void
  /** handleIdle after `ms` without reads or writes (0: never). */
  setIdleTimeout(ms: number): void
  /** Stops reading (flow control); the kernel buffers, then the client's sends block. */
  pause(): void
  resume(): void
  /**
   * Writes `head` (latin1; '' for none) and `body` in one writev. `done` is called once both are
   * in the kernel, never synchronously; until then `body` must not change.
   */
  write(head: string, body: Buffer | null, done?: WriteDone): void
  /** Half-closes after what was written (FIN); reading goes on (a lingering close). */
  end(): void
  /**
   * Closes once everything written is in the kernel, with no half-close and no lingering read
   * first: for a response after which the client has nothing left to send (its request was read
   * whole, and nothing came after it).
   */
  endAndClose(): void
  /** Closes now; unsent bytes are dropped. */
  destroy(): void
}
