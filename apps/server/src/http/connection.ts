import {
  type ParsedTarget,
  ParseError,
  type ParseStep,
  type RequestHead,
  RequestParser,
} from '@threadserve/http10-parser'
import type { Transport, TransportEvents } from '../transport/transport.js'
import { UploadRequest } from '../uploads/upload-request.js'
import * as timers from './connection-timers.js'
import { Exchange, type ExchangeOwner } from './exchange.js'
import { HeadPrefix } from './head-prefix.js'
import { HeldBytes, mayKeepAlive } from './keep-alive.js'
import { ProxyPreamble } from './proxy-preamble.js'
import { type DispatchTarget, dispatchRequest, serveRequest } from './request-dispatch.js'
import { RequestState } from './request-state.js'
import type { WorkerServices } from './services.js'

// One client connection: one request (HTTP/1.0 closes after each response), or with --keep-alive
// a series of them. Bytes that arrive in a phase that does not want them are read and dropped,
// so a client still sending when we answer sees our response, not a reset (a "lingering close",
// as nginx does); on a persistent connection they are the next request, held until this
// response is written.
//
// Head: reading the request head. Waiting: for credentials or a pool slot (body bytes are kept).
// Uploading: POST /upload owns the exchange. Responding: answering. Closing: answered; the
// connection ends. Idle: persistent, between two requests (under the keep-alive timeout).
const Phase = { Head: 0, Waiting: 1, Uploading: 2, Responding: 3, Closing: 4, Idle: 5 } as const
type Phase = (typeof Phase)[keyof typeof Phase]
const LINGER_MS = 2000

export class Connection implements TransportEvents, timers.TimedConnection, DispatchTarget, ExchangeOwner {
  readonly #transport: Transport
  readonly #services: WorkerServices
  readonly #parser: RequestParser
  readonly #onClosed: (connection: Connection) => void
  readonly #request = new RequestState()
  readonly #exchange: Exchange
  /** Tells a HEAD from its first bytes, for answers sent before the request line is whole. */
  readonly #headPrefix = new HeadPrefix()
  /** --proxy-protocol: the load balancer's header, read before the request. */
  #preamble: ProxyPreamble<Transport> | null = null
  #phase: Phase = Phase.Head
  #headerTimer: NodeJS.Timeout | null = null
  #lingerTimer: NodeJS.Timeout | null = null
  #peerEnded = false
  /** Requests answered on this connection before the current one (--keep-alive-requests). */
  #requests = 0
  readonly #next = new HeldBytes()

  constructor(transport: Transport, services: WorkerServices, onClosed: (connection: Connection) => void) {
    this.#transport = transport
    this.#services = services
    this.#onClosed = onClosed
    this.#parser = new RequestParser(services.parserLimits)
    this.#exchange = new Exchange(transport, services, this.#request, this)
    transport.attach(this)
  }

  /** Closes at once (a drain's deadline passed). */
  destroy(): void {
    this.#transport.destroy()
  }

  /** The answering side, for handlers (files, uploads). */
  get exchange(): Exchange {
    return this.#exchange
  }

  /** ExchangeOwner: the request's method: by its head, else HEAD if its first bytes say so (head-prefix.ts). */
  get requestMethod(): string {
    const head = this.#request.head
    return head !== null ? head.method : this.#headPrefix.isHead ? 'HEAD' : ''
  }

  /** ExchangeOwner: a response starts; the connection persists after it, or closes. */
  responseStarted(persist: boolean): void {
    this.#clearHeaderTimer()
    this.#phase = persist ? Phase.Responding : Phase.Closing
    // The rest goes at the client's pace: a slow reader holds a descriptor, never a slot (bounded
    // by --max-connections and --min-rate; a stream's 64 KiB chunks), or a crowd of them would fill the pool.
    this.#services.releaseSlot(this)
  }

  /** True while a request is being read or answered (not before the first, not between two). */
  get inRequest(): boolean {
    return this.#request.head !== null || this.#request.status !== 0
  }

