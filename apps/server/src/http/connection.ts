import type { ReadStream } from 'node:fs'
import type { FileHandle } from 'node:fs/promises'
import type { Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import { type ParsedTarget, ParseError, parseTarget, type RequestHead, RequestParser } from '@threadserve/http10-parser'
import { BASIC_CHALLENGE, type BasicAuthenticator } from '../auth/basic-auth.js'
import { buildListingResponse } from '../browser/directory-listing.js'
import { UPLOAD_PAGE } from '../browser/upload-page.js'
import { parseHttpDate } from '../files/http-date.js'
import { errorLookup, type FileInfo, type Lookup } from '../files/static-files.js'
import { type UploadHost, UploadRequest } from '../uploads/upload-request.js'
import { wantsKeepAlive } from './keep-alive.js'
import { errorBody, type HeaderList, responseHead } from './responses.js'
import { UPLOAD_ROUTE, type WorkerServices } from './services.js'

// One client connection: one request (HTTP/1.0 closes after each response), or with --keep-alive
// a series of them for clients that ask. The phases run in order for each request; on a closing
// response, bytes that arrive in a phase that does not want them are read and dropped, so that a
// client still sending when we answer sees our response instead of a reset (a "lingering close",
// as nginx does). On a persistent connection, bytes past the request (a pipelined next request)
// are held, and the socket paused, until the response is written; then the phases start over.

// Head: reading the request head. Waiting: the head is complete and the request waits for a
// pool slot or for its credentials to be checked (body bytes are kept). Uploading: a POST
// /upload owns the exchange (upload-request.ts). Responding: the answer is being prepared or
// written. Closing: answered; the connection ends.
const Phase = { Head: 0, Waiting: 1, Uploading: 2, Responding: 3, Closing: 4 } as const
type Phase = (typeof Phase)[keyof typeof Phase]
const LINGER_MS = 2000
const RETRY_SOON: HeaderList = [['Retry-After', 1]]
const CLIENT_CLOSED_STATUS = 499 // nginx's code for "client closed the request": logged, never sent
const EMPTY = Buffer.alloc(0)

const CONNECTION = Symbol('connection')
type SocketWithConnection = Socket & { [CONNECTION]: Connection }

function connectionOf(socket: Socket): Connection {
  return (socket as SocketWithConnection)[CONNECTION]
}

// Socket listeners live at module level: one function for every connection, not a closure each.

/**
 * How every client socket's bytes arrive: sockets are made by client-socket.ts with this as their
 * `onRead` (no 'data' events), and the chunk lives only during this call.
 */
export function onSharedRead(this: Socket, bytes: number, buffer: Buffer): void {
  connectionOf(this).handleData(buffer.subarray(0, bytes))
}
function onSocketClose(this: Socket): void {
  connectionOf(this).handleClose()
}
function onSocketTimeout(this: Socket): void {
  connectionOf(this).handleIdle()
}
function onSocketEnd(this: Socket): void {
  connectionOf(this).handleEnd()
}
function onSocketError(): void {
  // 'close' always follows; resets from clients are normal and not worth a log line.
}
function onHeaderDeadline(connection: Connection): void {
  connection.handleHeaderDeadline()
}
function destroySocket(socket: Socket): void {
  socket.destroy()
}
function onResponseFlushed(this: Socket): void {
  connectionOf(this).handleFlushed()
}

function onKeepAliveIdle(connection: Connection): void {
  connection.closeIfIdle()
}

export class Connection {
  readonly #socket: Socket
  readonly #services: WorkerServices
  readonly #parser: RequestParser
  readonly #onClosed: (connection: Connection) => void
  #startedAt = Date.now()
  #startedTick = performance.now()
  #phase: Phase = Phase.Head
  #head: RequestHead | null = null
  #status = 0
  #logged = false
  #headerTimer: NodeJS.Timeout | null = null
  #lingerTimer: NodeJS.Timeout | null = null
  #upload: UploadRequest | null = null
  #pendingBody: Buffer[] = []
  #bodyComplete = false
  #stream: ReadStream | null = null
  #clientAddress = '-'
  // Keep-alive (--keep-alive): per request, whether the client asked and we may keep the
  // connection; whether the parser saw the whole request (only then is the next byte a new one).
  #keepAlive = false
  #requestDone = false
  #betweenRequests = false
  #peerEnded = false
  #requests = 0
  #bytesAtStart = 0
  #next: Buffer | null = null
  #onWritten: ((error?: Error | null) => void) | null = null

  constructor(socket: Socket, services: WorkerServices, onClosed: (connection: Connection) => void) {
    this.#socket = socket
    this.#services = services
    this.#onClosed = onClosed
    this.#parser = new RequestParser(services.parserLimits)
    ;(socket as SocketWithConnection)[CONNECTION] = this
    // HTTP/1.0 clients may shut down their sending side once the request is out and still wait
    // for the answer (RFC 9112 §9.6 half-close). Node gives handed-over sockets
    // allowHalfOpen=false, which would end our side at their FIN, before we could answer.
    socket.allowHalfOpen = true
    socket.on('end', onSocketEnd)
    socket.on('error', onSocketError)
    socket.on('close', onSocketClose)
    socket.on('finish', onResponseFlushed)
  }

  get socket(): Socket {
    return this.#socket
  }

  /** Starts reading the request. */
  start(): void {
    const socket = this.#socket
    // Read now: once the peer has gone, getpeername() fails and the log would lose the address.
    this.#clientAddress = socket.remoteAddress ?? '-'
    socket.setNoDelay(true)
    socket.setTimeout(this.#services.config.bodyTimeoutMs, onSocketTimeout)
    this.#headerTimer = setTimeout(onHeaderDeadline, this.#services.config.headerTimeoutMs, this)
    socket.resume()
  }

  /** Answers at once without reading a request (the worker is full): 503 and a lingering close. */
  reject(): void {
    this.#clientAddress = this.#socket.remoteAddress ?? '-'
    this.#socket.setTimeout(LINGER_MS, onSocketTimeout)
    this.#sendBusy()
  }

  /** True while a request is being read or answered (not before the first, not between two). */
  get inRequest(): boolean {
    return this.#head !== null || this.#status !== 0
  }

  /**
   * Bytes from the client: the worker's shared read buffer (client-socket.ts) or our own held
   * bytes, valid only during this call: everything kept past it is copied (#holdNext, #onBody, uploads).
   */
  handleData(chunk: Buffer): void {
    const phase = this.#phase
    if (phase !== Phase.Head && phase !== Phase.Waiting && !(phase === Phase.Uploading && this.#upload?.receiving)) {
      // A complete request being answered on a persistent connection: this is the next request.
      if (this.#keepAlive && this.#requestDone && phase !== Phase.Closing) this.#holdNext(chunk)
      return // otherwise lingering (or the rest of a body we refused): drop
    }
    if (this.#betweenRequests) this.#beginNextRequest()
    let head: RequestHead | null
    let body: Buffer | null
    let done: boolean
    let leftover: Buffer | null
    try {
      const step = this.#parser.push(chunk)
      head = step.head
      body = step.body
      done = step.done
      leftover = step.leftover
    } catch (error) {
      if (!(error instanceof ParseError)) throw error
      this.#sendError(error.status, error.message)
      return
    }
    // Decided before routing: a response sent at once must already know whether to persist.
    if (head !== null) this.#keepAlive = this.#mayKeepAlive(head)
    if (done) this.#requestDone = true
    if (leftover !== null && this.#keepAlive) this.#holdNext(leftover)
    if (head !== null) this.#onHead(head)
    if (body !== null && body.length > 0) this.#onBody(body)
    if (done) this.#onBodyEnd()
  }

  #mayKeepAlive(head: RequestHead): boolean {
    const config = this.#services.config
    return config.keepAlive && this.#requests + 1 < config.keepAliveRequests && wantsKeepAlive(head)
  }

  /** Bytes of the next request, sent before this response is out: kept, and reading paused. */
  #holdNext(chunk: Buffer): void {
    this.#next = this.#next === null ? Buffer.from(chunk) : Buffer.concat([this.#next, chunk])
    this.#socket.pause()
  }

  /** The first byte of the next request on a persistent connection: its header timeout starts. */
  #beginNextRequest(): void {
    this.#betweenRequests = false
    if (this.#headerTimer !== null) clearTimeout(this.#headerTimer)
    this.#headerTimer = setTimeout(onHeaderDeadline, this.#services.config.headerTimeoutMs, this)
    this.#startedAt = Date.now()
    this.#startedTick = performance.now()
  }

  /** A persistent response is written: log it, free the slot, and read the next request. */
  #responseWritten(error?: Error | null): void {
    const socket = this.#socket
    if (error || socket.destroyed) return // handleClose logs and frees the slot
    this.#writeLog()
    this.#services.releaseSlot(this)
    this.#requests++
    this.#head = null
    this.#status = 0
    this.#logged = false
    this.#keepAlive = false
    this.#requestDone = false
    this.#bodyComplete = false
    this.#upload = null
    this.#pendingBody = []
    this.#stream = null
    this.#bytesAtStart = socket.bytesWritten
    this.#parser.reset()
    this.#phase = Phase.Head
    this.#betweenRequests = true
    this.#headerTimer = setTimeout(onKeepAliveIdle, this.#services.config.keepAliveTimeoutMs, this)
    const next = this.#next
    this.#next = null
    socket.resume()
    if (next !== null) this.handleData(next)
    if (this.#peerEnded && this.#phase === Phase.Head) this.handleEnd()
  }

  /** Closes a persistent connection that waits for its next request (idle timeout, shutdown). */
  closeIfIdle(): void {
    if (!this.#betweenRequests || this.#socket.destroyed) return
    if (this.#headerTimer !== null) clearTimeout(this.#headerTimer)
    this.#headerTimer = null
    this.#phase = Phase.Closing
    this.#socket.end()
  }

  /** The client will send nothing more: fine once the request is complete, an error before. */
  handleEnd(): void {
    this.#peerEnded = true
    const phase = this.#phase
    if (phase === Phase.Head) {
      try {
        this.#parser.end()
      } catch (error) {
        if (!(error instanceof ParseError)) throw error
        this.#sendError(error.status, error.message)
        return
      }
      this.#socket.destroy() // nothing was sent at all: nothing to answer
    } else if (
      (phase === Phase.Waiting || (phase === Phase.Uploading && this.#upload?.receiving)) &&
      !this.#bodyComplete
    ) {
      void this.#upload?.abort()
      this.#sendError(400, 'request body ended early')
    } else if (phase === Phase.Closing && this.#socket.writableFinished) {
      this.#socket.destroy()
    }
  }

  handleHeaderDeadline(): void {
    this.#headerTimer = null
    if (this.#phase === Phase.Head) this.#sendError(408, 'request head not received in time')
  }

  handleIdle(): void {
    if (this.#phase === Phase.Uploading && this.#upload?.writing) {
      void this.#upload.abort()
      this.#sendError(408, 'request body stalled')
    } else if (this.#phase === Phase.Responding || this.#phase === Phase.Closing) {
      this.#socket.destroy() // a reader that stopped reading, or a lingering client that never closes
    }
  }

  handleFlushed(): void {
    this.#writeLog()
    this.#lingerTimer = setTimeout(destroySocket, LINGER_MS, this.#socket)
  }

  handleClose(): void {
    if (this.#headerTimer !== null) clearTimeout(this.#headerTimer)
    if (this.#lingerTimer !== null) clearTimeout(this.#lingerTimer)
    this.#headerTimer = null
    this.#lingerTimer = null
    this.#stream?.destroy()
    this.#writeLog()
    const upload = this.#upload
    if (this.#phase === Phase.Uploading && upload?.receiving) {
      // The slot is free only once the temp file is gone: a draining worker must not exit first.
      void upload.abort().finally(() => this.#onClosed(this))
    } else {
      this.#onClosed(this)
    }
  }

  #onHead(head: RequestHead): void {
    if (this.#headerTimer !== null) clearTimeout(this.#headerTimer)
    this.#headerTimer = null
    this.#head = head
    const slot = this.#services.claimSlot(this)
    if (slot === 'full') {
      this.#sendBusy()
    } else if (slot === 'queued') {
      this.#phase = Phase.Waiting // body bytes that come meanwhile wait in #pendingBody
      this.#socket.pause()
    } else {
      this.#serve(head)
    }
  }

  /** A queued request got its pool slot. */
  slotGranted(): void {
    if (this.#phase !== Phase.Waiting || this.#head === null) return
    this.#phase = Phase.Head
    this.#serve(this.#head)
    if (this.#phase === Phase.Head) this.#socket.resume()
  }

  #serve(head: RequestHead): void {
    let target: ParsedTarget
    try {
      target = parseTarget(head.target)
    } catch (error) {
      if (!(error instanceof ParseError)) throw error
      this.#sendError(error.status, error.status === 404 ? undefined : error.message)
      return
    }
    const auth = this.#services.auth
    const method = head.method
    // --upload-auth guards every POST and the upload page; --auth-all every GET/HEAD as well.
    const guarded =
      method === 'POST' ||
      ((method === 'GET' || method === 'HEAD') && (this.#services.config.authAll || target.pathname === UPLOAD_ROUTE))
    if (auth && guarded) {
      void this.#authorize(head, target, auth)
      return
    }
    this.#route(head, target)
  }

  // RFC 7617 / RFC 1945 §11: a 401 with the challenge. A POST is answered before its body is read
  // (the socket stays paused) and before it asks for a permit.
  async #authorize(head: RequestHead, target: ParsedTarget, auth: BasicAuthenticator): Promise<void> {
    this.#phase = head.method === 'POST' ? Phase.Waiting : Phase.Responding
    this.#socket.pause()
    let ok: boolean
    try {
      ok = await auth.verify(head.get('authorization'))
    } catch {
      ok = false
    }
    if (this.#socket.destroyed || (this.#phase as Phase) === Phase.Closing) return // ended meanwhile
    if (!ok) return this.#sendError(401, 'credentials required', [['WWW-Authenticate', BASIC_CHALLENGE]])
    this.#route(head, target)
  }

  #route(head: RequestHead, target: ParsedTarget): void {
    const method = head.method
    const isUploadRoute = target.pathname === UPLOAD_ROUTE
    if (method === 'GET' || method === 'HEAD') {
      this.#phase = Phase.Responding
      if (isUploadRoute) {
        const page = UPLOAD_PAGE
        this.#send(200, page.headers, method === 'GET' ? page.body : null, page.body.length)
        return
      }
      void this.#serveFile(head, target, method === 'GET')
      return
    }
    if (method === 'POST' && isUploadRoute) {
      this.#beginUpload(head)
      return
    }
    this.#sendError(405, undefined, [['Allow', isUploadRoute ? 'GET, HEAD, POST' : 'GET, HEAD']])
  }

  #onBody(body: Buffer): void {
    if (this.#phase === Phase.Waiting)
      this.#pendingBody.push(Buffer.from(body)) // copied: see handleData
    else if (this.#phase === Phase.Uploading) this.#upload?.push(body)
  }

  #onBodyEnd(): void {
    this.#bodyComplete = true
    if (this.#phase === Phase.Uploading) this.#upload?.bodyEnded()
  }

  async #serveFile(head: RequestHead, target: ParsedTarget, wantBody: boolean): Promise<void> {
    let found: Lookup
    try {
      found = await this.#services.files.lookup(target, wantBody)
    } catch {
      found = { kind: 'not-found' }
    }
    if (this.#socket.destroyed) return
    switch (found.kind) {
      case 'not-found':
        return this.#sendError(404)
      case 'forbidden':
        return this.#sendError(403)
      case 'unavailable':
        return this.#sendBusy()
      case 'redirect':
        return this.#send(301, [['Location', found.location]], errorBody(301))
      case 'directory':
        return this.#serveListing(head, target, found, wantBody)
    }
    const { file, body } = found
    const headers: HeaderList = [
      ['Content-Type', file.contentType],
      ['Last-Modified', file.lastModified],
    ]
    const since = head.get('if-modified-since')
    if (since !== undefined) {
      const sinceMs = parseHttpDate(since)
      // Last-Modified has whole seconds, so compare whole seconds (RFC 9110 §13.1.3).
      if (sinceMs !== undefined && Math.floor(file.mtimeMs / 1000) * 1000 <= sinceMs) {
        return this.#send(304, headers, null, file.size)
      }
    }
    if (!wantBody || file.size === 0) return this.#send(200, headers, null, file.size)
    if (body !== null) return this.#send(200, headers, body)
    await this.#streamFile(head, file, headers)
  }

  async #streamFile(head: RequestHead, file: FileInfo, headers: HeaderList): Promise<void> {
    let handle: FileHandle
    try {
      handle = await this.#services.files.open(file)
    } catch (error) {
      const failed = errorLookup(error)
      if (failed.kind === 'unavailable') return this.#sendBusy()
      return this.#sendError(failed.kind === 'forbidden' ? 403 : 404)
    }
    if (this.#socket.destroyed) {
      await handle.close()
      return
    }
    // Content-Length promises `file.size` bytes: read exactly that range, even if the file grows.
    const stream = handle.createReadStream({ start: 0, end: file.size - 1, highWaterMark: 64 * 1024 })
    this.#stream = stream
    this.#status = 200
    const persist = this.#shouldPersist(200)
    this.#phase = persist ? Phase.Responding : Phase.Closing
    const socket = this.#socket
    socket.resume()
    if (head.version !== '0.9') socket.write(responseHead(200, file.size, headers, persist), 'latin1')
    stream.on('error', () => socket.destroy())
    stream.on('end', () => {
      // A file that shrank under us delivered fewer bytes than promised: the client must see a
      // truncated response (reset), not a short one that looks complete.
      if (stream.bytesRead < file.size) socket.destroy()
      else if (socket.destroyed) return
      else if (persist) socket.write(EMPTY, this.#writtenCallback())
      else socket.end()
    })
    stream.pipe(socket, { end: false })
  }

  #beginUpload(head: RequestHead): void {
    if (head.contentLength === 0) {
      this.#sendError(400, 'empty body')
      return
    }
    const upload = new UploadRequest(this.#uploadHost(), head, this.#pendingBody, this.#bodyComplete)
    this.#pendingBody = []
    this.#upload = upload
    this.#phase = Phase.Uploading
    void upload.start()
  }

  /** What the upload may do with this connection: flow control and one answer. */
  #uploadHost(): UploadHost {
    const socket = this.#socket
    return {
      services: this.#services,
      get closed() {
        return socket.destroyed
      },
      pauseReading: () => socket.pause(),
      resumeReading: () => socket.resume(),
      respond: (status, headers, body) => this.#send(status, headers, body),
      respondError: (status, detail, headers) => this.#sendError(status, detail, headers),
      respondBusy: () => this.#sendBusy(),
    }
  }

  /** `--list`: a directory without index.html, as HTML or JSON (directory-listing.ts). */
  async #serveListing(
    head: RequestHead,
    target: ParsedTarget,
    found: { readonly realPath: string; readonly root: string },
    wantBody: boolean,
  ): Promise<void> {
    let listing: Awaited<ReturnType<typeof buildListingResponse>>
    try {
      listing = await buildListingResponse(found.root, found.realPath, target.pathname, head.get('accept'))
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      return this.#sendError(code === 'EACCES' || code === 'EPERM' ? 403 : 404)
    }
    if (this.#socket.destroyed) return
    this.#send(200, listing.headers, wantBody ? listing.body : null, listing.body.length)
  }

  /** 503 with Retry-After: full pool and queue, too many connections, or out of descriptors. */
  #sendBusy(): void {
    this.#sendError(503, 'server busy, try again', RETRY_SOON)
  }

  #sendError(status: number, detail?: string, headers?: HeaderList): void {
    this.#send(status, [['Content-Type', 'text/plain; charset=utf-8'], ...(headers ?? [])], errorBody(status, detail))
  }

  /**
   * Whether the connection stays open after this response: the client asked, the whole request
   * was read (so the next byte starts a new one), the answer is not an error that ends the
   * exchange (timeouts, overload, server faults), and the worker is not shutting down.
   */
  #shouldPersist(status: number): boolean {
    return this.#keepAlive && this.#requestDone && status < 500 && status !== 408 && !this.#services.isDraining()
  }

  #writtenCallback(): (error?: Error | null) => void {
    this.#onWritten ??= (error) => this.#responseWritten(error)
    return this.#onWritten
  }

  /**
   * Writes a whole response. Closing: half-closes, and later request bytes are read and dropped
   * (lingering close). Persistent: once written, the connection goes round for the next request.
   */
  #send(status: number, headers: HeaderList, body: string | Buffer | null, contentLength?: number): void {
    if (this.#headerTimer !== null) clearTimeout(this.#headerTimer)
    this.#headerTimer = null
    this.#status = status
    const persist = this.#shouldPersist(status)
    this.#phase = persist ? Phase.Responding : Phase.Closing
    const socket = this.#socket
    if (socket.destroyed || socket.writableEnded) return
    const bodyBytes = body === null ? null : typeof body === 'string' ? Buffer.from(body) : body
    socket.cork() // head and body leave in one writev; end() or uncork() sends them
    if (this.#head?.version !== '0.9') {
      const head = responseHead(status, contentLength ?? bodyBytes?.length ?? 0, headers, persist)
      socket.write(head, 'latin1')
    }
    if (persist) {
      socket.write(bodyBytes ?? EMPTY, this.#writtenCallback())
      socket.uncork()
      return
    }
    if (bodyBytes !== null) socket.write(bodyBytes)
    socket.end()
    socket.resume()
  }

  #writeLog(): void {
    if (this.#logged) return
    const head = this.#head
    if (head === null && this.#status === 0) return // nothing was asked and nothing answered
    this.#logged = true
    const services = this.#services
    services.log.write({
      time: this.#startedAt,
      workerId: services.workerId,
      clientAddress: this.#clientAddress,
      method: head?.method ?? '-',
      target: head?.target ?? '-',
      version: head === null ? '-' : `HTTP/${head.version}`,
      status: this.#status === 0 ? CLIENT_CLOSED_STATUS : this.#status,
      bytes: this.#socket.bytesWritten - this.#bytesAtStart,
      durationMs: Math.round((performance.now() - this.#startedTick) * 1000) / 1000,
    })
  }
}
