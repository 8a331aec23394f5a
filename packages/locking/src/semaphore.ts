import { LockError } from './errors.js'

/** setTimeout fires at once for delays past 2^31 - 1 ms; longer waits are capped (24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1

export interface SemaphoreAcquireOptions {
  /** Give up after this long with LockError('TIMEOUT'); 0 = only take a free permit. Default: wait forever. */
  readonly timeoutMs?: number
  /** Give up when aborted with LockError('ABORTED'). */
  readonly signal?: AbortSignal
}

interface Waiter {
  readonly owner: string
  readonly resolve: () => void
  readonly reject: (error: LockError) => void
  readonly signal: AbortSignal | undefined
  timer: NodeJS.Timeout | undefined
  onAbort: (() => void) | undefined
  prev: Waiter | null
  next: Waiter | null
}

/**
 * A counting semaphore that knows who holds each permit, so the permits of a dead owner can be
 * taken back (`releaseAll`). Waiters are served strictly first come, first served; a released
 * permit goes straight to the first waiter, so `tryAcquire` never jumps the queue.
 *
 * Waiting is a small intrusive FIFO here rather than async-mutex's Semaphore: async-mutex 0.5 has
 * no way to withdraw one waiter (its `withTimeout` leaves a timed-out waiter queued until a permit
 * reaches it, a limitation reported upstream), and it hands a permit over one microtask after taking it,
 * so `inUse`/`heldBy` would be wrong in between. Both break the contract tested here.
 * @example
 * const posts = new Semaphore(5)
 * if (!posts.tryAcquire(`worker-${id}`)) return deny(503)
 * try { await storeUpload() } finally { posts.release(`worker-${id}`) }
 */
export class Semaphore {
  readonly limit: number
  #inUse = 0
  #waiting = 0
  #head: Waiter | null = null
  #tail: Waiter | null = null
  readonly #held = new Map<string, number>()

  constructor(limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new LockError('INVALID_ARGUMENT', `Semaphore limit must be a positive integer, got ${limit}`)
    }
    this.limit = limit
  }

  /** Permits currently held. */
  get inUse(): number {
    return this.#inUse
  }

  /** Callers queued in `acquire`. */
  get waiting(): number {
    return this.#waiting
  }

  /** Takes a permit for `owner` if one is free and nobody waits; never waits. */
  tryAcquire(owner: string): boolean {
    if (this.#inUse >= this.limit || this.#head !== null) return false
    this.#inUse++
    this.#addHeld(owner, 1)
    return true
  }

  /** Takes a permit for `owner`, waiting in FIFO order; rejects with LockError TIMEOUT or ABORTED. */
  acquire(owner: string, options: SemaphoreAcquireOptions = {}): Promise<void> {
    const { timeoutMs, signal } = options
    if (timeoutMs !== undefined && !(timeoutMs >= 0)) {
      return Promise.reject(new LockError('INVALID_ARGUMENT', `timeoutMs must be >= 0, got ${timeoutMs}`))
    }
    if (signal?.aborted) return Promise.reject(abortedError())
    if (this.tryAcquire(owner)) return Promise.resolve()
    if (timeoutMs === 0) return Promise.reject(timeoutError(0))
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        owner,
        resolve,
        reject,
        signal,
        timer: undefined,
        onAbort: undefined,
        prev: this.#tail,
        next: null,
      }
      if (this.#tail === null) this.#head = waiter
      else this.#tail.next = waiter
      this.#tail = waiter
      this.#waiting++
      if (timeoutMs !== undefined && timeoutMs !== Number.POSITIVE_INFINITY) {
        waiter.timer = setTimeout(
          () => this.#withdraw(waiter, timeoutError(timeoutMs)),
          Math.min(timeoutMs, MAX_TIMER_MS),
        )
      }
      if (signal !== undefined) {
        waiter.onAbort = () => this.#withdraw(waiter, abortedError())
        signal.addEventListener('abort', waiter.onAbort, { once: true })
      }
    })
  }

  /** Gives back one permit of `owner`; throws LockError NOT_HELD if `owner` holds none. */
  release(owner: string): void {
    const count = this.#held.get(owner) ?? 0
    if (count === 0) throw new LockError('NOT_HELD', `${owner} holds no permit`)
    this.#addHeld(owner, -1)
    this.#handOff()
  }

  /** Gives back every permit of `owner` (a worker that died) and returns how many. */
  releaseAll(owner: string): number {
    const count = this.#held.get(owner) ?? 0
    if (count === 0) return 0
    this.#held.delete(owner)
    for (let i = 0; i < count; i++) this.#handOff()
    return count
  }

  /** Permits `owner` holds now. */
  heldBy(owner: string): number {
    return this.#held.get(owner) ?? 0
  }

  #addHeld(owner: string, delta: number): void {
    const count = (this.#held.get(owner) ?? 0) + delta
    if (count === 0) this.#held.delete(owner)
    else this.#held.set(owner, count)
  }

  // A freed permit goes to the first waiter in the same synchronous step, so the counters are
  // exact at every moment and nobody can take it in between.
  #handOff(): void {
    const waiter = this.#head
    if (waiter === null) {
      this.#inUse--
      return
    }
    this.#unlink(waiter)
    this.#addHeld(waiter.owner, 1)
    waiter.resolve()
  }

  #withdraw(waiter: Waiter, error: LockError): void {
    if (!this.#isQueued(waiter)) return
    this.#unlink(waiter)
    waiter.reject(error)
  }

  #isQueued(waiter: Waiter): boolean {
    return waiter.prev !== null || this.#head === waiter
  }

  #unlink(waiter: Waiter): void {
    if (waiter.prev === null) this.#head = waiter.next
    else waiter.prev.next = waiter.next
    if (waiter.next === null) this.#tail = waiter.prev
    else waiter.next.prev = waiter.prev
    waiter.prev = null
    waiter.next = null
    this.#waiting--
    if (waiter.timer !== undefined) clearTimeout(waiter.timer)
    if (waiter.onAbort !== undefined) waiter.signal?.removeEventListener('abort', waiter.onAbort)
  }
}

function timeoutError(timeoutMs: number): LockError {
  return new LockError('TIMEOUT', `no permit within ${timeoutMs} ms`)
}

function abortedError(): LockError {
  return new LockError('ABORTED', 'waiting for a permit was aborted')
}
