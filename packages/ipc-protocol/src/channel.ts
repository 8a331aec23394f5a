import type { ChildProcess } from 'node:child_process'
import type { Server, Socket } from 'node:net'
import { decodeSupervisorMessage, decodeUnchecked, decodeWorkerMessage } from './decode.js'
import { IpcError } from './errors.js'
import {
  REPLY_TYPES,
  type ReplyType,
  type RequestType,
  type SupervisorMessage,
  type WorkerMessage,
} from './messages.js'

/** How long `request` waits for its reply unless told otherwise. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000

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

/** A typed, validating view of one IPC pair: receives `In`, sends `Out`. */
export interface Channel<In extends { type: string }, Out extends { type: string }> {
  /**
   * Sends a message (and a handle: the accepted client socket for 'connection'). Returns false,
   * and never throws, when the channel or the peer is gone; true means Node took the message,
   * which it may still be queueing (Node's own backpressure signal is not surfaced: it returns
   * false for every message queued behind a handle in flight, which is not a dead peer).
   *
   * `written`, when given, is called once Node has written the message (and passed the handle's
   * descriptor) to the pipe, with null, or with the error that stopped it (which then goes to
   * `written` only, not to `onError`: the sender handles it). It is never called for
   * a message still queued behind a handle in flight when the peer dies: the sender must keep
   * track of those itself. Once written, a sent descriptor lives in the pipe until the peer
   * takes it, so the sender may close its own copy of a raw handle from there on.
   * @example
   * if (!channel.send({ type: 'connection', v: 1, id, acceptedAt: Date.now() }, socket)) socket.destroy()
   */
  send(message: Out, handle?: SendableHandle, options?: SendOptions, written?: (error: Error | null) => void): boolean
  /**
   * Calls `handler` for every valid incoming message of `type`; returns an unsubscribe function.
   * @example
   * const off = channel.on('shutdown', ({ deadline }) => drain(deadline))
   */
  on<T extends In['type']>(
    type: T,
    handler: (message: Extract<In, { type: T }>, handle: ReceivedHandle | undefined) => void,
  ): () => void
  /**
   * Sends a request with a fresh `requestId` and resolves with the first reply of a matching type
   * (`REPLY_TYPES`) carrying it; rejects with IpcError TIMEOUT or CLOSED.
   * @example
   * const reply = await channel.request({ type: 'permit-request', v: 1 })
   * if (reply.type === 'permit-deny') return respond503(reply.retryAfterSeconds)
   */
  request<T extends RequestOf<Out>>(message: Omit<T, 'requestId'>, options?: RequestOptions): Promise<ReplyOf<In, T>>
  /**
   * Detaches from the process: no more messages are delivered, `send` returns false and
   * pending requests reject with CLOSED. The IPC pair itself stays open.
   * @example
   * process.on('SIGTERM', () => channel.close())
   */
  close(): void
}

/** The messages in `Out` that `request` can send: those with a `requestId` and an entry in `REPLY_TYPES`. */
export type RequestOf<Out> = Extract<Out, { type: RequestType; requestId: number }>
/** The messages in `In` that answer request `T`. */
export type ReplyOf<In, T extends { type: RequestType }> = Extract<In, { type: ReplyType<T['type']> }>

export interface RequestOptions {
  /** Default `DEFAULT_REQUEST_TIMEOUT_MS`; `Infinity` waits until a reply or CLOSED. */
  timeoutMs?: number
}

export interface ChannelOptions {
  /** An incoming message failed validation and was dropped. Default: one line to stderr. */
  onInvalid?: (error: IpcError, raw: unknown) => void
  /** A handler threw (HANDLER_FAILED, context: the message) or Node failed to send (SEND_FAILED). Default: stderr. */
  onError?: (error: IpcError, context: unknown) => void
  /**
   * Default true. `false` skips schema validation of incoming messages (anything shaped like
   * `{ type: string }` is delivered as is): for benchmarks and for trusted peers only.
   */
  validate?: boolean
  /** Default timeout for `request`. */
  requestTimeoutMs?: number
}

