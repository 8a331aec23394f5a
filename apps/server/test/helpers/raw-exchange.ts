import net from 'node:net'
import { ParseError, type ParseErrorCode, type ResponseHead, ResponseParser } from '@threadserve/http10-parser'

// The one raw-socket client of the tests: bytes go out exactly as given (strings as latin1), every
// byte that comes back is kept (`raw`) and parsed with the parser package's ResponseParser into
// responses, in order. It never throws: a refused or reset connection and our own deadline are
// reported in the result, so that a test can assert on them like on any other answer.

/** What ended a connection: the server (FIN), a socket error (RST, refused), our deadline, or us. */
export type ClosedBy = 'server' | 'error' | 'timeout' | 'client'

/** Header fields by name, compared case-insensitively; the first occurrence wins. */
export interface HeaderFields {
  get(name: string): string | undefined
}

export interface RawResponse {
  readonly status: number
  /** As sent on the status line, e.g. '1.0'. */
  readonly version: string
  readonly headers: ResponseHead
  /** The body bytes that arrived: Content-Length of them, or up to the close when it has none. */
  readonly body: Buffer
  /** False when the connection closed before the whole body came. */
  readonly complete: boolean
}

export interface RawExchange {
  /** Status of the first response; 0 when there is none (no bytes, an HTTP/0.9 body, garbage). */
  readonly status: number
  /** Fields of the first response (none when there is no response). */
  readonly headers: HeaderFields
  /** Body of the first response (empty when there is no response). */
  readonly body: Buffer
  /**
   * `raw` is exactly one complete response: the whole body its Content-Length announced (or up
   * to the close), and not a byte after it.
   */
  readonly exact: boolean
  /** Every response, in order; only the last can be incomplete. */
  readonly responses: readonly RawResponse[]
  /** Every byte the server sent, unparsed. */
  readonly raw: Buffer
  /**
   * Why the bytes from some point on are not a response: BAD_STATUS_LINE for an HTTP/0.9 answer
   * (a bare body), INCOMPLETE_RESPONSE for a response cut short; null when `raw` is whole responses.
   */
  readonly parseError: ParseErrorCode | null
  readonly closedBy: ClosedBy
  /** The socket error code (ECONNREFUSED, ECONNRESET, EPIPE...), 'timeout' at our deadline, or null. */
  readonly error: string | null
  /** Date.now() before connecting and once the socket closed. */
  readonly startedAt: number
  readonly endedAt: number
}

export interface ConnectionOptions {
  /** Our deadline (default 15 s): then the socket is destroyed and the exchange ends with 'timeout'. */
  readonly timeoutMs?: number
  /** Answers to HEAD requests (no body follows their head): all of them, or these response indexes. */
  readonly headResponses?: true | ReadonlySet<number>
  /** The loopback address to connect from (default: the system's choice, 127.0.0.1). */
  readonly localAddress?: string
}

export interface ExchangeOptions extends ConnectionOptions {
  /** Half-close after the last piece (default false: only the server ends the exchange). */
  readonly halfClose?: boolean
  /** Pause between pieces: unset writes them back to back, 0 waits one turn of the event loop, n waits n ms. */
  readonly pieceGapMs?: number
}

export type Piece = string | Buffer

/** An open connection whose bytes the test writes itself, piece by piece. */
export interface RawConnection {
  readonly socket: net.Socket
  /** True once connected; false when the connection failed first. */
  readonly connected: Promise<boolean>
  /** Writes a piece; resolves once the socket can take more (after 'drain' when its buffer is full). */
  write(piece: Piece): Promise<void>
  /** Half-closes, after writing `piece` if given. */
  end(piece?: Piece): void
  destroy(): void
  /** Resolves with response `index` once it is complete, or null when the connection closed first. */
  response(index: number): Promise<RawResponse | null>
  /** Resolves when the connection has closed, whoever closed it. */
  readonly result: Promise<RawExchange>
}

const DEFAULT_TIMEOUT_MS = 15_000
const NO_FIELDS: HeaderFields = { get: () => undefined }

const toBuffer = (piece: Piece): Buffer => (typeof piece === 'string' ? Buffer.from(piece, 'latin1') : piece)

/** Feeds what one connection receives through a ResponseParser, one response after another. */
class ResponseStream {
  readonly responses: RawResponse[] = []
  parseError: ParseErrorCode | null = null
  readonly #parser = new ResponseParser()
  readonly #headResponses: true | ReadonlySet<number> | undefined
  #head: ResponseHead | null = null
  #body: Buffer[] = []
  #started = false // a byte of the current response has arrived
  #ended = false
  #waiters: { index: number; resolve: (response: RawResponse | null) => void }[] = []

  constructor(headResponses: true | ReadonlySet<number> | undefined) {
    this.#headResponses = headResponses
    this.#resetParser()
  }

  push(chunk: Buffer): void {
    let rest: Buffer | null = chunk
    while (rest !== null && rest.length > 0 && this.parseError === null) {
      this.#started = true
      let step: ReturnType<ResponseParser['push']>
      try {
        step = this.#parser.push(rest)
      } catch (error) {
        this.#fail(error)
        return
      }
      rest = step.leftover
      if (step.head !== null) this.#head = step.head
      if (step.body !== null) this.#body.push(step.body)
      if (step.done) this.#finish(true)
    }
  }

