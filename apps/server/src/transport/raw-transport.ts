import { type RawStream, type RawStreamInternals, rawStreams, type StreamRequest } from '../common/node-internals.js'
import { sharedReadBuffer } from './read-buffer.js'
import type { Transport, TransportEvents, WriteDone } from './transport.js'

// A connection on the libuv TCP handle itself, driven as node's net.js drives it (readStart into
// a user buffer, writev through a WriteWrap tried synchronously first, shutdown through a
// ShutdownWrap, close), without the net.Socket around it: no Duplex and its two stream states,
// no event emitter, no nextTick per write. Per connection: this object, the handle, one timer
// while an idle timeout is set, and node's request objects per write. Callbacks are module
// functions that find the transport through the handle or request (`owner`), not closures.
// Only constructed when `rawStreams` is not null (transport/create-transport.ts).

const EMPTY = Buffer.alloc(0)
const internals = rawStreams as RawStreamInternals

/** A WriteWrap carrying what its completion needs. */
interface WriteRequest extends StreamRequest {
  bytes: number
  done: WriteDone | undefined
}

function writeError(status: number): Error {
  return Object.assign(new Error(`write failed (${status})`), { errno: status })
}

export class RawTransport implements Transport {
  readonly #handle: RawStream
  readonly remoteAddress: string
  #events: TransportEvents | null = null
  #reading = false
  #noDelay = false
  #peerEnded = false
  #destroyed = false
  #ended = false
  #finished = false
  /** end and close as soon as the last write is in the kernel (endAndClose). */
  #closeWhenWritten = false
  #bytesWritten = 0
  #pendingBytes = 0
  #idleTimer: NodeJS.Timeout | null = null
  /** The write queue's size when the idle timer last fired. */
  #lastQueued = 0

  constructor(handle: RawStream) {
    this.#handle = handle
    handle.owner = this
    handle.onread = onRead
    handle.useUserBuffer(sharedReadBuffer)
    // Read now: once the peer has gone, getpeername() fails and the log would lose the address.
    const peer: Record<string, unknown> = {}
    this.remoteAddress = handle.getpeername(peer) === 0 && typeof peer.address === 'string' ? peer.address : '-'
  }

  get destroyed(): boolean {
    return this.#destroyed
  }
  get ended(): boolean {
    return this.#ended
  }
  get finished(): boolean {
    return this.#finished
  }
  get bytesWritten(): number {
    return this.#bytesWritten
  }
  get pendingBytes(): number {
    return this.#pendingBytes
  }

  attach(events: TransportEvents): void {
    this.#events = events
  }

