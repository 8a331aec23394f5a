import type { Channel, SupervisorMessage, WorkerMessage } from '@threadserve/ipc-protocol'
import { Semaphore } from '@threadserve/locking'

// The server-wide limit on uploads in progress (--max-posts, 503 above it). Only the
// supervisor holds it, so the limit is exact across workers; each permit is recorded against the
// worker that holds it (a worker that dies gives all of its permits back) and the client address
// it serves: one address may hold at most --max-posts-per-client, so a few clients that trickle
// their bodies cannot lock every other address out.

export const RETRY_AFTER_SECONDS = 1

export type PermitDecision = { granted: true; permitId: string } | { granted: false; retryAfterSeconds: number }

interface Holder {
  readonly owner: string
  readonly client: string | undefined
}

const DENIED: PermitDecision = { granted: false, retryAfterSeconds: RETRY_AFTER_SECONDS }

export class PermitDesk {
  readonly #semaphore: Semaphore
  readonly #perClient: number
  readonly #holders = new Map<string, Holder>()
  readonly #byClient = new Map<string, number>()
  #sequence = 0

  /** `perClient`: the most one client address may hold (capped by `maxPermits`). */
  constructor(maxPermits: number, perClient: number = maxPermits) {
    this.#semaphore = new Semaphore(maxPermits)
    this.#perClient = Math.min(perClient, maxPermits)
  }

  get inUse(): number {
    return this.#semaphore.inUse
  }

  /** Grants a permit to `owner` for `client` if one is free to it; never waits (the client gets 503 instead). */
  request(owner: string, client?: string): PermitDecision {
    const held = client === undefined ? 0 : (this.#byClient.get(client) ?? 0)
    if (held >= this.#perClient) return DENIED
    if (!this.#semaphore.tryAcquire(owner)) return DENIED
    const permitId = `${owner}:${++this.#sequence}`
    this.#holders.set(permitId, { owner, client })
    if (client !== undefined) this.#byClient.set(client, held + 1)
    return { granted: true, permitId }
  }

  /** Gives back one permit; unknown or foreign ids (a late message from a replaced worker) are ignored. */
  release(owner: string, permitId: string): void {
    const holder = this.#holders.get(permitId)
    if (holder === undefined || holder.owner !== owner) return
    this.#forget(permitId, holder)
    this.#semaphore.release(owner)
  }

  /** Gives back every permit `owner` holds; returns how many. */
  releaseAll(owner: string): number {
    for (const [permitId, holder] of this.#holders) if (holder.owner === owner) this.#forget(permitId, holder)
    return this.#semaphore.releaseAll(owner)
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
      const decision = this.request(owner, message.client)
      if (decision.granted) {
        channel.send({ type: 'permit-grant', v: 1, requestId: message.requestId, permitId: decision.permitId })
      } else {
        const { retryAfterSeconds } = decision
        channel.send({ type: 'permit-deny', v: 1, requestId: message.requestId, retryAfterSeconds })
      }
    })
    channel.on('permit-release', (message) => this.release(owner, message.permitId))
  }
}
