import type { AddressInfo } from 'node:net'
import type { NetworkInterfaceInfo } from 'node:os'

// What the supervisor prints once it listens: the address it is bound to, and, when that is a
// wildcard (0.0.0.0, ::), the address of every interface, which is what a user can type into a
// browser. http-server and serve print the same list.

/** `http://127.0.0.1:8080`, `http://[::1]:8080`. */
export function urlOf(address: string, port: number): string {
  return `http://${address.includes(':') ? `[${address}]` : address}:${port}`
}

/**
 * The URLs a client can reach the server at, besides the bound address itself: none when bound to
 * one address; every interface's IPv4 address for 0.0.0.0; and every IPv6 one too for `::` (a
 * dual-stack socket, Linux's default, takes IPv4 as well). Link-local IPv6 addresses are left
 * out: their URL needs the interface's zone, which browsers do not accept.
 * @example reachableUrls({ address: '0.0.0.0', family: 'IPv4', port: 80 }, os.networkInterfaces())
 * // ['http://127.0.0.1:80', 'http://192.168.1.20:80']
 */
export function reachableUrls(bound: AddressInfo, interfaces: NodeJS.Dict<readonly NetworkInterfaceInfo[]>): string[] {
  const anyIPv4 = bound.address === '0.0.0.0'
  const anyIPv6 = bound.address === '::'
  if (!anyIPv4 && !anyIPv6) return []
  const urls: string[] = []
  for (const addresses of Object.values(interfaces)) {
    for (const info of addresses ?? []) {
      const isIPv6 = info.family === 'IPv6'
      if (isIPv6 && (!anyIPv6 || info.scopeid !== 0 || info.address.startsWith('fe80:'))) continue
      urls.push(urlOf(info.address, bound.port))
    }
  }
  return urls
}
