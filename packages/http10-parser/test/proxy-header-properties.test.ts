import { isIPv4, isIPv6 } from 'node:net'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import {
  formatProxyHeaderV1,
  formatProxyHeaderV2,
  MAX_PROXY_HEADER_BYTES,
  type ProxyHeader,
  type ProxyHeaderV1Fields,
  type ProxyHeaderV2Fields,
} from '../src/index.js'
import { SIGNATURE, V2_PROXY } from './fixtures/proxy-headers.js'
import { INCOMPLETE, nodeSpelling, proxyOutcomeOf as outcomeOf, REFUSED, REQUEST } from './proxy-helpers.js'

// Properties of the PROXY header parser and formatters over generated headers and bytes
// (proxy-header.test.ts has the spec's examples and the tables).

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