  /** The connection closed: completes a body read up to the close, or records what was cut short. */
  end(): void {
    if (this.parseError === null && this.#started) {
      try {
        if (this.#parser.end().done) this.#finish(true)
      } catch (error) {
        this.#fail(error)
      }
    }
    this.#ended = true
    for (const waiter of this.#waiters) waiter.resolve(null)
    this.#waiters = []
  }

  whenComplete(index: number): Promise<RawResponse | null> {
    const response = this.responses[index]
    if (response !== undefined) return Promise.resolve(response.complete ? response : null)
    if (this.#ended) return Promise.resolve(null)
    return new Promise((resolve) => this.#waiters.push({ index, resolve }))
  }

  #fail(error: unknown): void {
    if (!(error instanceof ParseError)) throw error
    this.parseError = error.code
    if (this.#head !== null) this.#finish(false) // the head came, the body was cut short
  }

  #finish(complete: boolean): void {
    const head = this.#head as ResponseHead
    const response = {
      status: head.status,
      version: head.version,
      headers: head,
      body: Buffer.concat(this.#body),
      complete,
    }
    this.responses.push(response)
    this.#head = null
    this.#body = []
    this.#started = false
    this.#resetParser()
    const index = this.responses.length - 1
    this.#waiters = this.#waiters.filter((waiter) => {
      if (waiter.index !== index) return true
      waiter.resolve(complete ? response : null)
      return false
    })
  }

  #resetParser(): void {
    const index = this.responses.length
    const isHead = this.#headResponses === true || (this.#headResponses?.has(index) ?? false)
    this.#parser.reset({ expectBody: !isHead })
  }
}

/**
 * Connects to 127.0.0.1:`port` and collects and parses everything the server sends until the
 * connection closes; the caller writes.
 * @example
 * const connection = openExchange(port)
 * await connection.write('GET /a HTTP/1.1\r\nHost: localhost\r\n\r\n')
 * const first = await connection.response(0)
 */
export function openExchange(port: number, options: ConnectionOptions = {}): RawConnection {
  const startedAt = Date.now()
  const local = options.localAddress === undefined ? {} : { localAddress: options.localAddress }
  const socket = net.connect({ port, host: '127.0.0.1', ...local })
  const stream = new ResponseStream(options.headResponses)
  const chunks: Buffer[] = []
  let closedBy: ClosedBy | null = null
  let error: string | null = null
  const timer = setTimeout(() => {
    error = 'timeout'
    closedBy ??= 'timeout'
    socket.destroy()
  }, options.timeoutMs ?? DEFAULT_TIMEOUT_MS)
  socket.on('data', (chunk: Buffer) => {
    chunks.push(chunk)
    stream.push(chunk)
  })
  socket.on('error', (e: NodeJS.ErrnoException) => {
    error ??= e.code ?? e.message
    closedBy ??= 'error'
  })
  socket.on('end', () => {
    closedBy ??= 'server'
    socket.destroy() // the server is done: close our side at once (no linger)
  })
  const connected = new Promise<boolean>((resolve) => {
    socket.once('connect', () => resolve(true))
    socket.once('close', () => resolve(false))
  })
  const result = new Promise<RawExchange>((resolve) => {
    socket.once('close', () => {
      clearTimeout(timer)
      stream.end()
      const raw = Buffer.concat(chunks)
      const first = stream.responses[0]
      resolve({
        status: first?.status ?? 0,
        headers: first?.headers ?? NO_FIELDS,
        body: first?.body ?? Buffer.alloc(0),
        exact: stream.responses.length === 1 && first?.complete === true && stream.parseError === null,
        responses: stream.responses,
        raw,
        parseError: stream.parseError,
        closedBy: closedBy ?? 'client',
        error,
        startedAt,
        endedAt: Date.now(),
      })
    })
  })
  return {
    socket,
    connected,
    async write(piece) {
      if (socket.destroyed) return
      if (socket.write(toBuffer(piece))) return
      await new Promise<void>((resolve) => {
        const done = (): void => {
          socket.off('drain', done)
          socket.off('close', done)
          resolve()
        }
        socket.on('drain', done)
        socket.on('close', done)
      })
    },
    end(piece) {
      if (socket.destroyed) return
      if (piece === undefined) socket.end()
      else socket.end(toBuffer(piece))
    },
    destroy() {
      socket.destroy()
    },
    response: (index) => stream.whenComplete(index),
    result,
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => (ms === 0 ? setImmediate(resolve) : setTimeout(resolve, ms)))
}

/**
 * Sends `request` (one piece or several) on a new connection and resolves with everything the
 * server sent once the connection has closed. Never throws.
 * @example
 * const { status, headers, body } = await exchange(port, 'GET /a HTTP/1.0\r\n\r\n')
 */
export async function exchange(
  port: number,
  request: Piece | readonly Piece[],
  options: ExchangeOptions = {},
): Promise<RawExchange> {
  const connection = openExchange(port, options)
  if (await connection.connected) {
    const pieces = typeof request === 'string' || Buffer.isBuffer(request) ? [request] : request
    for (const [index, piece] of pieces.entries()) {
      if (index > 0 && options.pieceGapMs !== undefined) await pause(options.pieceGapMs)
      if (connection.socket.destroyed) break
      await connection.write(piece)
    }
    if (options.halfClose === true) connection.end()
  }
  return connection.result
}
