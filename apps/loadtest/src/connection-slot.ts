import { createHash, type Hash } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { ResponseParser } from '@threadserve/http10-parser'
import type { LoadEngine } from './engine.js'
import { CheckKindIndex, classifySocketError, ErrorKindIndex } from './errors.js'
import { bump, MAX_STATUS } from './measurement.js'
import { type ConnectionEvents, TcpConnection } from './tcp-connection.js'

const READ_BUFFER_BYTES = 64 * 1024

/**
 * A connection slot: one request in progress at a time, on one TcpConnection it reconnects after
 * each close. Reads land in the slot's own buffer; the connection calls the slot's `on*` methods,
 * so nothing is bound or allocated per request.
 */
export class ConnectionSlot implements ConnectionEvents {
  readonly engine: LoadEngine
  readonly parser = new ResponseParser()
  readonly connection: TcpConnection
  timer: NodeJS.Timeout | null = null
  /** Connecting or connected; false once onClose has run. */
  open = false
  active = false
  /** The response is complete; waiting for the server to close so extra bytes can be caught. */
  draining = false
  /** On close: give the slot its next request (false while a kept-alive connection is reused). */
  nextOnClose = false
  /** On close: resend the current request on a new connection. */
  retryOnClose = false
  /** The connection already carried a response (keep-alive): a close before any byte is retried. */
  reused = false
  reusable = false
  startMs = 0
  doneMs = 0
  activeTick = 0
  received = 0
  status = 0
  declaredLength: number | null = null
  bodyBytes = 0
  extraBytes = false
  hash: Hash | null = null

  constructor(engine: LoadEngine) {
    this.engine = engine
    this.connection = new TcpConnection(this, Buffer.allocUnsafe(READ_BUFFER_BYTES))
  }

  begin(startMs: number): void {
    const engine = this.engine
    this.timer = null
    this.active = true
    this.draining = false
    this.startMs = startMs
    this.activeTick = engine.tick
    this.received = 0
    this.status = 0
    this.declaredLength = null
    this.bodyBytes = 0
    this.extraBytes = false
    this.reusable = false
    if (engine.expectSha256 !== null) this.hash = createHash('sha256')
    this.parser.reset(engine.expectBody)
    engine.inFlight++
    this.#send()
  }

  #send(): void {
    const engine = this.engine
    if (this.open) {
      this.#write()
      return
    }
    // Written once connected (onConnect).
    this.connection.connect(engine.target)
    this.open = true
    this.reused = false
    engine.measurement.connectionsOpened++
  }

  #write(): void {
    const engine = this.engine
    this.connection.write(engine.request)
    engine.measurement.bytesSent += engine.request.length
  }

  onConnect(): void {
    if (this.active) this.#write()
  }

  /** Closes the connection; the slot's next request starts on close when `next` is set. */
  drop(next: boolean): void {
    this.nextOnClose = next
    if (this.open) this.connection.close()
    else if (next) this.engine.next(this)
  }

  /** The request failed: count it by kind and move on. */
  fail(kind: number): void {
    const engine = this.engine
    bump(engine.measurement.errorCounts, kind)
    engine.measurement.errors++
    this.active = false
    this.draining = false
    engine.inFlight--
    this.drop(true)
  }

  /** The response is complete (and, when draining, the server has closed). */
  finish(): void {
    const engine = this.engine
    const measurement = engine.measurement
    measurement.completed++
    bump(measurement.statusCounts, this.status < MAX_STATUS ? this.status : 0)
    measurement.histogram.recordValue(Math.max(1, Math.round((this.doneMs - this.startMs) * 1000)))
    if (engine.expectStatus !== null && this.status !== engine.expectStatus)
      bump(measurement.checkCounts, CheckKindIndex.status)
    if (
      engine.checkLength &&
      (this.declaredLength === null || this.extraBytes || this.bodyBytes !== this.declaredLength)
    ) {
      bump(measurement.checkCounts, CheckKindIndex.length)
    }
    if (this.hash !== null) {
      if (this.hash.digest('hex') !== engine.expectSha256) bump(measurement.checkCounts, CheckKindIndex.sha256)
      this.hash = null
    }
    this.active = false
    this.draining = false
    engine.inFlight--
    if (engine.keepAlive && this.reusable && this.open) {
      this.reused = true
      engine.next(this)
    } else this.drop(true)
  }

  #complete(extra: boolean, ended: boolean): void {
    this.doneMs = performance.now()
    if (extra) this.extraBytes = true
    // With --check-length on one-request connections, wait for the close: bytes past
    // Content-Length are a framing bug the check exists to catch.
    if (!ended && this.engine.checkLength && !(this.engine.keepAlive && this.reusable)) {
      this.draining = true
      this.connection.end()
      return
    }
    this.finish()
  }

  #retry(): boolean {
    // A kept-alive connection the server closed while idle (RFC 9112 §9.3.1): resend the request
    // on a new connection, keeping its start time, instead of counting an error.
    if (!this.reused || this.received > 0) return false
    this.retryOnClose = true
    this.connection.close()
    return true
  }

  onData(bytes: number): void {
    const engine = this.engine
    if (!this.active) return
    engine.measurement.bytesReceived += bytes
    this.activeTick = engine.tick
    if (this.draining) {
      this.extraBytes = true
      return
    }
    this.received += bytes
    let step: ReturnType<ResponseParser['push']>
    try {
      step = this.parser.push(this.connection.readBuffer.subarray(0, bytes))
    } catch {
      this.fail(ErrorKindIndex.malformed)
      return
    }
    const head = step.head
    if (head !== null) {
      this.status = head.status
      this.declaredLength = head.contentLength
      if (engine.keepAlive) this.reusable = isReusable(head.version, head.get('connection'), head.contentLength)
    }
    if (engine.checkBodies && step.body !== null) {
      this.bodyBytes += step.body.length
      if (this.hash !== null) this.hash.update(step.body)
    }
    if (step.done) this.#complete(step.leftover !== null, false)
  }

  onEnd(): void {
    if (!this.active) return // an idle kept-alive connection closed by the server: onClose follows
    if (this.draining) {
      this.finish()
      return
    }
    if (this.#retry()) return
    let done = false
    try {
      done = this.parser.end().done
    } catch (error) {
      const code = (error as { code?: string }).code
      this.fail(code === 'INCOMPLETE_RESPONSE' ? ErrorKindIndex.closed : ErrorKindIndex.malformed)
      return
    }
    if (done) {
      // A body delimited by the close (RFC 9112 §6.3 rule 8) is complete now.
      this.reusable = false
      this.#complete(false, true)
    }
  }

  onError(code: string): void {
    if (!this.active) return
    if (this.draining) {
      this.finish()
      return
    }
    if (this.#retry()) return
    this.fail(classifySocketError(code))
  }

  onClose(): void {
    this.open = false
    if (this.retryOnClose) {
      this.retryOnClose = false
      if (this.active) this.#send()
      return
    }
    if (this.active) {
      // Closed with no end or error first (e.g. closed by the engine's stop).
      this.fail(ErrorKindIndex.closed)
      return
    }
    if (this.nextOnClose) {
      this.nextOnClose = false
      this.engine.next(this)
    }
  }
}

function isReusable(version: string, connection: string | undefined, contentLength: number | null): boolean {
  // A body read until close cannot be followed by another response (RFC 9112 §6.3).
  if (contentLength === null) return false
  const value = connection?.toLowerCase()
  if (version === '1.0') return value?.includes('keep-alive') === true
  return value === undefined || !value.includes('close')
}
