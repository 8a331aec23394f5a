import { isIP } from 'node:net'
import { performance } from 'node:perf_hooks'
import { ConnectionSlot } from './connection-slot.js'
import { ErrorKindIndex } from './errors.js'
import { type EngineResult, Measurement } from './measurement.js'
import type { LoadOptions } from './options.js'
import type { ConnectTarget } from './tcp-connection.js'

/** Counters a progress line reads while the engine runs. */
export interface EngineProgress {
  readonly completed: number
  readonly errors: number
}

function fireSlot(slot: ConnectionSlot, intendedMs: number): void {
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
  readonly target: ConnectTarget
  readonly expectBody: { expectBody: boolean }
  readonly keepAlive: boolean
  readonly expectStatus: number | null
  readonly checkLength: boolean
  readonly expectSha256: string | null
  readonly checkBodies: boolean
  readonly timeoutTicks: number
  readonly slots: ConnectionSlot[] = []
  readonly #options: LoadOptions
  readonly #tickMs: number
  readonly #intervalMs: number
  readonly measurement = new Measurement()
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
    this.target = { address, port: options.port, ipv6: isIP(address) === 6, noDelay: options.keepAlive }
    this.expectBody = { expectBody: options.method !== 'HEAD' }
    this.keepAlive = options.keepAlive
    this.expectStatus = options.expectStatus
    this.checkLength = options.checkLength
    this.expectSha256 = options.expectSha256
    this.checkBodies = options.checkLength || options.expectSha256 !== null
    this.#tickMs = Math.min(100, Math.max(5, options.timeoutMs / 5))
    this.timeoutTicks = Math.ceil(options.timeoutMs / this.#tickMs)
    this.#intervalMs = options.rate === null ? 0 : 1000 / options.rate
    for (let i = 0; i < options.connections; i++) this.slots.push(new ConnectionSlot(this))
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
    return { completed: this.measurement.completed, errors: this.measurement.errors }
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
    this.measurement.reset()
    this.#issued = this.inFlight
    this.#measureStartMs = performance.now()
  }

  /** Gives a free slot its next request, now (closed loop) or at its due time (open loop). */
  next(slot: ConnectionSlot): void {
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
    resolve(this.measurement.result(Math.max(0, this.#endMs - this.#measureStartMs)))
  }
}
