import type { Socket } from 'node:net'
import {
  type ParsedTarget,
  ParseError,
  type ParseStep,
  type RequestHead,
  RequestParser,
} from '@threadserve/http10-parser'
import { UploadRequest } from '../uploads/upload-request.js'
import { HeldBytes, mayKeepAlive, persistsAfter } from './keep-alive.js'
import { RateGuard } from './rate-guard.js'
import { type DispatchTarget, dispatchRequest, serveRequest } from './request-dispatch.js'
import { RequestState } from './request-state.js'
import { type FileSlice, type ResponseFrame, streamResponse, writeResponse } from './response-writer.js'
import { errorBody, type HeaderList } from './responses.js'
import type { WorkerServices } from './services.js'
import * as events from './socket-events.js'

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
const RETRY_SOON: HeaderList = [['Retry-After', 1]]

export class Connection implements events.SocketEventTarget, DispatchTarget {
  readonly #socket: Socket
  readonly #services: WorkerServices
  readonly #parser: RequestParser
  readonly #onClosed: (connection: Connection) => void
  readonly #request = new RequestState()
  readonly #rate = new RateGuard()
  #phase: Phase = Phase.Head
  #headerTimer: NodeJS.Timeout | null = null
  #lingerTimer: NodeJS.Timeout | null = null
  #clientAddress = '-'
  #peerEnded = false
  /** Requests answered on this connection before the current one (--keep-alive-requests). */
  #requests = 0
  readonly #next = new HeldBytes()
  #onWritten: ((error?: Error | null) => void) | null = null

  constructor(socket: Socket, services: WorkerServices, onClosed: (connection: Connection) => void) {
    this.#socket = socket
    this.#services = services
    this.#onClosed = onClosed
    this.#parser = new RequestParser(services.parserLimits)
    // HTTP/1.0 clients may shut down their sending side once the request is out and still wait
    // for the answer (RFC 9112 §9.6 half-close). Node gives handed-over sockets
    // allowHalfOpen=false, which would end our side at their FIN, before we could answer.
    socket.allowHalfOpen = true
    events.attachSocket(socket, this)
  }

  get socket(): Socket {
    return this.#socket
  }

  get services(): WorkerServices {
    return this.#services
  }

  /** The client's address, read when the connection started ('-' when unknown). */
  get clientAddress(): string {
    return this.#clientAddress
  }

  /** The client has gone (the socket is destroyed). */
  get closed(): boolean {
    return this.#socket.destroyed
  }

  /** True while a request is being read or answered (not before the first, not between two). */
  get inRequest(): boolean {
    return this.#request.head !== null || this.#request.status !== 0
  }

