import type { RequestHead } from '@threadserve/http10-parser'

// Whether a client asks for its connection to stay open after this request (RFC 9112 §9.3):
// HTTP/1.1 persists unless it sends `Connection: close`; HTTP/1.0 only when it sends
// `Connection: keep-alive` (the RFC 2068 §19.7.1 extension curl, ab and browsers use); HTTP/0.9
// never (a Simple-Response has no head to say so). `Connection` is a comma-separated token list.

/** True when the request's version and Connection header ask for a persistent connection. */
export function wantsKeepAlive(head: RequestHead): boolean {
  if (head.version === '0.9') return false
  const connection = head.get('connection')
  if (head.version === '1.1') return connection === undefined || !hasToken(connection, 'close')
  return connection !== undefined && hasToken(connection, 'keep-alive')
}

/** Case-insensitive token match in a comma-separated list, ignoring optional whitespace. */
export function hasToken(list: string, token: string): boolean {
  const lower = list.toLowerCase()
  let from = 0
  while (from <= lower.length) {
    let end = lower.indexOf(',', from)
    if (end === -1) end = lower.length
    if (lower.slice(from, end).trim() === token) return true
    from = end + 1
  }
  return false
}

/**
 * Whether this request's connection may stay open: --keep-alive is on, the client asks, and the
 * connection has served fewer than --keep-alive-requests (counting this one).
 */
export function mayKeepAlive(
  head: RequestHead,
  config: { readonly keepAlive: boolean; readonly keepAliveRequests: number },
  servedBefore: number,
): boolean {
  return config.keepAlive && servedBefore + 1 < config.keepAliveRequests && wantsKeepAlive(head)
}

/**
 * Whether the connection stays open after a response with `status`: the client asked and may
 * (mayKeepAlive), the whole request was read (so the next byte starts a new one), the answer is
 * not an error that ends the exchange (timeouts, overload, server faults), and the worker is not
 * shutting down.
 */
export function persistsAfter(
  status: number,
  request: { readonly keepAlive: boolean; readonly requestDone: boolean },
  draining: boolean,
): boolean {
  return request.keepAlive && request.requestDone && status < 500 && status !== 408 && !draining
}

/**
 * Bytes of a pipelined next request that came before the current response was written: copied,
 * since what a socket reads lives in the worker's shared read buffer only during the read.
 */
export class HeldBytes {
  #bytes: Buffer | null = null

  hold(chunk: Buffer): void {
    this.#bytes = this.#bytes === null ? Buffer.from(chunk) : Buffer.concat([this.#bytes, chunk])
  }

  /** The held bytes (null if none), forgotten here. */
  take(): Buffer | null {
    const bytes = this.#bytes
    this.#bytes = null
    return bytes
  }
}
