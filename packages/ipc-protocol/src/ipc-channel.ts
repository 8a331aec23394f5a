import {
  type Channel,
  type ChannelOptions,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type ReplyOf,
  type RequestMessage,
  type RequestOf,
  type RequestOptions,
} from './channel.js'
import { IpcError } from './errors.js'
import { type ReceivedHandle, releaseHandle, type SendableHandle, type SendOptions } from './handles.js'
import { REPLY_TYPES } from './messages.js'
import { guarded, printError, printInvalid } from './report.js'

// What ChildProcess and a forked process have in common.
export interface Endpoint {
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

// The other end as the channel sees it: a name for reports, and whether it is known to be gone
// before its pipe says so.
export interface Peer {
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

export class IpcChannel<In extends { type: string }, Out extends { type: string }> implements Channel<In, Out> {
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
    this.#onInvalid = guarded(options.onInvalid ?? ((error) => printInvalid(peer.name, error)))
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

  request<K extends RequestOf<Out>['type']>(
    message: RequestMessage<Out, K>,
    options: RequestOptions = {},
  ): Promise<ReplyOf<In, { type: K }>> {
    const type = (message as { type: string }).type
    const replyTypes = REPLY_TYPES_BY_REQUEST[type]
    // Both checks guard against our own bugs (the types already rule these out): throw, like assert.
    if (replyTypes === undefined) throw new TypeError(`'${type}' is not a request message type`)
    const timeoutMs = options.timeoutMs ?? this.#requestTimeoutMs
    assertTimeout(timeoutMs)
    if (this.#closed) return Promise.reject(closedError())
    this.#lastRequestId = (this.#lastRequestId % Number.MAX_SAFE_INTEGER) + 1
    const requestId = this.#lastRequestId
    return new Promise<ReplyOf<In, { type: K }>>((resolve, reject) => {
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
