import { isIP } from 'node:net'
import type { RequestHead } from '@threadserve/http10-parser'

// Checks a request must pass before it is routed, on what its Host and Origin say.
// - RFC 9112 §3.2: an HTTP/1.1 request without Host, or any request with more than one, is 400
//   (as nginx answers).
// - DNS rebinding: a page on evil.example whose name is made to resolve to 127.0.0.1 can make a
//   browser send requests to a server bound to loopback, with `Host: evil.example`. A server
//   that listens on loopback only is meant for this machine, so it answers only to loopback
//   names (421 Misdirected Request otherwise, RFC 9110 §15.5.20).
// - Cross-site uploads: a page of another site can make a browser POST a form (or a simple
//   fetch) to /upload without asking. Browsers say where a request comes from (Origin,
//   Sec-Fetch-Site); one that comes from another site is refused unless allowed.

/** True when `host` (a --host value) is a loopback name or address: the server is for this machine only. */
export function isLoopbackBinding(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
  return isLoopbackName(bare)
}

function isLoopbackName(name: string): boolean {
  const lower = name.toLowerCase()
  if (lower === 'localhost' || lower.endsWith('.localhost')) return true
  const family = isIP(lower)
  if (family === 4) return lower.startsWith('127.')
  if (family === 6) return lower === '::1' || lower === '0:0:0:0:0:0:0:1'
  return false
}

/** The host part of a Host value (`name`, `name:port`, `[v6]:port`), lower-cased. */
function hostPart(value: string): string {
  const trimmed = value.trim().toLowerCase()
  if (trimmed.startsWith('[')) {
    const close = trimmed.indexOf(']')
    return close === -1 ? trimmed : trimmed.slice(1, close)
  }
  const colon = trimmed.lastIndexOf(':')
  return colon === -1 ? trimmed : trimmed.slice(0, colon)
}

/** What is wrong with the request's Host, as a status and a short reason; null when nothing is. */
export function checkHost(head: RequestHead, loopbackOnly: boolean): { status: 400 | 421; reason: string } | null {
  // One pass over the fields: how many Host fields, and the first one's value.
  let count = 0
  let host = ''
  for (const [name, value] of head.headers) {
    if (name.length !== 4 || name.toLowerCase() !== 'host') continue
    if (count++ === 0) host = value
  }
  if (count > 1) return { status: 400, reason: 'more than one Host header' }
  if (count === 0)
    return head.version === '1.1' ? { status: 400, reason: 'an HTTP/1.1 request needs a Host header' } : null
  if (loopbackOnly && !isLoopbackName(hostPart(host))) {
    return { status: 421, reason: 'this server answers only to local names' }
  }
  return null
}

/**
 * True when the browser says the request comes from a page of another site: `Sec-Fetch-Site:
 * cross-site`, or an `Origin` whose host and port are not the request's Host (`Origin: null`,
 * sent by sandboxed and file: pages, counts as another site). Clients that are not browsers send
 * neither and pass.
 */
export function isCrossSite(head: RequestHead): boolean {
  const fetchSite = head.get('sec-fetch-site')
  if (fetchSite !== undefined && fetchSite.toLowerCase() === 'cross-site') return true
  const origin = head.get('origin')
  if (origin === undefined) return false
  const scheme = origin.indexOf('://')
  if (scheme === -1) return true // 'null', or not an origin at all
  const authority = origin.slice(scheme + 3).toLowerCase()
  const host = (head.get('host') ?? '').trim().toLowerCase()
  return authority !== host && authority !== withDefaultPort(host, origin.slice(0, scheme).toLowerCase())
}

/** `host` with the scheme's default port spelled out or removed, whichever it lacks. */
function withDefaultPort(host: string, scheme: string): string {
  const port = scheme === 'https' ? ':443' : ':80'
  return host.endsWith(port) ? host.slice(0, -port.length) : `${host}${port}`
}
