import { describe, expect, test } from 'vitest'
import {
  formatProxyHeaderV1,
  formatProxyHeaderV2,
  ParseError,
  type ProxyHeaderV1Fields,
  type ProxyHeaderV2Fields,
  type ProxyTlv,
  parseProxyHeader,
  RequestParser,
} from '../src/index.js'
import { INVALID_PROXY_HEADERS, VALID_PROXY_HEADERS } from './fixtures/proxy-headers.js'
import { errorCodeOf } from './helpers.js'
import { INCOMPLETE, proxyOutcomeOf as outcomeOf, REFUSED, REQUEST } from './proxy-helpers.js'

describe('valid headers', () => {
  test.each(VALID_PROXY_HEADERS)('$name', ({ raw, header }) => {
    expect(outcomeOf(Buffer.concat([raw, REQUEST]))).toEqual({ complete: true, length: raw.length, header })
  })

  test.each(VALID_PROXY_HEADERS)('$name: every shorter prefix is incomplete', ({ raw }) => {
    for (let cut = 0; cut < raw.length; cut++) expect(outcomeOf(raw.subarray(0, cut)), `cut ${cut}`).toEqual(INCOMPLETE)
  })

  test.each(VALID_PROXY_HEADERS)('$name: the same at an offset, whatever precedes it', ({ raw, header }) => {
    const buf = Buffer.concat([Buffer.from('junk'), raw, REQUEST])
    expect(outcomeOf(buf, 4)).toEqual({ complete: true, length: raw.length, header })
  })
})

