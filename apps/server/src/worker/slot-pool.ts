// A worker's request slots: the original server's thread pool. A request whose head is complete
// needs a slot to be served: at most `size` hold one at once, up to `queueSize` more wait in
// arrival order, and the rest are told 'full' (the caller answers 503). Reading a head holds no
// slot, so clients that are slow to send theirs cannot starve requests ready to be served.

/** What the pool needs of a request that waited: it is told when its slot comes. */
export interface SlotHolder {
  /** The queued request got its slot: serve it now. */
  slotGranted(): void
}

export type SlotClaim = 'granted' | 'queued' | 'full'

export class SlotPool<T extends SlotHolder = SlotHolder> {
  readonly #size: number
  readonly #queueSize: number
  readonly #holding = new Set<T>()
  #waiting: T[] = []

  constructor(size: number, queueSize: number) {
    this.#size = size
    this.#queueSize = queueSize
  }

  /** Requests being served. */
  get active(): number {
    return this.#holding.size
  }

  /** Requests waiting for a slot. */
  get queued(): number {
    return this.#waiting.length
  }

  /** A slot now, a place in the queue (slotGranted() comes later), or 'full'. */
  claim(holder: T): SlotClaim {
    if (this.#holding.size < this.#size) {
      this.#holding.add(holder)
      return 'granted'
    }
    if (this.#waiting.length >= this.#queueSize) return 'full'
    this.#waiting.push(holder)
    return 'queued'
  }

  /** Gives back a slot (true) or a queue place (false); a no-op (false) for a holder that has neither. */
  release(holder: T): boolean {
    if (this.#holding.delete(holder)) {
      while (this.#holding.size < this.#size && this.#waiting.length > 0) {
        const next = this.#waiting.shift() as T
        this.#holding.add(next)
        next.slotGranted()
      }
      return true
    }
    const index = this.#waiting.indexOf(holder)
    if (index !== -1) this.#waiting.splice(index, 1)
    return false
  }
}
