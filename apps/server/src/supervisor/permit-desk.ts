import type { Channel, SupervisorMessage, WorkerMessage } from '@threadserve/ipc-protocol'
import { Semaphore } from '@threadserve/locking'

// The server-wide limit on uploads in progress (--max-posts, 503 above it). Only the
// supervisor holds it, so the limit is exact across workers; each permit is recorded against the
// worker that holds it (a worker that dies gives all of its permits back) and the client address
// it serves: one address may hold at most --max-posts-per-client, so a few clients that trickle
// their bodies cannot lock every other address out.
//
// A request that finds no permit free waits a moment (RELEASE_IN_FLIGHT_MS) before it is denied.
// Releases and requests come from different workers over different channels, which nothing
// orders: a client whose upload was just answered may send the next one, through another worker,
// and its request can reach us before the first worker's release (the release was sent before
// the 201, but on another socket). Without the wait that client gets a 503 while it holds no
// upload at all (bench:compare saw a few per thousand uploads from four connections).

export const RETRY_AFTER_SECONDS = 1

export type PermitDecision = { granted: true; permitId: string } | { granted: false; retryAfterSeconds: number }

interface Holder {
  readonly owner: string
  readonly client: string | undefined
}

const DENIED: PermitDecision = { granted: false, retryAfterSeconds: RETRY_AFTER_SECONDS }

/** How long a request waits for a permit being released before it is denied. */
export const RELEASE_IN_FLIGHT_MS = 25
/** Requests waiting at once; past it a request is denied at once (a real overload, not a race). */
const MAX_WAITING = 64

interface Waiter {
  readonly owner: string
  readonly client: string | undefined
  readonly answer: (decision: PermitDecision) => void
  readonly timer: NodeJS.Timeout
}

export class PermitDesk {
  readonly #semaphore: Semaphore
  readonly #perClient: number
  readonly #holders = new Map<string, Holder>()
  readonly #byClient = new Map<string, number>()
  readonly #waiting: Waiter[] = []
  #sequence = 0

  /** `perClient`: the most one client address may hold (capped by `maxPermits`). */
  constructor(maxPermits: number, perClient: number = maxPermits) {
    this.#semaphore = new Semaphore(maxPermits)
    this.#perClient = Math.min(perClient, maxPermits)
  }

  get inUse(): number {
    return this.#semaphore.inUse
  }

  /** Grants a permit to `owner` for `client` if one is free to it, now or never (see requestSoon). */
  request(owner: string, client?: string): PermitDecision {
    const held = client === undefined ? 0 : (this.#byClient.get(client) ?? 0)
    if (held >= this.#perClient) return DENIED
    if (!this.#semaphore.tryAcquire(owner)) return DENIED
    const permitId = `${owner}:${++this.#sequence}`
    this.#holders.set(permitId, { owner, client })
    if (client !== undefined) this.#byClient.set(client, held + 1)
    return { granted: true, permitId }
  }

  /**
   * As request(), but a request that finds no permit free waits up to `waitMs` for a release
   * before it is denied; `answer` is called once, at once when it can be.
   */
  requestSoon(
    owner: string,
    client: string | undefined,
    answer: (decision: PermitDecision) => void,
    waitMs: number,
  ): void {
    const decision = this.request(owner, client)
    if (decision.granted || waitMs <= 0 || this.#waiting.length >= MAX_WAITING) {
      answer(decision)
      return
    }
    const timer = setTimeout(() => {
      const index = this.#waiting.indexOf(waiter)
      if (index >= 0) this.#waiting.splice(index, 1)
      answer(DENIED)
    }, waitMs)
    const waiter: Waiter = { owner, client, answer, timer }
    this.#waiting.push(waiter)
  }

  /** A permit came back: the waiting requests, oldest first, take what they may. */
  #serveWaiting(): void {
    for (let index = 0; index < this.#waiting.length; ) {
      const waiter = this.#waiting[index] as Waiter
      const decision = this.request(waiter.owner, waiter.client)
      if (!decision.granted) {
        index++
        continue
      }
      clearTimeout(waiter.timer)
      this.#waiting.splice(index, 1)
      waiter.answer(decision)
    }
  }

  /** Gives back one permit; unknown or foreign ids (a late message from a replaced worker) are ignored. */
  release(owner: string, permitId: string): void {
    const holder = this.#holders.get(permitId)
    if (holder === undefined || holder.owner !== owner) return
    this.#forget(permitId, holder)
    this.#semaphore.release(owner)
    this.#serveWaiting()
  }

  /** Gives back every permit `owner` holds; returns how many. */
  releaseAll(owner: string): number {
    for (const [permitId, holder] of this.#holders) if (holder.owner === owner) this.#forget(permitId, holder)
    const released = this.#semaphore.releaseAll(owner)
    this.#serveWaiting()
    return released
  }

  #forget(permitId: string, holder: Holder): void {
    this.#holders.delete(permitId)
    if (holder.client === undefined) return
    const left = (this.#byClient.get(holder.client) ?? 1) - 1
    if (left === 0) this.#byClient.delete(holder.client)
    else this.#byClient.set(holder.client, left)
  }

  /** Answers one worker's permit requests and releases on its channel, as `owner`. */
  serve(channel: Channel<WorkerMessage, SupervisorMessage>, owner: string): void {
    channel.on('permit-request', (message) => {
      const { requestId } = message
      this.requestSoon(
        owner,
        message.client,
        (decision) => {
          if (decision.granted) channel.send({ type: 'permit-grant', v: 1, requestId, permitId: decision.permitId })
          else channel.send({ type: 'permit-deny', v: 1, requestId, retryAfterSeconds: decision.retryAfterSeconds })
        },
        RELEASE_IN_FLIGHT_MS,
      )
    })
    channel.on('permit-release', (message) => this.release(owner, message.permitId))
  }
}
