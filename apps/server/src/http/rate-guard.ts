// A minimum transfer rate (--min-rate, averaged over --rate-window): a client that sends its
// body, or reads our response, slower than that is cut off, so that a crowd of trickling clients
// cannot hold what others need (upload permits, descriptors, memory). The first window is the
// grace period: the check runs at the end of each window, on the bytes moved during it.

function onWindowEnd(guard: RateGuard): void {
  guard.check()
}

export class RateGuard {
  #timer: NodeJS.Timeout | null = null
  #minBytesPerWindow = 0
  #lastCount = 0
  #count: (() => number) | null = null
  #onTooSlow: (() => void) | null = null

  /** Starts watching: `count` says how many bytes have moved so far. A rate of 0 watches nothing. */
  start(minBytesPerSecond: number, windowMs: number, count: () => number, onTooSlow: () => void): void {
    this.stop()
    if (minBytesPerSecond <= 0) return
    this.#minBytesPerWindow = (minBytesPerSecond * windowMs) / 1000
    this.#count = count
    this.#onTooSlow = onTooSlow
    this.#lastCount = count()
    this.#timer = setInterval(onWindowEnd, windowMs, this)
  }

  get watching(): boolean {
    return this.#timer !== null
  }

  /** A window ended: cut the client off if it moved too few bytes in it. */
  check(): void {
    const count = this.#count?.() ?? 0
    const moved = count - this.#lastCount
    this.#lastCount = count
    if (moved >= this.#minBytesPerWindow) return
    const onTooSlow = this.#onTooSlow
    this.stop()
    onTooSlow?.()
  }

  /** Done (the transfer finished or the connection closed). */
  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
    this.#count = null
    this.#onTooSlow = null
  }
}
