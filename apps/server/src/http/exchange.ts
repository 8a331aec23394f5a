import type { Transport } from '../transport/transport.js'
import type { UploadHost } from '../uploads/upload-request.js'
import type { FileExchange } from './file-response.js'
import { persistsAfter } from './keep-alive.js'
import { RateGuard } from './rate-guard.js'
import type { RequestState } from './request-state.js'
import { type FileSlice, type ResponseFrame, streamResponse, writeResponse } from './response-writer.js'
import { errorBody, type HeaderList } from './responses.js'
import type { WorkerServices } from './services.js'

// The answering side of one connection: what handlers (files, uploads, dispatch) may do with
// it. It writes responses (response-writer.ts), decides with keep-alive.ts whether the
// connection persists, holds readers and senders to --min-rate, and writes the access-log line.
// The connection (connection.ts) owns reading, phases and timers, and learns of each response
// through ExchangeOwner.

const RETRY_SOON: HeaderList = [['Retry-After', 1]]

/** What the exchange tells the connection it belongs to. */
export interface ExchangeOwner {
  /** A response starts: stop the head deadline; the connection persists after it, or closes. */
  responseStarted(persist: boolean): void
  /** A persistent response is in the kernel (or failed): on to the next request. */
  responseWritten(error?: Error | null): void
  /** The request line's method, once read (a HEAD answer carries no body). */
  readonly requestMethod: string
}

export class Exchange implements FileExchange, UploadHost {
  readonly #transport: Transport
  readonly #services: WorkerServices
  readonly #request: RequestState
  readonly #owner: ExchangeOwner
  readonly #rate = new RateGuard()
  readonly #onWritten: (error?: Error | null) => void
  /** The transport's, or the one a PROXY header gave. */
  clientAddress: string

  constructor(transport: Transport, services: WorkerServices, request: RequestState, owner: ExchangeOwner) {
    this.#transport = transport
    this.clientAddress = transport.remoteAddress
    this.#services = services
    this.#request = request
    this.#owner = owner
    this.#onWritten = (error) => owner.responseWritten(error)
  }

  get services(): WorkerServices {
    return this.#services
  }

  /** The client has gone (the connection is closed). */
  get closed(): boolean {
    return this.#transport.destroyed
  }

  /** Flow control for uploads: stop reading while the disk is behind or the file is not open yet. */
  pauseReading(): void {
    this.#transport.pause()
  }

  resumeReading(): void {
    this.#transport.resume()
  }

  /** 503 with Retry-After: full pool and queue, too many connections, or out of descriptors. */
  respondBusy(): void {
    this.respondError(503, 'server busy, try again', RETRY_SOON)
  }

  respondError(status: number, detail?: string, headers?: HeaderList): void {
    this.respond(status, [['Content-Type', 'text/plain; charset=utf-8'], ...(headers ?? [])], errorBody(status, detail))
  }

  /** Writes a whole response; persistent, the connection then goes round for the next request. */
  respond(status: number, headers: HeaderList, body: string | Buffer | null, contentLength?: number): void {
    const frame = this.#frame(status, headers)
    // HEAD never carries a body, whatever the status (RFC 9110 §9.3.2): the head says what GET's would.
    if (this.#owner.requestMethod === 'HEAD' && body !== null) {
      contentLength ??= Buffer.byteLength(body)
      body = null
    }
    this.#request.headBytes = writeResponse(this.#transport, frame, body, contentLength, this.#onWritten)
    // Most answers are in the kernel by now; one that is not waits for a reader that must keep up.
    if (this.#transport.pendingBytes > 0) this.#watchReader()
  }

  /** `status` (200 or 206) with a slice of a file, streamed (response-writer.ts). */
  respondStream(status: number, headers: HeaderList, slice: FileSlice): void {
    const frame = this.#frame(status, headers)
    const { cancel, headBytes } = streamResponse(this.#transport, frame, slice, this.#onWritten)
    this.#request.cancelStream = cancel
    this.#request.headBytes = headBytes
    this.#watchReader()
  }

  /** Starts a response: records its status and decides whether the connection persists. */
  #frame(status: number, headers: HeaderList): ResponseFrame {
    const request = this.#request
    request.status = status
    const persist = persistsAfter(status, request, this.#services.isDraining())
    // Nagle's algorithm would hold a persistent connection's next small response until the client
    // ACKs this one. A connection that closes after its response pushes it out with the FIN:
    // it needs no setsockopt.
    if (persist) this.#transport.setNoDelay()
    this.#owner.responseStarted(persist)
    // Nothing more to come from the client: close without lingering (response-writer.ts).
    const closeAtOnce = !persist && request.requestDone && !request.extraBytes
    return { status, headers, withHead: request.head?.version !== '0.9', persist, closeAtOnce }
  }

  /** --min-rate for a response: a client that reads it too slowly is cut off (the log shows what it got). */
  #watchReader(): void {
    const { minRateBytes, rateWindowMs } = this.#services.config
    const transport = this.#transport
    const handed = (): number => transport.bytesWritten - transport.pendingBytes
    this.#rate.start(minRateBytes, rateWindowMs, handed, () => transport.destroy())
  }

  /** --min-rate for an upload body: one that trickles is ended with 408 and leaves nothing behind. */
  watchUploadBody(): void {
    const { minRateBytes, rateWindowMs } = this.#services.config
    const request = this.#request
    this.#rate.start(
      minRateBytes,
      rateWindowMs,
      () => request.bodyReceived,
      () => this.#uploadTooSlow(),
    )
  }

  #uploadTooSlow(): void {
    const upload = this.#request.upload
    if (upload === null || !upload.receiving) return
    void upload.abort()
    this.respondError(408, 'request body too slow')
  }

  /** The transfer being watched is over (body complete, response flushed, connection closed). */
  stopWatching(): void {
    this.#rate.stop()
  }

  /** This request gets no access-log line (a health check without --log-health). */
  skipLog(): void {
    this.#request.logged = true
  }

  /** The request's access-log line, once. */
  writeLog(): void {
    const record = this.#request.accessRecord(this.#services.workerId, this.clientAddress, this.#transport.bytesWritten)
    if (record !== null) this.#services.log.write(record)
  }
}
