import net from 'node:net'

// Every Node internal the server uses, in one place. None of it is public API; each piece was
// chosen because the public API pays per connection for something a file server does not need
// (a net.Socket's streams, event emitter, timers; child_process's JSON framing and per-handle
// acknowledgement). test/node-internals.test.ts checks each one by name, so that a Node release
// that changes one fails that file rather than the end-to-end tests by timeout; the app's
// README.md lists them under "Node internals".
//
// Used, and what happens without it:
// - net._createServerHandle(address, port, family): binds a raw listening TCP handle (what
//   node:cluster uses). Required: without it the server cannot start (a clear error).
// - TCP handles (tcp_wrap's TCPWrap): listen, onconnection, getsockname, getpeername,
//   setNoDelay, readStart/readStop, useUserBuffer, onread, writev, writeLatin1String,
//   writeBuffer, shutdown, close, bytesWritten; passed to a child over IPC as a raw handle.
// - process.binding('stream_wrap'): WriteWrap, ShutdownWrap, streamBaseState with
//   kReadBytesOrError, kBytesWritten, kLastWriteWasAsync (how net.js reads a handle's results).
//   Missing or changed: workers wrap each connection in a net.Socket instead (slower, same
//   behaviour): see `rawStreams` below.
// - process.binding('uv').UV_EOF: the read result that means "the peer ended".
// - process.binding('pipe_wrap'): Pipe (bind, listen, onconnection, connect, open, fd,
//   readStart, onread, pendingHandle, writeBuffer with a send handle, writeQueueSize, close),
//   PipeConnectWrap, constants SERVER and IPC; with stream_wrap's WriteWrap, ShutdownWrap, streamBaseState,
//   kReadBytesOrError, kArrayBufferOffset, kLastWriteWasAsync. They make the hand-off pipe: a
//   connected pair of AF_UNIX sockets per worker whose both ends are libuv IPC pipes, carrying a
//   16-byte frame and the client's descriptor per connection, with no JSON and no per-handle
//   acknowledgement. Missing or changed (or THREADSERVE_NODE_IPC_HANDOFF=1): connections go over
//   Node's IPC channel as 'connection' messages, as before: see `handOffPipes` below.
//
// `process.binding` is deprecated in favour of public APIs, but these modules are on its allow
// list (node's own tests use them) and no public API reaches a handle without a net.Socket.

/**
 * A raw libuv TCP handle (node's TCPWrap), as net._createServerHandle and a listening handle's
 * `onconnection` give them: what node:cluster's round-robin hand-off uses, with no net.Socket
 * (streams, event emitters, timers) built around it.
 */
export interface TcpHandle {
  getsockname(out: Record<string, unknown>): number
  listen(backlog: number): number
  onconnection: ((status: number, client?: TcpHandle) => void) | null
  close(callback?: () => void): void
}

/** A request object node's stream methods complete (WriteWrap, ShutdownWrap). */
export interface StreamRequest {
  handle: RawStream | null
  oncomplete: ((this: StreamRequest, status: number) => void) | null
  /** Ours: the connection the request belongs to. */
  owner: unknown
}

/** What a connected TCP handle offers (node's StreamBase and TCPWrap methods). */
export interface RawStream {
  onread: ((this: RawStream) => void) | null
  /** Ours: the connection the handle belongs to. */
  owner: unknown
  readonly bytesWritten: number
  readonly writeQueueSize: number
  getpeername(out: Record<string, unknown>): number
  setNoDelay(on: boolean): number
  useUserBuffer(buffer: Uint8Array): void
  readStart(): number
  readStop(): number
  writev(request: StreamRequest, chunks: Uint8Array[], allBuffers: true): number
  writeLatin1String(request: StreamRequest, text: string): number
  writeBuffer(request: StreamRequest, buffer: Uint8Array): number
  shutdown(request: StreamRequest): number
  close(callback?: (this: RawStream) => void): void
}

/** What stream_wrap gives both uses: request constructors and the results of the last stream call. */
interface StreamWrapInternals<Request> {
  readonly WriteWrap: new () => Request
  readonly ShutdownWrap: new () => Request
  /** Results of the last stream call: bytes read (or a negative errno), bytes written, async or not. */
  readonly state: Int32Array
  readonly kReadBytesOrError: number
  readonly kLastWriteWasAsync: number
}

/** The methods of a connected TCP handle that the raw transport calls. */
export const RAW_STREAM_METHODS = [
  'getpeername',
  'setNoDelay',
  'useUserBuffer',
  'readStart',
  'readStop',
  'writev',
  'writeLatin1String',
  'writeBuffer',
  'shutdown',
  'close',
] as const satisfies readonly (keyof RawStream)[]

export interface RawStreamInternals extends StreamWrapInternals<StreamRequest> {
  readonly kBytesWritten: number
  readonly UV_EOF: number
}

type Binding = (name: string) => unknown
type CreateServerHandle = (address: string, port: number, addressType: 4 | 6) => TcpHandle | number

function binding(name: string): Record<string, unknown> {
  return (process as unknown as { binding: Binding }).binding.call(process, name) as Record<string, unknown>
}

