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
