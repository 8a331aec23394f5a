import { SocketAddress } from 'node:net'
import { ParseError, parseProxyHeader } from '../src/index.js'

// Shared by the PROXY header tests.

/** Everything observable about one call, as plain data: the result, or the code it threw. */
export function proxyOutcomeOf(buf: Buffer, start = 0): unknown {
  try {
    return parseProxyHeader(buf, start)
  } catch (error) {
    if (!(error instanceof ParseError)) throw error
    return { code: error.code }
  }
}

/** The request that follows a header in the tests. */
export const REQUEST = Buffer.from('GET / HTTP/1.0\r\nHost: a\r\n\r\n', 'latin1')
export const INCOMPLETE = { complete: false }
export const REFUSED = { code: 'BAD_PROXY_HEADER' }

/** How Node spells an IPv6 address it reports for a socket. */
export const nodeSpelling = (address: string): string => new SocketAddress({ address, family: 'ipv6' }).address
