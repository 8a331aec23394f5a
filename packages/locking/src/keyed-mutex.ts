import { Mutex as AsyncMutex } from 'async-mutex'

interface Entry {
  readonly mutex: AsyncMutex
  users: number // holders plus waiters; the entry goes away at 0 so keys never accumulate
}

/**
 * One mutex per key (a path, an upload name): same key runs one at a time, different keys run
 * concurrently. Keys nobody holds or waits for take no memory.
 * @example
 * const locks = new KeyedMutex()
 * await locks.withLock('/uploads/a.bin', () => writeUpload())
 */
export class KeyedMutex {
  readonly #entries = new Map<string, Entry>()

  /** Runs `fn` alone for `key` and always releases, also when `fn` throws or rejects. */
  async withLock<T>(key: string, fn: () => T | Promise<T>): Promise<T> {
    let entry = this.#entries.get(key)
    if (entry === undefined) {
      entry = { mutex: new AsyncMutex(), users: 0 }
      this.#entries.set(key, entry)
    }
    entry.users++
    try {
      return await entry.mutex.runExclusive(fn)
    } finally {
      entry.users--
      if (entry.users === 0) this.#entries.delete(key)
    }
  }

  isLocked(key: string): boolean {
    return this.#entries.get(key)?.mutex.isLocked() ?? false
  }

  /** Keys currently held or waited on. */
  get size(): number {
    return this.#entries.size
  }
}
