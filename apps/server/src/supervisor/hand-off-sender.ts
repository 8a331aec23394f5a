import { encodeHandOffFrame, HAND_OFF_FRAME_BYTES } from '@threadserve/ipc-protocol'
import type { PipeHandle, PipeInternals, PipeRequest } from '../common/node-internals.js'
import type { TcpHandle } from '../common/tcp-handle.js'

// The supervisor's end of one worker's hand-off pipe (common/hand-off-pair.ts): each connection
// is one 16-byte frame written with the client's descriptor attached (uv_write2), with no JSON
// and no wait for the worker to acknowledge it, so any number can be in the pipe at once. Node's
// IPC needs a round trip through the worker's event loop per handle.

// Past this many bytes queued in user space (the kernel's socket buffer is full: the worker has
// stopped reading), the worker takes no more: 256 connections. The kernel itself holds a few
// hundred more (its buffer, and its limit on descriptors in flight).
const MAX_QUEUED_BYTES = 256 * HAND_OFF_FRAME_BYTES

/** A hand-off write: the client whose descriptor it carries, and its frame (kept alive with it). */
interface HandOffWrite extends PipeRequest {
  owner: TcpHandle
  frame: Uint8Array | null
  sender: HandOffSender
}

// One completion function for every write (node calls it with the request as `this`).
function onHandOffWritten(this: PipeRequest, status: number): void {
  const write = this as HandOffWrite
  write.frame = null
  write.sender.written(write.owner, status)
}

export class HandOffSender {
  readonly #pipe: PipeHandle
  readonly #internals: PipeInternals
  #open = true
  #closed = false
  #finished: (() => void) | null = null

  /**
   * `onUndelivered`: a client whose write failed (the worker's end is gone) or was cancelled by
   * close(); its descriptor never reached the worker, so the caller hands it to another.
   */
  constructor(
    pipe: PipeHandle,
    internals: PipeInternals,
    readonly onUndelivered: (client: TcpHandle) => void,
  ) {
    this.#pipe = pipe
    this.#internals = internals
  }

  /** False once a write failed or close() was called: the worker is reached over Node's IPC then. */
  get usable(): boolean {
    return this.#open
  }

  /** False while the worker is not reading its pipe fast enough to take more. */
  get hasRoom(): boolean {
    return this.#pipe.writeQueueSize <= MAX_QUEUED_BYTES
  }

  /**
   * Writes the frame with the client's descriptor; our copy of the client is closed once the
   * descriptor is in the kernel. False (the client untouched, the pipe unusable from now on)
   * when the write could not even start.
   */
  send(client: TcpHandle, id: number, acceptedAt: number): boolean {
    if (!this.#open) return false
    const request = new this.#internals.WriteWrap() as HandOffWrite
    // Each write its own frame: libuv sends from this memory, later if the kernel buffer is full.
    const frame = encodeHandOffFrame({ id, acceptedAt }, Buffer.allocUnsafe(HAND_OFF_FRAME_BYTES))
    request.owner = client
    request.frame = frame
    request.sender = this
    request.oncomplete = onHandOffWritten
    if (this.#pipe.writeBuffer(request, frame, client) !== 0) {
      this.#open = false
      return false
    }
    // With a descriptor libuv always completes later (uv_write2 has no synchronous report), but
    // should Node ever report the write done here, no oncomplete follows.
    if (this.#internals.state[this.#internals.kLastWriteWasAsync] === 0) client.close()
    return true
  }

  /**
   * Resolves once the worker has read every frame we wrote, so that a 'shutdown' sent over Node's
   * IPC next cannot overtake a connection still in this pipe (the two are separate sockets, so
   * nothing orders them): we end our writing side after the queued writes, the worker reads up
   * to that end and closes its own (worker/hand-off-receiver.ts), and we read its end. Resolves
   * at once if the pipe is already unusable, and after `timeoutMs` regardless.
   */
  finish(timeoutMs: number): Promise<void> {
    if (!this.#open) return Promise.resolve()
    this.#open = false // no new connections: the worker is retiring
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.#finished = null
        resolve()
      }
      const timer = setTimeout(done, timeoutMs)
      timer.unref()
      this.#finished = done // the worker may exit first: close() ends the wait
      const pipe = this.#pipe
      pipe.onread = () => {
        if ((this.#internals.state[this.#internals.kReadBytesOrError] as number) < 0) done()
      }
      const request = new this.#internals.ShutdownWrap()
      request.oncomplete = (status) => {
        if (status !== 0) done() // the worker's end is gone already
      }
      if (pipe.readStart() !== 0 || pipe.shutdown(request) !== 0) done()
    })
  }

  /** The worker has exited: writes still queued come back through onUndelivered (ECANCELED). */
  close(): void {
    this.#open = false
    if (this.#closed) return
    this.#closed = true
    this.#pipe.close()
    this.#finished?.()
  }

  /** A write of ours completed (called by onHandOffWritten). */
  written(client: TcpHandle, status: number): void {
    if (status === 0) {
      client.close() // the descriptor is in the worker's pipe: the worker owns the connection now
      return
    }
    this.#open = false // EPIPE, ECONNRESET: the worker's end is gone, or it never opened it
    this.onUndelivered(client)
  }
}
