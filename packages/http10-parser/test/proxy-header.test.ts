import { isIPv4, isIPv6, SocketAddress } from 'node:net'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import {
  formatProxyHeaderV1,
  formatProxyHeaderV2,
  MAX_PROXY_HEADER_BYTES,
  ParseError,
  type ProxyHeader,
  type ProxyHeaderV1Fields,
  type ProxyHeaderV2Fields,
  type ProxyTlv,
  parseProxyHeader,
  RequestParser,
} from '../src/index.js'
import { INVALID_PROXY_HEADERS, SIGNATURE, V2_PROXY, VALID_PROXY_HEADERS } from './fixtures/proxy-headers.js'
import { errorCodeOf } from './helpers.js'

/** Everything observable about one call, as plain data: the result, or the code it threw. */
function outcomeOf(buf: Buffer, start = 0): unknown {
  try {
    return parseProxyHeader(buf, start)
  } catch (error) {
    if (!(error instanceof ParseError)) throw error
    return { code: error.code }
  }
}

const REQUEST = Buffer.from('GET / HTTP/1.0\r\nHost: a\r\n\r\n', 'latin1')
const INCOMPLETE = { complete: false }
const REFUSED = { code: 'BAD_PROXY_HEADER' }

/** How Node spells an IPv6 address it reports for a socket. */
const nodeSpelling = (address: string): string => new SocketAddress({ address, family: 'ipv6' }).address

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
const byteArb = fc.integer({ min: 0, max: 255 })
const portArb = fc.oneof(fc.constantFrom(0, 1, 65535), fc.integer({ min: 0, max: 65535 }))
const ipv4Arb = fc.tuple(byteArb, byteArb, byteArb, byteArb).map((octets) => octets.join('.'))
const groupArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.constant(0xffff) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 0xffff }) },
)
const groupsArb = fc.array(groupArb, { minLength: 8, maxLength: 8 })

/** One of the spellings §2.1 allows for `groups`: either case, leading zeroes, a `::`, a dotted quad at the end. */
const ipv6TextArb = fc
  .tuple(groupsArb, fc.boolean(), fc.boolean(), fc.boolean(), fc.nat())
  .map(([groups, upper, padded, dotted, which]) => {
    const hex = groups.slice(0, dotted ? 6 : 8).map((g) => {
      const digits = padded ? g.toString(16).padStart(4, '0') : g.toString(16)
      return upper ? digits.toUpperCase() : digits
    })
    const tail = dotted ? [groups[6] as number, groups[7] as number].flatMap((g) => [g >> 8, g & 0xff]).join('.') : null
    // Compress one run of zero groups, if there is one; `which` picks the run.
    const runs: [number, number][] = []
    for (let i = 0; i < hex.length; i++) {
      if (groups[i] !== 0) continue
      let end = i
      while (end < hex.length && groups[end] === 0) end++
      runs.push([i, end])
      i = end
    }
    const pieces = tail === null ? hex : [...hex, tail]
    const run = runs.length > 0 ? runs[which % runs.length] : undefined
    if (run === undefined) return pieces.join(':')
    return `${pieces.slice(0, run[0]).join(':')}::${pieces.slice(run[1]).join(':')}`
  })

const v1FieldsArb: fc.Arbitrary<ProxyHeaderV1Fields> = fc.oneof(
  fc.record({
    family: fc.constant('TCP4' as const),
    sourceAddress: ipv4Arb,
    sourcePort: portArb,
    destinationAddress: ipv4Arb,
    destinationPort: portArb,
  }),
  fc.record({
    family: fc.constant('TCP6' as const),
    sourceAddress: ipv6TextArb,
    sourcePort: portArb,
    destinationAddress: ipv6TextArb,
    destinationPort: portArb,
  }),
  fc.constant({ family: 'UNKNOWN' as const }),
)

/** A UNIX path the header can carry: no NUL, at most 108 UTF-8 bytes, or an abstract name. */
const unixPathArb = fc.oneof(
  fc.constant(''),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 107 }).map((name) => `\0${name}`),
  fc.constant(`/${'x'.repeat(107)}`),
)
const v2FieldsArb: fc.Arbitrary<ProxyHeaderV2Fields> = fc.oneof(
  v1FieldsArb.filter((fields) => fields.family !== 'UNKNOWN'),
  fc.record({
    family: fc.constant('UNIX' as const),
    sourceAddress: unixPathArb.filter((path) => !path.includes('\0', 1) && Buffer.byteLength(path) <= 108),
    destinationAddress: unixPathArb.filter((path) => !path.includes('\0', 1) && Buffer.byteLength(path) <= 108),
  }),
  fc.constantFrom({ family: 'UNKNOWN' as const }, { command: 'LOCAL' as const, family: 'UNKNOWN' as const }),
)
const tlvsArb = fc.array(fc.record({ type: byteArb, value: fc.uint8Array({ maxLength: 40 }) }), { maxLength: 4 })
const formattedArb = fc.oneof(
  v1FieldsArb.map(formatProxyHeaderV1),
  fc.tuple(v2FieldsArb, tlvsArb).map(([fields, tlvs]) => formatProxyHeaderV2(fields, tlvs)),
)