  /** Starts reading the request. */
  start(): void {
    const socket = this.#socket
    // Read now: once the peer has gone, getpeername() fails and the log would lose the address.
    this.#clientAddress = socket.remoteAddress ?? '-'
    socket.setNoDelay(true)
    socket.setTimeout(this.#services.config.bodyTimeoutMs, events.onSocketTimeout)
    this.#headerTimer = setTimeout(events.onHeaderDeadline, this.#services.config.headerTimeoutMs, this)
    socket.resume()
  }

  /** Answers at once without reading a request (the worker is full): 503 and a lingering close. */
  reject(): void {
    this.#clientAddress = this.#socket.remoteAddress ?? '-'
    this.#socket.setTimeout(LINGER_MS, events.onSocketTimeout)
    this.respondBusy()
  }

  /** Bytes from the client, valid only during this call (the worker's shared read buffer): kept ones are copied. */
  handleData(chunk: Buffer): void {
    const phase = this.#phase
    const request = this.#request
    if (phase === Phase.Idle) this.#beginNextRequest()
    else if (!this.#wantsBytes(phase)) {
      // A complete request being answered on a persistent connection: this is the next request.
      if (request.keepAlive && request.requestDone && phase !== Phase.Closing) this.#holdNext(chunk)
      return // otherwise lingering (or the rest of a body we refused): drop
    }
    let step: ParseStep
    try {
      step = this.#parser.push(chunk)
    } catch (error) {
      if (!(error instanceof ParseError)) throw error
      this.respondError(error.status, error.message)
      return
    }
    const { head, body, done, leftover } = step
    // Decided before routing: a response sent at once must already know whether to persist.
    if (head !== null) request.keepAlive = mayKeepAlive(head, this.#services.config, this.#requests)
    if (done) request.requestDone = true
    if (leftover !== null && request.keepAlive) this.#holdNext(leftover)
    if (head !== null) this.#onHead(head)
    if (body !== null && body.length > 0) this.#onBody(body)
    if (done) this.#onBodyEnd()
  }

  #wantsBytes(phase: Phase): boolean {
    return (
      phase === Phase.Head ||
      phase === Phase.Waiting ||
      (phase === Phase.Uploading && !!this.#request.upload?.receiving)
    )
  }

  /** Bytes of the next request, sent before this response is out: kept, and reading paused. */
  #holdNext(chunk: Buffer): void {
    this.#next.hold(chunk)
    this.#socket.pause()
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
    this.#headerTimer = setTimeout(events.onHeaderDeadline, this.#services.config.headerTimeoutMs, this)
    this.#request.restartClock()
  }

  /** A persistent response is written: log it and wait for the next request. */
  #responseWritten(error?: Error | null): void {
    const socket = this.#socket
    if (error || socket.destroyed) return // handleClose logs
    this.#rate.stop()
    this.#writeLog()
    this.#requests++
    this.#request.reset(socket.bytesWritten)
    this.#parser.reset()
    this.#phase = Phase.Idle
    this.#headerTimer = setTimeout(events.onKeepAliveIdle, this.#services.config.keepAliveTimeoutMs, this)
    const next = this.#next.take()
    socket.resume()
    if (next !== null) this.handleData(next)
    const phase = this.#phase as Phase // handleData may have moved it on
    if (this.#peerEnded && (phase === Phase.Head || phase === Phase.Idle)) this.handleEnd()
  }

  /** Closes a persistent connection that waits for its next request (idle timeout, shutdown). */
  closeIfIdle(): void {
    if (this.#phase !== Phase.Idle || this.#socket.destroyed) return
    this.#clearHeaderTimer()
    this.#phase = Phase.Closing
    this.#socket.end()
  }

  /** The client will send nothing more: fine once the request is complete, an error before. */
  handleEnd(): void {
    this.#peerEnded = true
    const phase = this.#phase
    const request = this.#request
    if (phase === Phase.Head || phase === Phase.Idle) {
      try {
        this.#parser.end()
      } catch (error) {
        if (!(error instanceof ParseError)) throw error
        this.respondError(error.status, error.message)
        return
      }
      this.#socket.destroy() // nothing was sent at all: nothing to answer
    } else if (
      (phase === Phase.Waiting || (phase === Phase.Uploading && request.upload?.receiving)) &&
      !request.bodyComplete
    ) {
      void request.upload?.abort()
      this.respondError(400, 'request body ended early')
    } else if (phase === Phase.Closing && this.#socket.writableFinished) {
      this.#socket.destroy()
    }
  }

  handleHeaderDeadline(): void {
    this.#headerTimer = null
    if (this.#phase === Phase.Head) this.respondError(408, 'request head not received in time')
  }

  handleIdle(): void {
    const upload = this.#request.upload
    if (this.#phase === Phase.Uploading && upload?.writing) {
      void upload.abort()
      this.respondError(408, 'request body stalled')
    } else if (this.#phase === Phase.Responding || this.#phase === Phase.Closing) {
      this.#socket.destroy() // a reader that stopped reading, or a lingering client that never closes
    }
  }

  handleFlushed(): void {
    this.#rate.stop()
    this.#writeLog()
    this.#lingerTimer = setTimeout(events.destroySocket, LINGER_MS, this.#socket)
  }

  handleClose(): void {
    this.#rate.stop()
    this.#clearHeaderTimer()
    if (this.#lingerTimer !== null) clearTimeout(this.#lingerTimer)
    this.#lingerTimer = null
    this.#request.cancelStream?.()
    this.#writeLog()
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
    dispatchRequest(this, head) // checks and credentials first; the pool slot after (serveWithSlot)
  }

  serveWithSlot(target: ParsedTarget): void {
    const request = this.#request
    const head = request.head
    if (head === null) return
    const slot = this.#services.claimSlot(this)
    if (slot === 'full') {
      this.respondBusy()
    } else if (slot === 'queued') {
      request.target = target
      this.#phase = Phase.Waiting // body bytes that come meanwhile wait in the request's pendingBody
      this.#socket.pause()
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
    if (this.#phase === Phase.Head) this.#socket.resume()
  }

  /** Dispatch: the request is being answered; later body bytes are not wanted. */
  enterResponding(): void {
    this.#phase = Phase.Responding
  }

  /** Dispatch: credentials are checked; a POST's body bytes wait in the request's pendingBody. */
  enterAuthorizing(isPost: boolean): void {
    this.#phase = isPost ? Phase.Waiting : Phase.Responding
    this.#socket.pause()
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
    this.#rate.stop()
    this.#request.bodyComplete = true
    if (this.#phase === Phase.Uploading) this.#request.upload?.bodyEnded()
  }

  /** POST /upload: the upload owns the exchange from here (uploads/upload-request.ts). */
  beginUpload(head: RequestHead): void {
    if (head.contentLength === 0) {
      this.respondError(400, 'empty body')
      return
    }
    const request = this.#request
    const upload = new UploadRequest(this, head, request.pendingBody, request.bodyComplete)
    request.pendingBody = []
    request.upload = upload
    this.#phase = Phase.Uploading
    const { minRateBytes, rateWindowMs } = this.#services.config
    if (!request.bodyComplete)
      this.#rate.start(
        minRateBytes,
        rateWindowMs,
        () => request.bodyReceived,
        () => this.#tooSlow(),
      )
    void upload.start()
  }

  /** Flow control for uploads: stop reading while the disk is behind or the file is not open yet. */
  pauseReading(): void {
    this.#socket.pause()
  }

  resumeReading(): void {
    this.#socket.resume()
  }

  /** 503 with Retry-After: full pool and queue, too many connections, or out of descriptors. */
  respondBusy(): void {
    this.respondError(503, 'server busy, try again', RETRY_SOON)
  }

  respondError(status: number, detail?: string, headers?: HeaderList): void {
    this.respond(status, [['Content-Type', 'text/plain; charset=utf-8'], ...(headers ?? [])], errorBody(status, detail))
  }

  #writtenCallback(): (error?: Error | null) => void {
    this.#onWritten ??= (error) => this.#responseWritten(error)
    return this.#onWritten
  }

  /** Starts the response: records its status and decides whether the connection persists. */
  #frame(status: number, headers: HeaderList): ResponseFrame {
    this.#clearHeaderTimer()
    this.#request.status = status
    const persist = persistsAfter(status, this.#request, this.#services.isDraining())
    this.#phase = persist ? Phase.Responding : Phase.Closing
    return { status, headers, withHead: this.#request.head?.version !== '0.9', persist }
  }

  /** Writes a whole response; persistent, the connection then goes round for the next request. */
  respond(status: number, headers: HeaderList, body: string | Buffer | null, contentLength?: number): void {
    const frame = this.#frame(status, headers)
    // HEAD never carries a body, whatever the status (RFC 9110 §9.3.2): the head says what GET's would.
    if ((this.#request.head?.method ?? this.#parser.method) === 'HEAD' && body !== null) {
      contentLength ??= Buffer.byteLength(body)
      body = null
    }
    this.#request.headBytes = writeResponse(this.#socket, frame, body, contentLength, this.#writtenCallback())
    // Most answers are in the kernel by now; one that is not waits for a reader that must keep up.
    if (this.#socket.writableLength > 0) this.#watchReader()
    this.#releaseSlot()
  }

  /** `status` (200 or 206) with a slice of a file, streamed (response-writer.ts). */
  respondStream(status: number, headers: HeaderList, slice: FileSlice): void {
    const frame = this.#frame(status, headers)
    const { cancel, headBytes } = streamResponse(this.#socket, frame, slice, this.#writtenCallback())
    this.#request.cancelStream = cancel
    this.#request.headBytes = headBytes
    this.#watchReader()
    this.#releaseSlot()
  }

  /**
   * The response is written, or its file is streaming: what is left goes at the client's pace,
   * and a client that reads slowly must hold a descriptor, never a slot (a crowd of them would
   * otherwise fill the pool and queue, and every other request would get 503). What such a
   * client holds is bounded: per connection the file stream's 64 KiB chunks (response-writer.ts),
   * connections by --max-connections, and their time by --min-rate.
   */
  #releaseSlot(): void {
    this.#services.releaseSlot(this)
  }

  /** --min-rate for a response: a client that reads it too slowly is cut off (the log shows the bytes it got). */
  #watchReader(): void {
    const { minRateBytes, rateWindowMs } = this.#services.config
    const socket = this.#socket
    this.#rate.start(
      minRateBytes,
      rateWindowMs,
      () => socket.bytesWritten - socket.writableLength,
      () => socket.destroy(),
    )
  }

  /** --min-rate for an upload body: one that trickles is ended with 408 and leaves nothing behind. */
  #tooSlow(): void {
    const upload = this.#request.upload
    if (this.#phase !== Phase.Uploading || upload === null || !upload.receiving) return
    void upload.abort()
    this.respondError(408, 'request body too slow')
  }

  #writeLog(): void {
    const record = this.#request.accessRecord(this.#services.workerId, this.#clientAddress, this.#socket.bytesWritten)
    if (record !== null) this.#services.log.write(record)
  }
}