/**
 * The supervisor's channel to one forked worker.
 * @example
 * const worker = connectToWorker(fork('worker.js'))
 * worker.on('ready', ({ workerId }) => markHealthy(workerId))
 */
export function connectToWorker(
  child: ChildProcess,
  options: ChannelOptions = {},
): Channel<WorkerMessage, SupervisorMessage> {
  if (typeof child.send !== 'function') {
    throw new IpcError('NO_IPC_CHANNEL', 'the child process has no IPC channel: start it with fork()')
  }
  const decode = options.validate === false ? decodeUnchecked<WorkerMessage> : decodeWorkerMessage
  // 'exit' can come before the IPC pipe reports its end ('disconnect'): a send in between would be
  // written into a dead pipe and fail later with EPIPE, so an exited child counts as gone. The
  // channel still reads what the child sent before it died until 'disconnect' (a last
  // 'permit-release' must not be lost), so 'exit' does not close it.
  const peer = { name: `worker ${child.pid}`, hasExited: () => child.exitCode !== null || child.signalCode !== null }
  return new IpcChannel<WorkerMessage, SupervisorMessage>(child as Endpoint, decode, peer, options)
}

/**
 * A worker's channel to its supervisor (the parent that forked it).
 * @example
 * const supervisor = connectToSupervisor()
 * supervisor.on('connection', (message, socket) => socket && serve(socket))
 * supervisor.send({ type: 'ready', v: 1, workerId, pid: process.pid })
 */
export function connectToSupervisor(
  proc: NodeJS.Process = process,
  options: ChannelOptions = {},
): Channel<SupervisorMessage, WorkerMessage> {
  if (typeof proc.send !== 'function') {
    throw new IpcError('NO_IPC_CHANNEL', 'this process has no IPC channel: it must be started with fork()')
  }
  const decode = options.validate === false ? decodeUnchecked<SupervisorMessage> : decodeSupervisorMessage
  const peer = { name: 'supervisor', hasExited: () => false } // a dead parent shows as 'disconnect'
  return new IpcChannel<SupervisorMessage, WorkerMessage>(proc as Endpoint, decode, peer, options)
}

// What ChildProcess and a forked process have in common.
interface Endpoint {
  readonly connected: boolean
  send(
    message: unknown,
    handle: SendableHandle | undefined,
    options: SendOptions | undefined,
    done: (error: Error | null) => void,
  ): boolean
  on(event: 'message', listener: (message: unknown, handle: unknown) => void): unknown
  on(event: 'disconnect', listener: () => void): unknown
  off(event: 'message', listener: (message: unknown, handle: unknown) => void): unknown
  off(event: 'disconnect', listener: () => void): unknown
}

interface Peer {
  readonly name: string
  readonly hasExited: () => boolean
}

type Handler<In> = (message: In, handle: ReceivedHandle | undefined) => void

interface PendingRequest<In> {
  readonly replyTypes: readonly string[]
  readonly resolve: (message: In) => void
  readonly reject: (error: IpcError) => void
  readonly timer: NodeJS.Timeout | undefined
}

const REPLY_TYPES_BY_REQUEST: Readonly<Record<string, readonly string[] | undefined>> = REPLY_TYPES

class IpcChannel<In extends { type: string }, Out extends { type: string }> implements Channel<In, Out> {
  readonly #endpoint: Endpoint
  readonly #decode: (raw: unknown) => In | IpcError
  readonly #peer: Peer
  readonly #onInvalid: (error: IpcError, raw: unknown) => void
  readonly #onError: (error: IpcError, context: unknown) => void
  readonly #requestTimeoutMs: number
  // Copy-on-write arrays: a handler may unsubscribe while its type is being dispatched.
  readonly #handlers = new Map<string, readonly Handler<In>[]>()
  readonly #pending = new Map<number, PendingRequest<In>>()
  #lastRequestId = 0
  #closed = false

