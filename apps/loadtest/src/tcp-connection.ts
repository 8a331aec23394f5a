import { getSystemErrorName } from 'node:util'

// A client TCP connection on node's own libuv handle (TCPWrap), with no net.Socket around it. With
// one request per connection, net.Socket's streams, events and nextTick hops are paid once per
// request: against nginx, 1 KiB, one process, the generator's own CPU is ~25 µs per request with
// a net.Socket and ~17-20 µs on the bare handle (ab's: ~4 µs); the kernel's ~55 µs (connect,
// write, close on loopback) is the same for all three (docs/performance.md). The handle is driven
// as node's net.js drives it: connect with a TCPConnectWrap, readStart into a user buffer,
// writeBuffer with a WriteWrap (tried synchronously first), shutdown with a ShutdownWrap, close.

interface Binding {
  TCP: new (type: number) => TcpHandle
  TCPConnectWrap: new () => Request
  constants: { SOCKET: number }
}
interface StreamBinding {
  WriteWrap: new () => Request
  ShutdownWrap: new () => Request
  streamBaseState: Int32Array
  kReadBytesOrError: number
}
interface Request {
  handle: TcpHandle | null
  oncomplete: ((this: Request, status: number, handle?: TcpHandle) => void) | null
}
interface TcpHandle {
  connection: TcpConnection
  onread: (this: TcpHandle) => void
  connect(request: Request, address: string, port: number): number
  connect6(request: Request, address: string, port: number): number
  setNoDelay(on: boolean): number
  useUserBuffer(buffer: Uint8Array): void
  readStart(): number
  writeBuffer(request: Request, buffer: Uint8Array): number
  shutdown(request: Request): number
  close(callback: (this: TcpHandle) => void): void
}

// `process.binding` is deprecated in favour of public APIs, but these modules stay on its allow
// list (node's own tests use them) and no public API reaches the handle without a net.Socket.
const bind = (process as unknown as { binding(name: string): unknown }).binding
const { TCP, TCPConnectWrap, constants } = bind('tcp_wrap') as Binding
const { WriteWrap, ShutdownWrap, streamBaseState, kReadBytesOrError } = bind('stream_wrap') as StreamBinding
const { UV_EOF } = bind('uv') as { UV_EOF: number }

/** What a connection reports, in the order net.Socket would: an error or the end, then the close. */
export interface ConnectionEvents {
  onConnect(): void
  /** `bytes` new bytes at the start of the read buffer. */
  onData(bytes: number): void
  /** The server closed its side; the connection closes after this unless the handler did. */
  onEnd(): void
  /** `code` is the errno name (ECONNREFUSED, ECONNRESET, ...); the connection closes after this. */
  onError(code: string): void
  onClose(): void
}

export interface ConnectTarget {
  readonly address: string
  readonly port: number
  readonly ipv6: boolean
  readonly noDelay: boolean
}

function fail(connection: TcpConnection, status: number): void {
  connection.events.onError(getSystemErrorName(status))
  connection.close()
}

function onRead(this: TcpHandle): void {
  const connection = this.connection
  if (connection.handle !== this) return
  const bytes = streamBaseState[kReadBytesOrError] as number
  if (bytes > 0) connection.events.onData(bytes)
  else if (bytes === UV_EOF) {
    connection.events.onEnd()
    connection.close()
  } else if (bytes < 0) fail(connection, bytes)
}

function afterConnect(this: Request, status: number, handle?: TcpHandle): void {
  const connection = handle?.connection
  // A close while connecting completes the request with ECANCELED: that handle is gone.
  if (handle === undefined || connection === undefined || connection.handle !== handle) return
  const error = status < 0 ? status : handle.readStart()
  if (error < 0) fail(connection, error)
  else connection.events.onConnect()
}

function afterWrite(this: Request, status: number): void {
  const handle = this.handle
  if (status < 0 && handle !== null && handle.connection.handle === handle) fail(handle.connection, status)
}

function afterShutdown(this: Request): void {}

function afterClose(this: TcpHandle): void {
  const connection = this.connection
  const error = connection.pendingError
  if (error !== 0) {
    connection.pendingError = 0
    connection.events.onError(getSystemErrorName(error))
  }
  connection.events.onClose()
}

/**
 * One client connection at a time, reconnected as often as needed: each connect opens a fresh
 * libuv handle that reads into the same buffer. Callbacks are module functions that find the
 * connection through the handle, so nothing is allocated per connection but node's own objects.
 * @example
 * const connection = new TcpConnection(events, Buffer.allocUnsafe(65536))
 * connection.connect({ address: '127.0.0.1', port: 8080, ipv6: false, noDelay: false })
 */
export class TcpConnection {
  readonly events: ConnectionEvents
  readonly readBuffer: Buffer
  /** The open handle; null once closing. */
  handle: TcpHandle | null = null
  /** A connect or write failed synchronously (errno): reported as an error once the handle has closed. */
  pendingError = 0

  constructor(events: ConnectionEvents, readBuffer: Buffer) {
    this.events = events
    this.readBuffer = readBuffer
  }

  connect(target: ConnectTarget): void {
    const handle = new TCP(constants.SOCKET)
    handle.connection = this
    handle.onread = onRead
    handle.useUserBuffer(this.readBuffer)
    if (target.noDelay) handle.setNoDelay(true)
    this.handle = handle
    const request = new TCPConnectWrap()
    request.oncomplete = afterConnect
    const error = target.ipv6
      ? handle.connect6(request, target.address, target.port)
      : handle.connect(request, target.address, target.port)
    if (error < 0) this.#closeWithError(error)
  }

  write(bytes: Buffer): void {
    const handle = this.handle
    if (handle === null) return
    const request = new WriteWrap()
    request.handle = handle
    request.oncomplete = afterWrite
    // Tried at once (uv_try_write); what does not fit is queued and ends in afterWrite.
    const error = handle.writeBuffer(request, bytes)
    if (error < 0) this.#closeWithError(error)
  }

  /** Half-closes: sends FIN after any queued write and keeps reading. */
  end(): void {
    const handle = this.handle
    if (handle === null) return
    const request = new ShutdownWrap()
    request.handle = handle
    request.oncomplete = afterShutdown
    // A shutdown that fails at once ends the connection now, as connect and write errors do,
    // rather than leaving a draining slot to the timeout sweep.
    const error = handle.shutdown(request)
    if (error < 0) this.#closeWithError(error)
  }

  /** Closes now; `onClose` follows, from libuv's close callback. */
  close(): void {
    const handle = this.handle
    if (handle === null) return
    this.handle = null
    handle.close(afterClose)
  }

  #closeWithError(error: number): void {
    // Reported from the close callback, never from inside the caller's connect() or write().
    this.pendingError = error
    this.close()
  }
}