  /** Starts reading the request. */
  start(): void {
    const transport = this.#transport
    transport.setIdleTimeout(this.#services.config.bodyTimeoutMs)
    this.#headerTimer = setTimeout(timers.onHeaderDeadline, this.#services.config.headerTimeoutMs, this)
    if (this.#services.config.proxyProtocol) {
      this.#preamble = new ProxyPreamble(this.#services.config.headerTimeoutMs, timers.destroyTransport, transport)
    }
    transport.resume()
  }

  /** Answers at once without reading a request (the worker is full): 503 and a lingering close. */
  reject(): void {
    this.#transport.setIdleTimeout(LINGER_MS)
    this.#exchange.respondBusy()
  }

  /** Bytes from the client, valid only during this call (the worker's shared read buffer): kept ones are copied. */
  handleData(chunk: Buffer): void {
    if (this.#preamble?.reading) {
      const rest = this.#readPreamble(this.#preamble, chunk)
      if (rest === null) return
      chunk = rest
    }
    const phase = this.#phase
    const request = this.#request
    if (phase === Phase.Idle) this.#beginNextRequest()
    else if (!this.#wantsBytes(phase)) {
      // A complete request being answered on a persistent connection: this is the next request.
      if (request.keepAlive && request.requestDone && phase !== Phase.Closing) this.#holdNext(chunk)
      else request.extraBytes = true // lingering (or the rest of a body we refused): dropped
      return
    }
    if (this.#phase === Phase.Head) this.#headPrefix.feed(chunk)
    let step: ParseStep
    try {
      step = this.#parser.push(chunk)
    } catch (error) {
      if (!(error instanceof ParseError)) throw error
      this.#exchange.respondError(error.status, error.message)
      return
    }
    const { head, body, done, leftover } = step
    // Decided before routing: a response sent at once must already know whether to persist.
    if (head !== null) request.keepAlive = mayKeepAlive(head, this.#services.config, this.#requests)
    if (done) request.requestDone = true
    if (leftover !== null) {
      if (request.keepAlive) this.#holdNext(leftover)
      else request.extraBytes = true
    }
    if (head !== null) this.#onHead(head)
    if (body !== null && body.length > 0) this.#onBody(body)
    if (done) this.#onBodyEnd()
  }

  /** --proxy-protocol: the request's first bytes once the header is whole; a bad one closes, unanswered. */
  #readPreamble(preamble: ProxyPreamble<Transport>, chunk: Buffer): Buffer | null {
    const step = preamble.push(chunk)
    if (step.kind === 'failed') this.#transport.destroy()
    if (step.kind !== 'complete') return null
    if (step.clientAddress !== null) this.#exchange.clientAddress = step.clientAddress
    return step.rest.length > 0 ? step.rest : null
  }

  #wantsBytes(phase: Phase): boolean {
    if (phase === Phase.Uploading) return this.#request.upload?.receiving === true
    return phase === Phase.Head || phase === Phase.Waiting
  }

  /** Bytes of the next request, sent before this response is out: kept, and reading paused. */
  #holdNext(chunk: Buffer): void {
    this.#next.hold(chunk)
    this.#transport.pause()
  }

  /** Stops the head's deadline, or the keep-alive idle timeout between requests. */
  #clearHeaderTimer(): void {
    if (this.#headerTimer !== null) clearTimeout(this.#headerTimer)
    this.#headerTimer = null
  }

