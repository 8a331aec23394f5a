import { createHash, type Hash } from 'node:crypto'
import net from 'node:net'
import { performance } from 'node:perf_hooks'
import { ResponseParser } from '@threadserve/http10-parser'
import type { Histogram } from 'hdr-histogram-js'
import { CHECK_KINDS, CheckKindIndex, classifySocketError, ERROR_KINDS, ErrorKindIndex } from './errors.js'
import { createLatencyHistogram } from './histogram.js'
import type { LoadOptions } from './options.js'

/** What one engine measured; `histogram` holds latencies in microseconds. */
export interface EngineResult {
  readonly elapsedMs: number
  readonly completed: number
  readonly errors: number
  readonly bytesReceived: number
  readonly bytesSent: number
  readonly connectionsOpened: number
  readonly statusCounts: Readonly<Record<string, number>>
  readonly errorCounts: Readonly<Record<string, number>>
  readonly checkFailures: Readonly<Record<string, number>>
  readonly histogram: Histogram
}

/** Counters a progress line reads while the engine runs. */
export interface EngineProgress {
  readonly completed: number
  readonly errors: number
}

const MAX_STATUS = 600

function bump(counts: Float64Array, index: number): void {
  counts[index] = (counts[index] as number) + 1
}

const READ_BUFFER_BYTES = 64 * 1024

/**
 * A connection slot: one request in progress at a time. It keeps one net.Socket for its whole
 * life and reconnects it after each close (node's documented `socket.connect()` after 'close'):
 * building a new socket per request costs more than the connection itself (28k vs 16.5k
 * connections/s against nginx in one process, measured on the 2-core CI machine). Reads land in
 * the slot's own buffer (`onread`), and the handlers are bound once, not per request.
 */
class Slot {
  readonly engine: LoadEngine
  readonly parser = new ResponseParser()
  readonly socket: net.Socket
  timer: NodeJS.Timeout | null = null
  /** Connecting or connected; false once 'close' was emitted. */
  open = false
  active = false
  /** The response is complete; waiting for the server to close so extra bytes can be caught. */
  draining = false
  /** On 'close': give the slot its next request (false while a kept-alive socket is reused). */
  nextOnClose = false
  /** On 'close': resend the current request on a new connection. */
  retryOnClose = false
  /** The socket already carried a response (keep-alive): a close before any byte is retried. */
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
    const onRead = (bytes: number, buffer: Uint8Array): void => this.#onData(bytes, buffer as Buffer)
    // `onread` is honoured by the Socket constructor (node lib/net.js) though @types/node 20 lists
    // it only for net.connect's options.
    const onread = { buffer: Buffer.allocUnsafe(READ_BUFFER_BYTES), callback: onRead }
    this.socket = new net.Socket({ onread } as net.SocketConstructorOpts)
    this.socket.on('connect', this.#onConnect.bind(this))
    this.socket.on('end', this.#onEnd.bind(this))
    this.socket.on('error', this.#onError.bind(this))
    this.socket.on('close', this.#onClose.bind(this))
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
    // Written on 'connect' (#onConnect): a write while connecting makes node add and remove two
    // one-off listeners per request.
    this.socket.connect(engine.connectOptions)
    this.open = true
    this.reused = false
    engine.connectionsOpened++
  }

  #write(): void {
    const engine = this.engine
    this.socket.write(engine.request)
    engine.bytesSent += engine.request.length
  }

  #onConnect(): void {
    if (this.active) this.#write()
  }

  /** Closes the connection; the slot's next request starts on 'close' when `next` is set. */
  drop(next: boolean): void {
    this.nextOnClose = next
    if (this.open) this.socket.destroy()
    else if (next) this.engine.next(this)
  }

  /** The request failed: count it by kind and move on. */
  fail(kind: number): void {
    const engine = this.engine
    bump(engine.errorCounts, kind)
    engine.errors++
    this.active = false
    this.draining = false
    engine.inFlight--
    this.drop(true)
  }

  /** The response is complete (and, when draining, the server has closed). */
  finish(): void {
    const engine = this.engine
    engine.completed++
    bump(engine.statusCounts, this.status < MAX_STATUS ? this.status : 0)
    engine.histogram.recordValue(Math.max(1, Math.round((this.doneMs - this.startMs) * 1000)))
    if (engine.expectStatus !== null && this.status !== engine.expectStatus)
      bump(engine.checkCounts, CheckKindIndex.status)
    if (
      engine.checkLength &&
      (this.declaredLength === null || this.extraBytes || this.bodyBytes !== this.declaredLength)
    ) {
      bump(engine.checkCounts, CheckKindIndex.length)
    }
    if (this.hash !== null) {
      if (this.hash.digest('hex') !== engine.expectSha256) bump(engine.checkCounts, CheckKindIndex.sha256)
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
      this.socket.end()
      return
    }
    this.finish()
  }

  #retry(): boolean {
    // A kept-alive connection the server closed while idle (RFC 9112 §9.3.1): resend the request
    // on a new connection, keeping its start time, instead of counting an error.
    if (!this.reused || this.received > 0) return false
    this.retryOnClose = true
    this.socket.destroy()
    return true
  }