  constructor(endpoint: Endpoint, decode: (raw: unknown) => In | IpcError, peer: Peer, options: ChannelOptions) {
    this.#endpoint = endpoint
    this.#decode = decode
    this.#peer = peer
    this.#onInvalid = guarded(options.onInvalid ?? this.#printInvalid)
    this.#onError = guarded(options.onError ?? printError)
    this.#requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
    assertTimeout(this.#requestTimeoutMs)
    if (!endpoint.connected) {
      this.#closed = true
      return
    }
    endpoint.on('message', this.#onMessage)
    endpoint.on('disconnect', this.#onDisconnect)
  }

  send(message: Out, handle?: SendableHandle, options?: SendOptions, written?: (error: Error | null) => void): boolean {
    if (this.#closed || !this.#endpoint.connected || this.#peer.hasExited()) return false
    try {
      this.#endpoint.send(message, handle, options, written ?? this.#onSent)
    } catch (error) {
      // Node reports a closed channel through the callback; this is for a race with 'disconnect'.
      // Anything else thrown here (a handle type Node cannot send, a BigInt) is our own bug.
      if (isChannelClosed(error)) return false
      throw error
    }
    return true
  }

  on<T extends In['type']>(
    type: T,
    handler: (message: Extract<In, { type: T }>, handle: ReceivedHandle | undefined) => void,
  ): () => void {
    const added = handler as Handler<In>
    this.#handlers.set(type, [...(this.#handlers.get(type) ?? []), added])
    let subscribed = true
    return () => {
      if (!subscribed) return
      subscribed = false
      const handlers = this.#handlers.get(type) ?? []
      const index = handlers.indexOf(added)
      if (index !== -1) this.#handlers.set(type, handlers.toSpliced(index, 1))
    }
  }

  request<T extends RequestOf<Out>>(
    message: Omit<T, 'requestId'>,
    options: RequestOptions = {},
  ): Promise<ReplyOf<In, T>> {
    const type = (message as { type: string }).type
    const replyTypes = REPLY_TYPES_BY_REQUEST[type]
    // Both checks guard against our own bugs (the types already rule these out): throw, like assert.
    if (replyTypes === undefined) throw new TypeError(`'${type}' is not a request message type`)
    const timeoutMs = options.timeoutMs ?? this.#requestTimeoutMs
    assertTimeout(timeoutMs)
    if (this.#closed) return Promise.reject(closedError())
    this.#lastRequestId = (this.#lastRequestId % Number.MAX_SAFE_INTEGER) + 1
    const requestId = this.#lastRequestId
    return new Promise<ReplyOf<In, T>>((resolve, reject) => {
      const timer = Number.isFinite(timeoutMs)
        ? setTimeout(() => this.#settle(requestId, timeoutError(this.#peer.name, timeoutMs)), timeoutMs)
        : undefined
      this.#pending.set(requestId, { replyTypes, resolve: resolve as (message: In) => void, reject, timer })
      if (!this.send({ ...message, requestId } as unknown as Out)) this.#settle(requestId, closedError())
    })
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#endpoint.off('message', this.#onMessage)
    this.#endpoint.off('disconnect', this.#onDisconnect)
    this.#handlers.clear()
    for (const requestId of [...this.#pending.keys()]) this.#settle(requestId, closedError())
  }

  readonly #onMessage = (raw: unknown, handle: unknown): void => {
    const message = this.#decode(raw)
    if (message instanceof IpcError) {
      releaseHandle(handle)
      if (!isNodeInternal(raw)) this.#onInvalid(message, raw)
      return
    }
    if (this.#pending.size > 0 && this.#resolveReply(message)) {
      releaseHandle(handle)
      return
    }
    const handlers = this.#handlers.get(message.type)
    if (handlers === undefined || handlers.length === 0) {
      // Nobody will ever own a handle sent with an unclaimed message: close it rather than leak it.
      releaseHandle(handle)
      return
    }
    for (const handler of handlers) this.#call(handler, message, handle as ReceivedHandle | undefined)
  }

  readonly #onDisconnect = (): void => {
    this.close()
  }

  readonly #onSent = (error: Error | null): void => {
    if (error === null || isChannelClosed(error)) return
    this.#onError(
      new IpcError('SEND_FAILED', `send to ${this.#peer.name} failed: ${error.message}`, { cause: error }),
      undefined,
    )
  }

  readonly #printInvalid = (error: IpcError): void => {
    process.stderr.write(`ipc-protocol: dropped a message from ${this.#peer.name}: ${error.code}: ${error.message}\n`)
  }

  #call(handler: Handler<In>, message: In, handle: ReceivedHandle | undefined): void {
    try {
      const result: unknown = handler(message, handle)
      // An async handler's rejection would otherwise be an unhandled rejection, which kills the process.
      if (result instanceof Promise) result.catch((error: unknown) => this.#handlerFailed(error, message))
    } catch (error) {
      this.#handlerFailed(error, message)
    }
  }

  #handlerFailed(error: unknown, message: In): void {
    const text = error instanceof Error ? error.message : String(error)
    this.#onError(new IpcError('HANDLER_FAILED', `'${message.type}' handler threw: ${text}`, { cause: error }), message)
  }

  // A reply resolves its request only if its type answers that request's type: both ends number
  // requests independently, so ids alone collide. A late reply (after TIMEOUT) falls through to
  // the `on` handlers, so that a worker can release a permit granted after it gave up.
  #resolveReply(message: In): boolean {
    const requestId = (message as { requestId?: unknown }).requestId
    if (typeof requestId !== 'number') return false
    const pending = this.#pending.get(requestId)
    if (pending === undefined || !pending.replyTypes.includes(message.type)) return false
    this.#pending.delete(requestId)
    clearTimeout(pending.timer)
    pending.resolve(message)
    return true
  }

  #settle(requestId: number, error: IpcError): void {
    const pending = this.#pending.get(requestId)
    if (pending === undefined) return
    this.#pending.delete(requestId)
    clearTimeout(pending.timer)
    pending.reject(error)
  }
}

