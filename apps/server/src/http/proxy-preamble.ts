import { strict as assert } from 'node:assert'
import { ParseError, type ProxyHeader, parseProxyHeader } from '@threadserve/http10-parser'

// --proxy-protocol: the PROXY protocol header (v1 or v2) a load balancer writes before the
// client's bytes, read before the request (proxy-protocol.txt §2: a listener either always
// expects it or never, since whoever reaches it could claim any address). The bytes are
// gathered until parseProxyHeader has answered, under a deadline the caller gives (its header
// timeout: the spec suggests waiting at least 3 seconds). A connection whose header is bad,
// late or cut short gets no HTTP answer: the spec asks for the connection to be closed, and the
// peer is a balancer, not a client that could read one. Those closes are counted.

/** What one push gave. `rest` is the start of the request: a view of the pushed chunk or of a copy. */
export type PreambleStep =
  | { readonly kind: 'incomplete' }
  | {
      readonly kind: 'complete'
      readonly header: ProxyHeader
      /** The client's address, or null to keep the socket's (LOCAL: the balancer's own check, UNKNOWN, UNIX). */
      readonly clientAddress: string | null
      readonly clientPort: number | null
      readonly rest: Buffer
    }
  | { readonly kind: 'failed' }

/** How preambles ended in this process since it started. */
export interface PreambleCounts {
  /** A whole, valid header. */
  readonly accepted: number
  /** Bytes that cannot begin a PROXY header (a plain HTTP request, a scanner, garbage). */
  readonly badHeader: number
  /** The header was not complete by the deadline. */
  readonly timedOut: number
  /** The peer closed before the header was complete. */
  readonly closedEarly: number
}

const counts = { accepted: 0, badHeader: 0, timedOut: 0, closedEarly: 0 }
const INCOMPLETE: PreambleStep = Object.freeze({ kind: 'incomplete' })
const FAILED: PreambleStep = Object.freeze({ kind: 'failed' })

/** This process's preamble counts so far (a copy). */
export function proxyPreambleCounts(): PreambleCounts {
  return { ...counts }
}

const State = { Reading: 0, Done: 1, Failed: 2 } as const
type State = (typeof State)[keyof typeof State]

function onDeadline(preamble: { expire(): void }): void {
  preamble.expire()
}

/**
 * One connection's PROXY header. `onTimeout(target)` is called once if the header is not
 * complete `timeoutMs` after construction (pass a module-level function, as for the other timers
 * of a connection); the caller then closes the connection.
 * @example
 * const preamble = new ProxyPreamble(config.headerTimeoutMs, closeConnection, connection)
 * const step = preamble.push(chunk) // in the read callback
 * if (step.kind === 'complete') { address = step.clientAddress ?? address; handleData(step.rest) }
 * else if (step.kind === 'failed') socket.destroy()
 */
export class ProxyPreamble<T> {
  readonly #onTimeout: (target: T) => void
  readonly #target: T
  #timer: NodeJS.Timeout | null
  #state: State = State.Reading
  /** Copies of the bytes so far: what is pushed may be the worker's shared read buffer. */
  #pending: Buffer | null = null

  constructor(timeoutMs: number, onTimeout: (target: T) => void, target: T) {
    this.#onTimeout = onTimeout
    this.#target = target
    this.#timer = setTimeout(onDeadline, timeoutMs, this)
  }

  /** True until the header is complete or has failed. */
  get reading(): boolean {
    return this.#state === State.Reading
  }

  /**
   * Bytes from the connection, valid only during this call. Once 'complete', later bytes are the
   * request's and must not be pushed here; the `rest` of the completing chunk is valid only as
   * long as that chunk (pass it on at once).
   */
  push(chunk: Buffer): PreambleStep {
    assert(this.#state === State.Reading, 'bytes pushed after the PROXY header was judged')
    const bytes = this.#pending === null ? chunk : Buffer.concat([this.#pending, chunk])
    let result: ReturnType<typeof parseProxyHeader>
    try {
      result = parseProxyHeader(bytes)
    } catch (error) {
      if (!(error instanceof ParseError)) throw error
      counts.badHeader++
      this.#finish(State.Failed)
      return FAILED
    }
    if (!result.complete) {
      // parseProxyHeader answers by MAX_PROXY_HEADER_BYTES (4112), so this stays small.
      this.#pending = bytes === chunk ? Buffer.from(chunk) : bytes
      return INCOMPLETE
    }
    counts.accepted++
    this.#finish(State.Done)
    const { header } = result
    const tcp = header.family === 'TCP4' || header.family === 'TCP6'
    return {
      kind: 'complete',
      header,
      clientAddress: tcp ? header.sourceAddress : null,
      clientPort: tcp ? header.sourcePort : null,
      rest: bytes.subarray(result.length),
    }
  }

  /** The connection closed: counted if the header was still incomplete. Safe to call more than once. */
  close(): void {
    if (this.#state !== State.Reading) return
    counts.closedEarly++
    this.#finish(State.Failed)
  }

  /** The deadline passed (the timer's callback; callable directly by a caller's own deadline). */
  expire(): void {
    this.#timer = null
    if (this.#state !== State.Reading) return
    counts.timedOut++
    this.#finish(State.Failed)
    this.#onTimeout(this.#target)
  }

  #finish(state: State): void {
    this.#state = state
    this.#pending = null
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
  }
}