/** What parsing the formatted fields must give back: IPv6 in Node's spelling, no address for UNKNOWN. */
function expectedHeader(version: 1 | 2, fields: ProxyHeaderV1Fields | ProxyHeaderV2Fields): ProxyHeader {
  const command = 'command' in fields && fields.command === 'LOCAL' ? 'LOCAL' : 'PROXY'
  if (fields.family === 'UNKNOWN') {
    return {
      version,
      command,
      family: 'UNKNOWN',
      sourceAddress: undefined,
      sourcePort: undefined,
      destinationAddress: undefined,
      destinationPort: undefined,
    }
  }
  if (fields.family === 'UNIX') {
    return { ...fields, version: 2, command: 'PROXY', sourcePort: undefined, destinationPort: undefined }
  }
  const spell = fields.family === 'TCP6' ? nodeSpelling : (address: string) => address
  return {
    version,
    command: 'PROXY',
    family: fields.family,
    sourceAddress: spell(fields.sourceAddress),
    sourcePort: fields.sourcePort,
    destinationAddress: spell(fields.destinationAddress),
    destinationPort: fields.destinationPort,
  }
}

describe('properties', () => {
  test('v1: format then parse gives the fields back, IPv6 as Node spells it', () => {
    fc.assert(
      fc.property(v1FieldsArb, (fields) => {
        const raw = formatProxyHeaderV1(fields)
        expect(raw.length).toBeLessThanOrEqual(107)
        expect(outcomeOf(Buffer.concat([raw, REQUEST]))).toEqual({
          complete: true,
          length: raw.length,
          header: expectedHeader(1, fields),
        })
      }),
    )
  })

  test('v2: format then parse gives the fields back, TLVs skipped', () => {
    fc.assert(
      fc.property(v2FieldsArb, tlvsArb, (fields, tlvs) => {
        const raw = formatProxyHeaderV2(fields, tlvs)
        expect(outcomeOf(Buffer.concat([raw, REQUEST]))).toEqual({
          complete: true,
          length: raw.length,
          header: expectedHeader(2, fields),
        })
      }),
    )
  })

  test('a prefix of a formatted header is incomplete at any cut', () => {
    fc.assert(
      fc.property(formattedArb, fc.nat(), (raw, seed) => {
        expect(outcomeOf(raw.subarray(0, seed % raw.length))).toEqual(INCOMPLETE)
      }),
    )
  })

  // Fields that are often almost addresses: valid ones with a character dropped, doubled or
  // replaced, and short strings over the characters addresses are made of.
  const addressCharArb = fc.constantFrom(...'0123456789abcdefABCDEF:.'.split(''))
  const nearAddressArb = fc.oneof(
    { weight: 3, arbitrary: ipv4Arb },
    { weight: 3, arbitrary: ipv6TextArb },
    fc.string({ unit: addressCharArb, maxLength: 16 }),
    fc
      .tuple(fc.oneof(ipv4Arb, ipv6TextArb), fc.nat(), fc.option(addressCharArb, { nil: '' }), fc.nat({ max: 1 }))
      .map(
        ([text, at, char, drop]) =>
          text.slice(0, at % (text.length + 1)) + char + text.slice((at % (text.length + 1)) + drop),
      ),
  )
  const nearPortArb = fc.oneof(
    { weight: 3, arbitrary: portArb.map(String) },
    fc.string({ unit: fc.constantFrom(...'0123456789'.split('')), maxLength: 6 }),
    fc.constantFrom('65536', '99999', '-1', '+1'),
  )
  const isPort = (text: string): boolean => /^(0|[1-9][0-9]{0,4})$/.test(text) && Number(text) <= 65535

  test('v1: a line is accepted exactly when Node accepts its addresses and the ports are plain decimals', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('TCP4' as const, 'TCP6' as const),
        nearAddressArb,
        nearAddressArb,
        nearPortArb,
        nearPortArb,
        (family, source, destination, sourcePort, destinationPort) => {
          const line = `PROXY ${family} ${source} ${destination} ${sourcePort} ${destinationPort}\r\n`
          const isAddress = family === 'TCP4' ? isIPv4 : isIPv6
          const spell = family === 'TCP4' ? (address: string) => address : nodeSpelling
          const valid =
            isAddress(source) &&
            isAddress(destination) &&
            isPort(sourcePort) &&
            isPort(destinationPort) &&
            line.length <= 107
          expect(outcomeOf(Buffer.from(line, 'latin1'))).toEqual(
            valid
              ? {
                  complete: true,
                  length: line.length,
                  header: {
                    version: 1,
                    command: 'PROXY',
                    family,
                    sourceAddress: spell(source),
                    sourcePort: Number(sourcePort),
                    destinationAddress: spell(destination),
                    destinationPort: Number(destinationPort),
                  },
                }
              : REFUSED,
          )
        },
      ),
      { numRuns: 1000 },
    )
  })

  test('v2: any 16 address bytes read as Node spells that IPv6 address', () => {
    fc.assert(
      fc.property(groupsArb, (groups) => {
        const address = groups.flatMap((g) => [g >> 8, g & 0xff])
        const raw = Buffer.from([...SIGNATURE, ...V2_PROXY, 0x21, 0, 36, ...address, ...address, 0, 1, 0, 2])
        const full = groups.map((g) => g.toString(16)).join(':')
        expect(outcomeOf(raw)).toMatchObject({ header: { sourceAddress: nodeSpelling(full) } })
      }),
    )
  })

  // Random bytes mostly fail at the first byte. Behind a signature they reach the field parsers,
  // and with the bytes §2.2 defines at each position of a v2 header some of them are valid.
  const v1Alphabet = fc.constantFrom(...'0123456789abcdefABCDEF:. \r\n'.split(''))
  const v1Arb = fc
    .tuple(
      fc.constantFrom('PROXY ', 'PROXY TCP4 ', 'PROXY TCP6 ', 'PROXY UNKNOWN'),
      fc.string({ unit: v1Alphabet, maxLength: 110, size: 'max' }),
    )
    .map(([prefix, rest]) => Buffer.from(prefix + rest, 'latin1'))
  const v2Arb = fc
    .tuple(
      fc.oneof(fc.constantFrom(0x20, 0x21), byteArb),
      fc.oneof(fc.constantFrom(0x00, 0x11, 0x12, 0x21, 0x22, 0x31, 0x32), byteArb),
      fc.oneof(fc.constantFrom(0, 12, 36, 216), fc.integer({ min: 0, max: 300 })),
      fc.uint8Array({ maxLength: 320, size: 'max' }),
    )
    .map(([versionCommand, family, length, rest]) =>
      Buffer.concat([Buffer.from([...SIGNATURE, versionCommand, family, length >> 8, length & 0xff]), rest]),
    )
  const inputArb = fc.oneof(
    fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
    v1Arb,
    v2Arb,
  )

  test('any bytes give a result or a ParseError; both stand whatever bytes follow', () => {
    fc.assert(
      fc.property(inputArb, fc.uint8Array({ maxLength: 8 }), (raw, more) => {
        const outcome = outcomeOf(raw) as { complete?: boolean; length?: number; code?: string }
        const longer = outcomeOf(Buffer.concat([raw, more]))
        if (outcome.complete === false) return
        if (outcome.code !== undefined) {
          expect(outcome).toEqual(REFUSED)
          expect(longer).toEqual(REFUSED)
          return
        }
        const length = outcome.length as number
        expect(length).toBeLessThanOrEqual(Math.min(raw.length, MAX_PROXY_HEADER_BYTES))
        expect(longer).toEqual(outcome)
        expect(outcomeOf(raw.subarray(0, length))).toEqual(outcome)
        expect(outcomeOf(raw.subarray(0, length - 1))).toEqual(INCOMPLETE)
      }),
    )
  })

  test('a valid header with one byte changed gives a result or a ParseError, and addresses that are addresses', () => {
    fc.assert(
      fc.property(formattedArb, fc.nat(), byteArb, (formatted, seed, byte) => {
        const raw = Buffer.concat([formatted, REQUEST])
        raw[seed % formatted.length] = byte
        const outcome = outcomeOf(raw) as { header?: ProxyHeader; code?: string }
        const header = outcome.header
        if (header === undefined) expect([INCOMPLETE, REFUSED]).toContainEqual(outcome)
        else if (header.family === 'TCP4') {
          expect([isIPv4(header.sourceAddress), isIPv4(header.destinationAddress)]).toEqual([true, true])
        } else if (header.family === 'TCP6') {
          expect(nodeSpelling(header.sourceAddress)).toBe(header.sourceAddress)
          expect(nodeSpelling(header.destinationAddress)).toBe(header.destinationAddress)
        }
      }),
    )
  })
})