  #onData(bytes: number, buffer: Buffer): void {
    const engine = this.engine
    if (!this.active) return
    engine.bytesReceived += bytes
    this.activeTick = engine.tick
    if (this.draining) {
      this.extraBytes = true
      return
    }
    this.received += bytes
    let step: ReturnType<ResponseParser['push']>
    try {
      step = this.parser.push(buffer.subarray(0, bytes))
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

  #onEnd(): void {
    if (!this.active) return // an idle kept-alive connection closed by the server: 'close' follows
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

  #onError(error: NodeJS.ErrnoException): void {
    if (!this.active) return
    if (this.draining) {
      this.finish()
      return
    }
    if (this.#retry()) return
    this.fail(classifySocketError(error.code))
  }

  #onClose(): void {
    this.open = false
    if (this.retryOnClose) {
      this.retryOnClose = false
      if (this.active) this.#send()
      return
    }
    if (this.active) {
      // Closed with no 'end' or 'error' first (e.g. destroyed by the engine's stop).
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

function fireSlot(slot: Slot, intendedMs: number): void {
  slot.begin(intendedMs)
}

function onTick(engine: LoadEngine): void {
  engine.tick++
  const limit = engine.timeoutTicks
  for (const slot of engine.slots) {
    if (!slot.active || engine.tick - slot.activeTick < limit) continue
    if (slot.draining) slot.finish()
    else slot.fail(ErrorKindIndex.timeout)
  }
}

function onWarmupEnd(engine: LoadEngine): void {
  engine.resetMeasurement()
}

function onDurationEnd(engine: LoadEngine): void {
  engine.stop()
}

/**
 * Drives `connections` slots against one address, closed loop (each slot sends its next request
 * when the previous one ends) or open loop (requests are due at a fixed rate and latency counts
 * from the due time, so a stall cannot hide by delaying the requests it would have slowed; the
 * wrk2 model).
 * @example
 * const result = await new LoadEngine(options, buildRequest(options, null), '127.0.0.1').run()
 */
export class LoadEngine {
  readonly request: Buffer
  readonly connectOptions: net.NetConnectOpts
  readonly expectBody: { expectBody: boolean }
  readonly keepAlive: boolean
  readonly expectStatus: number | null
  readonly checkLength: boolean
  readonly expectSha256: string | null
  readonly checkBodies: boolean
  readonly timeoutTicks: number
  readonly slots: Slot[] = []
  readonly #options: LoadOptions
  readonly #tickMs: number
  readonly #intervalMs: number
  histogram: Histogram = createLatencyHistogram()
  statusCounts = new Float64Array(MAX_STATUS)
  errorCounts = new Float64Array(ERROR_KINDS.length)
  checkCounts = new Float64Array(CHECK_KINDS.length)
  completed = 0
  errors = 0
  bytesReceived = 0
  bytesSent = 0
  connectionsOpened = 0
  inFlight = 0
  tick = 0
  #issued = 0
  #ticket = 0
  #scheduleStartMs = 0
  #measureStartMs = 0
  #endMs = 0
  #stopping = false
  #timers: NodeJS.Timeout[] = []
  #resolve: ((result: EngineResult) => void) | null = null

  constructor(options: LoadOptions, request: Buffer, address: string) {
    this.#options = options
    this.request = request
    this.connectOptions = { host: address, port: options.port, noDelay: options.keepAlive }
    this.expectBody = { expectBody: options.method !== 'HEAD' }
    this.keepAlive = options.keepAlive
    this.expectStatus = options.expectStatus
    this.checkLength = options.checkLength
    this.expectSha256 = options.expectSha256
    this.checkBodies = options.checkLength || options.expectSha256 !== null
    this.#tickMs = Math.min(100, Math.max(5, options.timeoutMs / 5))
    this.timeoutTicks = Math.ceil(options.timeoutMs / this.#tickMs)
    this.#intervalMs = options.rate === null ? 0 : 1000 / options.rate
    for (let i = 0; i < options.connections; i++) this.slots.push(new Slot(this))
  }

  /** Runs until the duration or the request count is reached, or `stop()`. */
  run(): Promise<EngineResult> {
    const options = this.#options
    const now = performance.now()
    this.#scheduleStartMs = now
    this.#measureStartMs = now + options.warmupMs
    const promise = new Promise<EngineResult>((resolve) => {
      this.#resolve = resolve
    })
    this.#timers.push(setInterval(onTick, this.#tickMs, this))
    if (options.warmupMs > 0) this.#timers.push(setTimeout(onWarmupEnd, options.warmupMs, this))
    if (options.durationMs !== null) {
      this.#timers.push(setTimeout(onDurationEnd, options.warmupMs + options.durationMs, this))
    }
    for (const slot of this.slots) this.next(slot)
    this.#maybeFinish()
    return promise
  }

  /** Live counters for a progress line. */
  progress(): EngineProgress {
    return { completed: this.completed, errors: this.errors }
  }

  /** Ends the run now: requests in flight are abandoned and not counted. */
  stop(): void {
    if (this.#resolve === null) return
    this.#stopping = true
    this.#endMs = performance.now()
    for (const slot of this.slots) {
      if (slot.timer !== null) clearTimeout(slot.timer)
      slot.timer = null
      slot.active = false
      slot.drop(false)
    }
    this.inFlight = 0
    this.#finish()
  }

  /** Forgets what warm-up measured; requests still in flight are counted when they end. */
  resetMeasurement(): void {
    this.histogram.reset()
    this.statusCounts.fill(0)
    this.errorCounts.fill(0)
    this.checkCounts.fill(0)
    this.completed = 0
    this.errors = 0
    this.bytesReceived = 0
    this.bytesSent = 0
    this.connectionsOpened = 0
    this.#issued = this.inFlight
    this.#measureStartMs = performance.now()
  }

  /** Gives a free slot its next request, now (closed loop) or at its due time (open loop). */
  next(slot: Slot): void {
    const requests = this.#options.requests
    if (this.#stopping || (requests !== null && this.#issued >= requests)) {
      this.#maybeFinish()
      return
    }
    this.#issued++
    if (this.#intervalMs === 0) {
      slot.begin(performance.now())
      return
    }
    const dueMs = this.#scheduleStartMs + this.#ticket++ * this.#intervalMs
    const waitMs = dueMs - performance.now()
    if (waitMs >= 1) slot.timer = setTimeout(fireSlot, waitMs, slot, dueMs)
    else slot.begin(dueMs)
  }

  #maybeFinish(): void {
    if (this.#resolve === null || this.inFlight > 0) return
    for (const slot of this.slots) if (slot.timer !== null) return
    const requests = this.#options.requests
    if (!this.#stopping && (requests === null || this.#issued < requests)) return
    this.#endMs = performance.now()
    this.#finish()
  }

  #finish(): void {
    const resolve = this.#resolve
    if (resolve === null) return
    this.#resolve = null
    this.#stopping = true
    for (const timer of this.#timers) clearTimeout(timer)
    for (const slot of this.slots) slot.drop(false)
    resolve({
      elapsedMs: Math.max(0, this.#endMs - this.#measureStartMs),
      completed: this.completed,
      errors: this.errors,
      bytesReceived: this.bytesReceived,
      bytesSent: this.bytesSent,
      connectionsOpened: this.connectionsOpened,
      statusCounts: countsByStatus(this.statusCounts),
      errorCounts: countsByName(ERROR_KINDS, this.errorCounts),
      checkFailures: countsByName(CHECK_KINDS, this.checkCounts),
      histogram: this.histogram,
    })
  }
}

function countsByStatus(counts: Float64Array): Record<string, number> {
  const result: Record<string, number> = {}
  for (let status = 0; status < counts.length; status++) {
    const count = counts[status] as number
    if (count > 0) result[String(status)] = count
  }
  return result
}

function countsByName(names: readonly string[], counts: Float64Array): Record<string, number> {
  const result: Record<string, number> = {}
  names.forEach((name, i) => {
    result[name] = counts[i] as number
  })
  return result
}