/** stream_wrap's part, checked; null if anything is missing or of another kind. */
function streamWrap(): StreamWrapInternals<never> | null {
  const streams = binding('stream_wrap')
  const internals = {
    WriteWrap: streams.WriteWrap,
    ShutdownWrap: streams.ShutdownWrap,
    state: streams.streamBaseState,
    kReadBytesOrError: streams.kReadBytesOrError,
    kLastWriteWasAsync: streams.kLastWriteWasAsync,
  }
  const complete =
    typeof internals.WriteWrap === 'function' &&
    typeof internals.ShutdownWrap === 'function' &&
    internals.state instanceof Int32Array &&
    typeof internals.kReadBytesOrError === 'number' &&
    typeof internals.kLastWriteWasAsync === 'number'
  return complete ? (internals as StreamWrapInternals<never>) : null
}

/** The stream internals as this Node has them, or null (what `rawStreams` holds unless forced off). */
export function loadRawStreams(): RawStreamInternals | null {
  try {
    const common = streamWrap()
    const { kBytesWritten } = binding('stream_wrap')
    const { UV_EOF } = binding('uv')
    // Every connection is a TCPWrap (accepted, or handed over): its prototype is checked once here.
    const prototype = (binding('tcp_wrap').TCP as { prototype?: Record<string, unknown> } | undefined)?.prototype
    const complete =
      common !== null &&
      typeof kBytesWritten === 'number' &&
      typeof UV_EOF === 'number' &&
      RAW_STREAM_METHODS.every((name) => typeof prototype?.[name] === 'function')
    if (!complete) return null
    return { ...common, kBytesWritten, UV_EOF }
  } catch {
    return null // process.binding gone, or a module off its allow list
  }
}

/**
 * The stream internals for serving connections on raw handles, or null when this Node does not
 * have them as expected (then connections use net.Socket). THREADSERVE_NET_SOCKET=1 forces the
 * fallback, to test it and to compare the two.
 */
export const rawStreams: RawStreamInternals | null =
  process.env.THREADSERVE_NET_SOCKET === '1' ? null : loadRawStreams()

/** net._createServerHandle, or null if this Node has none. */
export function serverHandleFactory(): CreateServerHandle | null {
  const create = (net as unknown as { _createServerHandle?: unknown })._createServerHandle
  return typeof create === 'function' ? (create as CreateServerHandle) : null
}

/** A libuv pipe (node's PipeWrap): a listener, or a connected end of the hand-off pair. */
export interface PipeHandle {
  onconnection: ((status: number, accepted?: PipeHandle) => void) | null
  onread: ((this: PipeHandle, arrayBuffer: ArrayBuffer | undefined) => void) | null
  /** Set by node before `onread` when the read carried a descriptor (ipc pipes only). */
  pendingHandle: TcpHandle | null
  readonly fd: number
  readonly writeQueueSize: number
  bind(name: string): number
  listen(backlog: number): number
  connect(request: PipeRequest, name: string): number
  open(fd: number): number
  readStart(): number
  readStop(): number
  writeBuffer(request: PipeRequest, buffer: Uint8Array, sendHandle?: TcpHandle): number
  /** Ends our writing side once every queued write is out (the peer then reads EOF). */
  shutdown(request: PipeRequest): number
  close(callback?: () => void): void
  ref(): void
  unref(): void
}

/** A PipeConnectWrap or WriteWrap as a pipe completes it. */
export interface PipeRequest {
  oncomplete: ((this: PipeRequest, status: number) => void) | null
  /** Ours: what the request carries (the client handle of a hand-off write). */
  owner: unknown
}

export interface PipeInternals extends StreamWrapInternals<PipeRequest> {
  readonly Pipe: new (type: number) => PipeHandle
  readonly PipeConnectWrap: new () => PipeRequest
  /** Pipe types: a listener, and an end that can send and receive descriptors. */
  readonly SERVER: number
  readonly IPC: number
  readonly kArrayBufferOffset: number
}

/** Exported for test/node-internals.test.ts, which checks it by name. */
export function loadPipes(): PipeInternals | null {
  try {
    const common = streamWrap()
    const pipes = binding('pipe_wrap')
    const { kArrayBufferOffset } = binding('stream_wrap')
    const { SERVER, IPC } = (pipes.constants ?? {}) as Record<string, unknown>
    const { Pipe, PipeConnectWrap } = pipes
    const methods = ['bind', 'listen', 'connect', 'open', 'readStart', 'readStop', 'writeBuffer', 'shutdown', 'close']
    const prototype = (Pipe as { prototype?: Record<string, unknown> } | undefined)?.prototype
    const complete =
      common !== null &&
      typeof Pipe === 'function' &&
      methods.every((name) => typeof prototype?.[name] === 'function') &&
      typeof PipeConnectWrap === 'function' &&
      typeof SERVER === 'number' &&
      typeof IPC === 'number' &&
      typeof kArrayBufferOffset === 'number'
    if (!complete) return null
    return { ...common, Pipe, PipeConnectWrap, SERVER, IPC, kArrayBufferOffset } as unknown as PipeInternals
  } catch {
    return null
  }
}

/**
 * The pipe internals for the hand-off pipe, or null when this Node does not have them as
 * expected (then connections go to workers over Node's IPC channel). THREADSERVE_NODE_IPC_HANDOFF=1
 * forces that fallback, to test it and to compare the two.
 */
export const handOffPipes: PipeInternals | null = process.env.THREADSERVE_NODE_IPC_HANDOFF === '1' ? null : loadPipes()
