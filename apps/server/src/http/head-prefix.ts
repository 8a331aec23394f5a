// Whether the request being read is a HEAD, told from its first bytes. The parser names the method
// only once the whole request line has arrived and is valid, but a line that is too long (414),
// has a bad or unsupported version (400, 505) or the wrong shape is answered without one, and a
// HEAD gets no body whatever the status (RFC 9110 §9.3.2). nginx too knows the method as soon as
// it has read the method token, before the rest of the line.

const HEAD_SP = Buffer.from('HEAD ', 'latin1')
const CR = 0x0d
const LF = 0x0a

/** Watches the start of each request for `HEAD `; fed until it has decided. */
export class HeadPrefix {
  /** Bytes of `HEAD ` matched so far. */
  #matched = 0
  #decided = false

  /** The next bytes of the request; a no-op once decided. */
  feed(chunk: Buffer): void {
    if (this.#decided) return
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i] as number
      // RFC 9112 §2.2: empty lines before the request line are skipped, as the parser skips them.
      if (this.#matched === 0 && (byte === CR || byte === LF)) continue
      if (byte !== HEAD_SP[this.#matched]) {
        this.#decided = true
        return
      }
      if (++this.#matched === HEAD_SP.length) {
        this.#decided = true
        return
      }
    }
  }

  /** The request began with `HEAD `. */
  get isHead(): boolean {
    return this.#matched === HEAD_SP.length
  }

  /** For the next request on the connection. */
  reset(): void {
    this.#matched = 0
    this.#decided = false
  }
}
