import { Mutex as AsyncMutex } from 'async-mutex'

/**
 * An in-process mutual-exclusion lock for async critical sections, FIFO, on top of async-mutex.
 * @example
 * const mutex = new Mutex()
 * await mutex.runExclusive(async () => { await rewriteIndex() })
 */
export class Mutex {
  readonly #mutex = new AsyncMutex()

  /** Runs `fn` alone and always releases, also when `fn` throws or rejects. */
  runExclusive<T>(fn: () => T | Promise<T>): Promise<T> {
    return this.#mutex.runExclusive(fn)
  }

  /** Waits for the lock; the returned function releases it (calling it twice is harmless). */
  acquire(): Promise<() => void> {
    return this.#mutex.acquire()
  }

  isLocked(): boolean {
    return this.#mutex.isLocked()
  }
}