  /** The first byte of the next request on a persistent connection: its header timeout starts. */
  #beginNextRequest(): void {
    this.#phase = Phase.Head
    this.#clearHeaderTimer()
    this.#headerTimer = setTimeout(timers.onHeaderDeadline, this.#services.config.headerTimeoutMs, this)
    this.#request.restartClock()
  }

  /** ExchangeOwner: a persistent response is written: log it, free the slot, wait for the next request. */
  responseWritten(error?: Error | null): void {
    const transport = this.#transport
    if (error || transport.destroyed) return // handleClose logs
    this.#exchange.stopWatching()
    this.#exchange.writeLog()
    this.#requests++
    this.#request.reset(transport.bytesWritten)
    this.#parser.reset()
    this.#headPrefix.reset()
    this.#phase = Phase.Idle
    this.#headerTimer = setTimeout(timers.onKeepAliveIdle, this.#services.config.keepAliveTimeoutMs, this)
    const next = this.#next.take()
    transport.resume()
    if (next !== null) this.handleData(next)
    const phase = this.#phase as Phase // handleData may have moved it on
    if (this.#peerEnded && (phase === Phase.Head || phase === Phase.Idle)) this.handleEnd()
  }

  /** Closes a persistent connection that waits for its next request (idle timeout, shutdown). */
  closeIfIdle(): void {
    if (this.#phase !== Phase.Idle || this.#transport.destroyed) return
    this.#clearHeaderTimer()
    this.#phase = Phase.Closing
    this.#transport.end()
  }

  /** The client will send nothing more: fine once the request is complete, an error before. */
  handleEnd(): void {
    if (this.#preamble?.reading) {
      this.#preamble.close() // cut short: counted, and nothing to answer
      this.#transport.destroy()
      return
    }
    this.#peerEnded = true
    const phase = this.#phase
    const request = this.#request
    if (phase === Phase.Head || phase === Phase.Idle) {
      try {
        this.#parser.end()
      } catch (error) {
        if (!(error instanceof ParseError)) throw error
        this.#exchange.respondError(error.status, error.message)
        return
      }
      this.#transport.destroy() // nothing was sent at all: nothing to answer
    } else if (
      (phase === Phase.Waiting || (phase === Phase.Uploading && request.upload?.receiving)) &&
      !request.bodyComplete
    ) {
      void request.upload?.abort()
      this.#exchange.respondError(400, 'request body ended early')
    } else if (phase === Phase.Closing && this.#transport.finished) {
      this.#transport.destroy()
    }
  }

  handleHeaderDeadline(): void {
    this.#headerTimer = null
    if (this.#phase === Phase.Head) this.#exchange.respondError(408, 'request head not received in time')
  }

  handleIdle(): void {
    const upload = this.#request.upload
    if (this.#phase === Phase.Uploading && upload?.writing) {
      void upload.abort()
      this.#exchange.respondError(408, 'request body stalled')
    } else if (this.#phase === Phase.Responding || this.#phase === Phase.Closing) {
      this.#transport.destroy() // a reader that stopped reading, or a lingering client that never closes
    }
  }

  handleFlushed(): void {
    this.#exchange.stopWatching()
    this.#exchange.writeLog()
    this.#lingerTimer = setTimeout(timers.destroyTransport, LINGER_MS, this.#transport)
  }

  handleClose(): void {
    this.#preamble?.close()
    this.#exchange.stopWatching()
    this.#clearHeaderTimer()
    if (this.#lingerTimer !== null) clearTimeout(this.#lingerTimer)
    this.#lingerTimer = null
    this.#request.cancelStream?.()
    this.#exchange.writeLog()
    const upload = this.#request.upload
    if (this.#phase === Phase.Uploading && upload?.receiving) {
      // The slot is free only once the temp file is gone: a draining worker must not exit first.
      void upload.abort().finally(() => this.#onClosed(this))
    } else {
      this.#onClosed(this)
    }
  }

  #onHead(head: RequestHead): void {
    this.#clearHeaderTimer()
    this.#request.head = head
    dispatchRequest(this, head) // checks and credentials first, the pool slot after (serveWithSlot)
  }

  /** Dispatch: the request passed its checks; it is served once it holds a pool slot, or gets 503. */
  serveWithSlot(target: ParsedTarget): void {
    const request = this.#request
    const head = request.head
    if (head === null) return
    const slot = this.#services.claimSlot(this)
    if (slot === 'full') {
      this.#exchange.respondBusy()
    } else if (slot === 'queued') {
      request.target = target
      this.#phase = Phase.Waiting // body bytes that come meanwhile wait in the request's pendingBody
      this.#transport.pause()
    } else {
      serveRequest(this, head, target)
    }
  }

  /** A queued request got its pool slot. */
  slotGranted(): void {
    const { head, target } = this.#request
    if (this.#phase !== Phase.Waiting || head === null || target === null) return
    this.#phase = Phase.Head
    serveRequest(this, head, target)
    if (this.#phase === Phase.Head) this.#transport.resume()
  }

  /** Dispatch: the request is being answered; later body bytes are not wanted. */
  enterResponding(): void {
    this.#phase = Phase.Responding
  }

  /** Dispatch: credentials are checked; a POST's body bytes wait in the request's pendingBody. */
  enterAuthorizing(isPost: boolean): void {
    this.#phase = isPost ? Phase.Waiting : Phase.Responding
    this.#transport.pause()
  }

  get answered(): boolean {
    return this.#phase === Phase.Closing
  }

  #onBody(body: Buffer): void {
    const request = this.#request
    request.bodyReceived += body.length
    if (this.#phase === Phase.Waiting)
      request.pendingBody.push(Buffer.from(body)) // copied: see handleData
    else if (this.#phase === Phase.Uploading) request.upload?.push(body)
  }

  #onBodyEnd(): void {
    this.#exchange.stopWatching()
    this.#request.bodyComplete = true
    if (this.#phase === Phase.Uploading) this.#request.upload?.bodyEnded()
  }

  /** POST /upload: the upload owns the exchange from here (uploads/upload-request.ts). */
  beginUpload(head: RequestHead): void {
    if (head.contentLength === 0) {
      this.#exchange.respondError(400, 'empty body')
      return
    }
    const request = this.#request
    const upload = new UploadRequest(this.#exchange, head, request.pendingBody, request.bodyComplete)
    request.pendingBody = []
    request.upload = upload
    this.#phase = Phase.Uploading
    if (!request.bodyComplete) this.#exchange.watchUploadBody()
    void upload.start()
  }
}