function closedError(): IpcError {
  return new IpcError('CLOSED', 'the IPC channel is closed')
}

function timeoutError(peer: string, timeoutMs: number): IpcError {
  return new IpcError('TIMEOUT', `no reply from ${peer} within ${timeoutMs} ms`)
}

function assertTimeout(timeoutMs: number): void {
  // setTimeout turns NaN, negative and > 2^31-1 ms delays into 1 ms: reject them instead.
  if (!(timeoutMs > 0 && (timeoutMs <= 2_147_483_647 || timeoutMs === Number.POSITIVE_INFINITY))) {
    throw new RangeError(
      `timeoutMs must be a positive number of milliseconds up to 2^31-1, or Infinity, got ${timeoutMs}`,
    )
  }
}

function isChannelClosed(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ERR_IPC_CHANNEL_CLOSED'
}

// Node routes its own `{ cmd: 'NODE_...' }` messages to 'internalMessage'; should one reach us
// anyway (another module emitting them), it is not ours to report.
function isNodeInternal(raw: unknown): boolean {
  const cmd = (raw as { cmd?: unknown } | null)?.cmd
  return typeof cmd === 'string' && cmd.startsWith('NODE_')
}

function releaseHandle(handle: unknown): void {
  if (handle === undefined || handle === null) return
  const closable = handle as { destroy?: () => void; close?: () => void }
  if (typeof closable.destroy === 'function') closable.destroy()
  else if (typeof closable.close === 'function') closable.close()
}

// A report callback that throws would throw out of the 'message' listener, into the event loop.
function guarded(report: (error: IpcError, context: unknown) => void): (error: IpcError, context: unknown) => void {
  return (error, context) => {
    try {
      report(error, context)
    } catch (failure) {
      printError(new IpcError(error.code, `${error.message} (and its report callback threw: ${String(failure)})`))
    }
  }
}

function printError(error: IpcError): void {
  const cause = error.cause instanceof Error && error.code === 'HANDLER_FAILED' ? `\n${error.cause.stack}` : ''
  process.stderr.write(`ipc-protocol: ${error.code}: ${error.message}${cause}\n`)
}