describe('invalid headers', () => {
  test.each(INVALID_PROXY_HEADERS)('$name', ({ raw }) => {
    expect(outcomeOf(Buffer.concat([raw, REQUEST]))).toEqual(REFUSED)
  })

  test.each(INVALID_PROXY_HEADERS)('$name: incomplete before the refusing byte, refused from it', (fixture) => {
    const refusedAt = fixture.refusedAt ?? fixture.raw.length
    for (let cut = 0; cut <= fixture.raw.length; cut++) {
      expect(outcomeOf(fixture.raw.subarray(0, cut)), `cut ${cut}`).toEqual(cut < refusedAt ? INCOMPLETE : REFUSED)
    }
  })

  test('the error is a ParseError with code BAD_PROXY_HEADER and status 400', () => {
    let error: unknown
    try {
      parseProxyHeader(Buffer.from('GET / HTTP/1.0\r\n'))
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(ParseError)
    expect(error).toMatchObject({ code: 'BAD_PROXY_HEADER', status: 400 })
  })
})

test('no bytes yet is incomplete', () => {
  expect(parseProxyHeader(Buffer.alloc(0))).toEqual(INCOMPLETE)
  expect(parseProxyHeader(Buffer.from('abc'), 3)).toEqual(INCOMPLETE)
})

test('the bytes after the header are the request, for the request parser', () => {
  const buf = Buffer.from('PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET /a HTTP/1.0\r\nHost: x\r\n\r\n')
  const result = parseProxyHeader(buf)
  if (!result.complete) throw new Error('expected a complete header')
  const step = new RequestParser().push(buf.subarray(result.length))
  expect(step.head?.target).toBe('/a')
  expect(step.done).toBe(true)
})

describe('formatters', () => {
  test('v1 writes the example line of §2.1', () => {
    const fields = {
      family: 'TCP4',
      sourceAddress: '192.168.0.1',
      sourcePort: 56324,
      destinationAddress: '192.168.0.11',
      destinationPort: 443,
    } as const
    expect(formatProxyHeaderV1(fields).toString('latin1')).toBe('PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n')
  })

  test('v1 writes the short UNKNOWN form', () => {
    expect(formatProxyHeaderV1({ family: 'UNKNOWN' }).toString('latin1')).toBe('PROXY UNKNOWN\r\n')
  })

  test('v1 writes IPv6 addresses in the canonical spelling', () => {
    const fields = {
      family: 'TCP6',
      sourceAddress: '2001:DB8:0:0:0:0:0:1',
      sourcePort: 1,
      destinationAddress: '::FFFF:7F00:1',
      destinationPort: 2,
    } as const
    expect(formatProxyHeaderV1(fields).toString('latin1')).toBe('PROXY TCP6 2001:db8::1 ::ffff:127.0.0.1 1 2\r\n')
  })

  test.each(VALID_PROXY_HEADERS.filter((fixture) => fixture.tlvs !== undefined))(
    'v2 writes "$name" byte for byte',
    ({ raw, header, tlvs }) => {
      expect(formatProxyHeaderV2(header, tlvs)).toEqual(raw)
    },
  )

  const tcp4 = {
    family: 'TCP4',
    sourceAddress: '10.0.0.1',
    sourcePort: 1,
    destinationAddress: '10.0.0.2',
    destinationPort: 2,
  }
  const tcp6 = { ...tcp4, family: 'TCP6', sourceAddress: '::1', destinationAddress: '::2' }
  const unix = { family: 'UNIX', sourceAddress: '', destinationAddress: '/run/a.sock' }
  test.each([
    { name: 'v1: an IPv6 address under TCP4', v1: { ...tcp4, sourceAddress: '::1' } },
    { name: 'v1: an IPv4 address under TCP6', v1: { ...tcp6, destinationAddress: '10.0.0.2' } },
    { name: 'v1: a leading zero', v1: { ...tcp4, sourceAddress: '10.0.0.01' } },
    { name: 'v1: a fullwidth digit', v1: { ...tcp4, sourceAddress: '１0.0.0.1' } },
    { name: 'v1: port 65536', v1: { ...tcp4, sourcePort: 65536 } },
    { name: 'v1: port -1', v1: { ...tcp4, destinationPort: -1 } },
    { name: 'v1: a fractional port', v1: { ...tcp4, sourcePort: 1.5 } },
    { name: 'v1: a UNIX socket, which v1 cannot express', v1: unix },
    { name: 'v1: an undefined family', v1: { ...tcp4, family: 'TCP' } },
    { name: 'v2: an IPv4 address under TCP6', v2: { ...tcp6, sourceAddress: '10.0.0.1' } },
    { name: 'v2: a zone index', v2: { ...tcp6, sourceAddress: 'fe80::1%eth0' } },
    { name: 'v2: port 65536', v2: { ...tcp6, destinationPort: 65536 } },
    { name: 'v2: LOCAL with addresses', v2: { ...tcp4, command: 'LOCAL' } },
    { name: 'v2: an undefined command', v2: { command: 'RELAY', family: 'UNKNOWN' } },
    { name: 'v2: a UNIX path over 108 bytes', v2: { ...unix, destinationAddress: `/${'a'.repeat(108)}` } },
    { name: 'v2: a NUL inside a UNIX path', v2: { ...unix, destinationAddress: '/run/a\0b' } },
    { name: 'v2: an abstract UNIX name that is empty', v2: { ...unix, destinationAddress: '\0' } },
    { name: 'v2: a TLV type of 256', v2: tcp4, tlvs: [{ type: 256, value: new Uint8Array(0) }] },
    { name: 'v2: a header over the cap', v2: tcp4, tlvs: [{ type: 0xe0, value: new Uint8Array(4082) }] },
  ] as { name: string; v1?: unknown; v2?: unknown; tlvs?: ProxyTlv[] }[])('$name is refused', (row) => {
    const write = () =>
      row.v1 !== undefined
        ? formatProxyHeaderV1(row.v1 as ProxyHeaderV1Fields)
        : formatProxyHeaderV2(row.v2 as ProxyHeaderV2Fields, row.tlvs)
    expect(errorCodeOf(write)).toBe('BAD_PROXY_HEADER')
  })
})

// Generators for the properties. IPv6 groups lean towards 0 and ffff, so that `::`, its ties and
// the IPv4-mapped form all come up.
