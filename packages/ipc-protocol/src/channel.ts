import type { IpcError } from './errors.js'
import type { ReceivedHandle, SendableHandle, SendOptions } from './handles.js'
import type { ReplyType, RequestType } from './messages.js'

/** How long `request` waits for its reply unless told otherwise. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000

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
  request<K extends RequestOf<Out>['type']>(
    message: RequestMessage<Out, K>,
    options?: RequestOptions,
  ): Promise<ReplyOf<In, { type: K }>>
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
/**
 * A request of type `K` as the caller writes it, without its `requestId`. The type is inferred
 * from the `type` field alone, so that a channel with several request types gives each call the
 * replies of its own type.
 */
export type RequestMessage<Out, K extends string> = { type: K } & Omit<
  Extract<RequestOf<Out>, { type: K }>,
  'requestId'
>
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
