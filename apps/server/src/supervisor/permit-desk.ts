import type { Channel, SupervisorMessage, WorkerMessage } from '@threadserve/ipc-protocol'
import { Semaphore } from '@threadserve/locking'

// The server-wide limit on uploads in progress (--max-posts, 503 above it). Only the
// supervisor holds it, so the limit is exact across workers; each permit is recorded against the
// worker that holds it, and a worker that dies gives all of its permits back.

export const RETRY_AFTER_SECONDS = 1

export type PermitDecision = { granted: true; permitId: string } | { granted: false; retryAfterSeconds: number }

export class PermitDesk {
  readonly #semaphore: Semaphore
  readonly #ownerOf = new Map<string, string>()
  #sequence = 0

  constructor(maxPermits: number) {
    this.#semaphore = new Semaphore(maxPermits)
  }

  get inUse(): number {
    return this.#semaphore.inUse
  }

  /** Grants a permit to `owner` if one is free; never waits (the client gets 503 instead). */
  request(owner: string): PermitDecision {
    if (!this.#semaphore.tryAcquire(owner)) return { granted: false, retryAfterSeconds: RETRY_AFTER_SECONDS }
    const permitId = `${owner}:${++this.#sequence}`
    this.#ownerOf.set(permitId, owner)
    return { granted: true, permitId }
  }

  /** Gives back one permit; unknown or foreign ids (a late message from a replaced worker) are ignored. */
  release(owner: string, permitId: string): void {
    if (this.#ownerOf.get(permitId) !== owner) return
    this.#ownerOf.delete(permitId)
    this.#semaphore.release(owner)
  }

  /** Gives back every permit `owner` holds; returns how many. */
  releaseAll(owner: string): number {
    for (const [permitId, holder] of this.#ownerOf) if (holder === owner) this.#ownerOf.delete(permitId)
    return this.#semaphore.releaseAll(owner)
  }

  /** Answers one worker's permit requests and releases on its channel, as `owner`. */
  serve(channel: Channel<WorkerMessage, SupervisorMessage>, owner: string): void {
    channel.on('permit-request', (message) => {
      const decision = this.request(owner)
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
