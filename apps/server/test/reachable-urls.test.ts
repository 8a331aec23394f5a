import type { NetworkInterfaceInfo } from 'node:os'
import { expect, test } from 'vitest'
import { reachableUrls, urlOf } from '../src/supervisor/reachable-urls.js'

// What the supervisor prints after "listening on": the interfaces' addresses for a wildcard bind.

function info(address: string, family: 'IPv4' | 'IPv6', scopeid = 0): NetworkInterfaceInfo {
  const common = { address, netmask: '', mac: '00:00:00:00:00:00', internal: address.startsWith('127.'), cidr: null }
  return family === 'IPv4' ? { ...common, family } : { ...common, family, scopeid }
}

const INTERFACES = {
  lo: [info('127.0.0.1', 'IPv4'), info('::1', 'IPv6')],
  eth0: [info('192.168.1.20', 'IPv4'), info('2001:db8::20', 'IPv6'), info('fe80::1', 'IPv6', 2)],
}

test.each([
  { name: 'one bound address is the only URL: nothing more to print', address: '127.0.0.1', urls: [] },
  {
    name: '0.0.0.0: every IPv4 address',
    address: '0.0.0.0',
    urls: ['http://127.0.0.1:8080', 'http://192.168.1.20:8080'],
  },
  {
    name: ':: every address but link-local ones',
    address: '::',
    urls: ['http://127.0.0.1:8080', 'http://[::1]:8080', 'http://192.168.1.20:8080', 'http://[2001:db8::20]:8080'],
  },
])('$name', ({ address, urls }) => {
  const family = address.includes(':') ? 'IPv6' : 'IPv4'
  expect(reachableUrls({ address, family, port: 8080 }, INTERFACES)).toEqual(urls)
})

test('an IPv6 address is bracketed in a URL', () => {
  expect(urlOf('::1', 80)).toBe('http://[::1]:80')
  expect(urlOf('10.0.0.1', 80)).toBe('http://10.0.0.1:80')
})