  setNoDelay(): void {
    if (this.#noDelay || this.#destroyed) return
    this.#noDelay = true
    this.#handle.setNoDelay(true)
  }

  setIdleTimeout(ms: number): void {
    if (this.#idleTimer !== null) clearTimeout(this.#idleTimer)
    this.#idleTimer = ms > 0 && !this.#destroyed ? setTimeout(onIdle, ms, this) : null
  }

  pause(): void {
    if (!this.#reading) return
    this.#reading = false
    this.#handle.readStop()
  }

  resume(): void {
    if (this.#reading || this.#peerEnded || this.#destroyed) return
    this.#reading = true
    if (this.#handle.readStart() < 0) this.destroy()
  }

  write(head: string, body: Buffer | null, done?: WriteDone): void {
    if (this.#destroyed || this.#ended) {
      if (done !== undefined) process.nextTick(done, new Error('write after the connection ended'))
      return
    }
    const { WriteWrap, state, kBytesWritten, kLastWriteWasAsync } = internals
    const handle = this.#handle
    const request = new WriteWrap() as WriteRequest
    request.handle = handle
    request.owner = this
    request.oncomplete = afterWrite
    request.done = done
    const status =
      head === ''
        ? handle.writeBuffer(request, body ?? EMPTY)
        : body === null || body.length === 0
          ? handle.writeLatin1String(request, head)
          : handle.writev(request, [head, 'latin1', body, 'buffer'] as unknown as Uint8Array[], false as true)
    if (status < 0) {
      this.destroy()
      if (done !== undefined) process.nextTick(done, writeError(status))
      return
    }
    const bytes = state[kBytesWritten] as number
    this.#bytesWritten += bytes
    this.#idleTimer?.refresh()
    if (state[kLastWriteWasAsync] !== 0) {
      request.bytes = bytes
      this.#pendingBytes += bytes
    } else if (done !== undefined) {
      process.nextTick(done, null) // never from inside write(), as net.Socket
    }
  }

  end(): void {
    if (this.#ended || this.#destroyed) return
    this.#ended = true
    const request = new internals.ShutdownWrap()
    request.handle = this.#handle
    request.owner = this
    request.oncomplete = afterShutdown
    if (this.#handle.shutdown(request) < 0) this.destroy()
  }

  /**
   * Closes once everything written is in the kernel, without a half-close first: for a response
   * after which the client has nothing left to send (its request was read whole, nothing after
   * it), as nginx does. close(2) with an empty receive queue sends our data, then FIN.
   */
  endAndClose(): void {
    if (this.#destroyed) return
    this.#ended = true
    if (this.#pendingBytes === 0) this.destroy()
    else this.#closeWhenWritten = true
  }

  destroy(): void {
    if (this.#destroyed) return
    this.#destroyed = true
    this.#reading = false
    if (this.#idleTimer !== null) clearTimeout(this.#idleTimer)
    this.#idleTimer = null
    this.#handle.close(afterClose)
  }

  // What node's callbacks (the module functions below) deliver. Not for callers.

  /** The handle read something: bytes at the start of the shared buffer, EOF, or an error. */
  readCompleted(result: number): void {
    if (this.#destroyed) return
    if (result > 0) {
      this.#idleTimer?.refresh()
      this.#events?.handleData(sharedReadBuffer.subarray(0, result))
    } else if (result === internals.UV_EOF) {
      this.#peerEnded = true
      this.#reading = false // libuv stops reading at EOF
      this.#events?.handleEnd()
      if (this.#finished) this.destroy() // both sides ended
    } else if (result < 0) {
      this.destroy() // a reset: 'close' follows; resets are normal, not worth a log line
    }
  }

  writeCompleted(request: WriteRequest, status: number): void {
    this.#pendingBytes -= request.bytes
    if (status < 0) {
      this.destroy()
      request.done?.(writeError(status))
      return
    }
    this.#idleTimer?.refresh()
    if (this.#closeWhenWritten && this.#pendingBytes === 0) this.destroy()
    request.done?.(null)
  }

  shutdownCompleted(): void {
    this.#finished = true
    if (this.#destroyed) return
    this.#events?.handleFlushed()
    if (this.#peerEnded) this.destroy() // both sides ended
  }

  closeCompleted(): void {
    this.#events?.handleClose()
  }

  idleTimeout(): void {
    if (this.#destroyed) return
    // As net.Socket: a write still draining (its queue moved since the last look) is activity.
    const queued = this.#handle.writeQueueSize
    if (this.#pendingBytes > 0 && queued !== this.#lastQueued) {
      this.#lastQueued = queued
      this.#idleTimer?.refresh()
      return
    }
    // Fired once; the next read or write re-arms it (refresh() on a fired timer), as net.Socket.
    this.#events?.handleIdle()
  }
}

function onRead(this: RawStream): void {
  ;(this.owner as RawTransport).readCompleted(internals.state[internals.kReadBytesOrError] as number)
}
function afterWrite(this: StreamRequest, status: number): void {
  ;(this.owner as RawTransport).writeCompleted(this as WriteRequest, status)
}
function afterShutdown(this: StreamRequest): void {
  ;(this.owner as RawTransport).shutdownCompleted()
}
function afterClose(this: RawStream): void {
  const transport = this.owner as RawTransport
  this.owner = null
  transport.closeCompleted()
}
function onIdle(transport: RawTransport): void {
  transport.idleTimeout()
}
