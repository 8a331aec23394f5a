import { Socket, type SocketConstructorOpts } from 'node:net'
import { sharedReadBuffer } from './read-buffer.js'
import type { Transport, TransportEvents, WriteDone } from './transport.js'

// The fallback transport: the handle wrapped in a net.Socket the way net.Server wraps one it
// accepted with pauseOnConnect (`handle`, `pauseOnCreate`: the options node's own accept path
// uses), reading into the shared buffer (`onread`, no 'data' events). Slower than
// raw-transport.ts (a Duplex per connection), and public API but for those two options: used
// when this Node lacks the internals the raw transport needs (common/node-internals.ts).

const TRANSPORT = Symbol('transport')
type OwnedSocket = Socket & { [TRANSPORT]: SocketTransport }

function transportOf(socket: Socket): SocketTransport {
  return (socket as OwnedSocket)[TRANSPORT]
}

// Module-level listeners shared by every socket (no closure per connection).
function onRead(this: Socket, bytes: number, buffer: Buffer): void {
  transportOf(this).events?.handleData(buffer.subarray(0, bytes))
}
function onEnd(this: Socket): void {
  transportOf(this).events?.handleEnd()
}
function onTimeout(this: Socket): void {
  transportOf(this).events?.handleIdle()
}
function onFinish(this: Socket): void {
  transportOf(this).events?.handleFlushed()
}
function onClose(this: Socket): void {
  transportOf(this).events?.handleClose()
}
function onError(): void {
  // 'close' always follows; resets from clients are normal and not worth a log line.
}

export class SocketTransport implements Transport {
  readonly #socket: Socket
  readonly remoteAddress: string
  events: TransportEvents | null = null

  constructor(handle: unknown) {
    const options = {
      handle,
      readable: true,
      writable: true,
      pauseOnCreate: true,
      onread: { buffer: sharedReadBuffer, callback: onRead },
    }
    const socket = new Socket(options as SocketConstructorOpts)
    ;(socket as OwnedSocket)[TRANSPORT] = this
    this.#socket = socket
    // HTTP/1.0 clients may half-close once the request is out and still wait for the answer (RFC
    // 9112 §9.6); Node's allowHalfOpen=false would end our side at their FIN, before we answer.
    socket.allowHalfOpen = true
    socket.on('error', onError)
    // Read now: once the peer has gone, getpeername() fails and the log would lose the address.
    this.remoteAddress = socket.remoteAddress ?? '-'
  }

  get destroyed(): boolean {
    return this.#socket.destroyed
  }
  get ended(): boolean {
    return this.#socket.writableEnded
  }
  get finished(): boolean {
    return this.#socket.writableFinished
  }
  get bytesWritten(): number {
    return this.#socket.bytesWritten
  }
  get pendingBytes(): number {
    return this.#socket.writableLength
  }

  attach(events: TransportEvents): void {
    this.events = events
    const socket = this.#socket
    socket.on('end', onEnd)
    socket.on('timeout', onTimeout)
    socket.on('finish', onFinish)
    socket.on('close', onClose)
  }

  setNoDelay(): void {
    this.#socket.setNoDelay(true)
  }

  setIdleTimeout(ms: number): void {
    this.#socket.setTimeout(ms)
  }

  pause(): void {
    this.#socket.pause()
  }

  resume(): void {
    this.#socket.resume()
  }

  write(head: string, body: Buffer | null, done?: WriteDone): void {
    const socket = this.#socket
    if (socket.destroyed || socket.writableEnded) {
      if (done !== undefined) process.nextTick(done, new Error('write after the connection ended'))
      return
    }
    if (head === '') {
      socket.write(body ?? Buffer.alloc(0), done)
      return
    }
    socket.cork() // head and body leave in one writev
    socket.write(head, 'latin1', body === null ? done : undefined)
    if (body !== null) socket.write(body, done)
    socket.uncork()
  }

  end(): void {
    this.#socket.end()
  }

  endAndClose(): void {
    this.#socket.destroySoon()
  }

  destroy(): void {
    this.#socket.destroy()
  }
}
