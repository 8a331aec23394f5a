// The sending side of the PROXY protocol (HAProxy's proxy-protocol.txt, whose section numbers are
// cited below): what a load balancer writes, for tests and load generators.
import { formatIpv6, parseIpv4, parseIpv6 } from './ip-address.js'
import {
  fail,
  MAX_PROXY_HEADER_BYTES,
  UNIX_PATH_BYTES,
  V2_ADDRESS_BYTES,
  V2_FIXED_BYTES,
  V2_LOCAL,
  V2_PROXY,
  V2_SIGNATURE,
  V2_TCP4,
  V2_TCP6,
  V2_UNIX_STREAM,
  V2_UNSPEC,
} from './proxy-header.js'

/** What `formatProxyHeaderV1` writes; a parsed `TcpProxyHeader` or `UnknownProxyHeader` fits as is. */
export type ProxyHeaderV1Fields =
  | {
      readonly family: 'TCP4' | 'TCP6'
      readonly sourceAddress: string
      readonly sourcePort: number
      readonly destinationAddress: string
      readonly destinationPort: number
    }
  | { readonly family: 'UNKNOWN' }

/** What `formatProxyHeaderV2` writes (`command` defaults to 'PROXY'); any parsed `ProxyHeader` fits as is. */
export type ProxyHeaderV2Fields =
  | {
      readonly command?: 'PROXY'
      readonly family: 'TCP4' | 'TCP6'
      readonly sourceAddress: string
      readonly sourcePort: number
      readonly destinationAddress: string
      readonly destinationPort: number
    }
  | {
      readonly command?: 'PROXY'
      readonly family: 'UNIX'
      readonly sourceAddress: string
      readonly destinationAddress: string
    }
  | { readonly command?: 'PROXY' | 'LOCAL'; readonly family: 'UNKNOWN' }

/** A v2 type-length-value vector (§2.2): `type` 0-255, `value` at most 65535 bytes. */
export interface ProxyTlv {
  readonly type: number
  readonly value: Uint8Array
}

/** The groups of the IPv6 address read last: one array for the module, none per header. */
const GROUPS = new Uint16Array(8)

/**
 * The v1 text line for a TCP connection (or `PROXY UNKNOWN`), as a load balancer sends it.
 * Throws ParseError BAD_PROXY_HEADER for what `parseProxyHeader` would reject: an address not of
 * its family, a port outside 0-65535, or a family v1 cannot express.
 * @example
 * socket.write(formatProxyHeaderV1({ family: 'TCP4', sourceAddress: '192.168.0.1', sourcePort: 56324, destinationAddress: '192.168.0.11', destinationPort: 443 }))
 */
export function formatProxyHeaderV1(fields: ProxyHeaderV1Fields): Buffer {
  if (fields.family === 'UNKNOWN') return Buffer.from('PROXY UNKNOWN\r\n', 'latin1')
  if (fields.family !== 'TCP4' && fields.family !== 'TCP6') return fail()
  const isV4 = fields.family === 'TCP4'
  const source = addressText(fields.sourceAddress, isV4)
  const destination = addressText(fields.destinationAddress, isV4)
  const ports = `${portOf(fields.sourcePort)} ${portOf(fields.destinationPort)}`
  return Buffer.from(`PROXY ${fields.family} ${source} ${destination} ${ports}\r\n`, 'latin1')
}

/**
 * The v2 binary header, as a load balancer sends it, with `tlvs` after the addresses. Throws
 * ParseError BAD_PROXY_HEADER for what `parseProxyHeader` would reject, including a header longer
 * than `MAX_PROXY_HEADER_BYTES`.
 * @example
 * socket.write(formatProxyHeaderV2({ family: 'TCP6', sourceAddress: '2001:db8::1', sourcePort: 56324, destinationAddress: '2001:db8::2', destinationPort: 443 }))
 */
export function formatProxyHeaderV2(fields: ProxyHeaderV2Fields, tlvs: readonly ProxyTlv[] = []): Buffer {
  const command = fields.command ?? 'PROXY'
  if (command !== 'PROXY' && command !== 'LOCAL') return fail()
  if (command === 'LOCAL' && fields.family !== 'UNKNOWN') return fail()
  const familyByte = v2FamilyByte(fields.family)
  const addressBytes = V2_ADDRESS_BYTES[familyByte] as number
  let length = V2_FIXED_BYTES + addressBytes
  for (const tlv of tlvs) {
    if (!Number.isInteger(tlv.type) || tlv.type < 0 || tlv.type > 0xff || tlv.value.length > 0xffff) return fail()
    length += 3 + tlv.value.length
  }
  if (length > MAX_PROXY_HEADER_BYTES) return fail()
  const out = Buffer.alloc(length)
  out.set(V2_SIGNATURE, 0)
  out[12] = command === 'LOCAL' ? V2_LOCAL : V2_PROXY
  out[13] = familyByte
  out.writeUInt16BE(length - V2_FIXED_BYTES, 14)
  const at = V2_FIXED_BYTES
  if (fields.family === 'TCP4') {
    out.writeUInt32BE(ipv4Of(fields.sourceAddress), at)
    out.writeUInt32BE(ipv4Of(fields.destinationAddress), at + 4)
    out.writeUInt16BE(portOf(fields.sourcePort), at + 8)
    out.writeUInt16BE(portOf(fields.destinationPort), at + 10)
  } else if (fields.family === 'TCP6') {
    writeGroups(out, at, fields.sourceAddress)
    writeGroups(out, at + 16, fields.destinationAddress)
    out.writeUInt16BE(portOf(fields.sourcePort), at + 32)
    out.writeUInt16BE(portOf(fields.destinationPort), at + 34)
  } else if (fields.family === 'UNIX') {
    writeUnixPath(out, at, fields.sourceAddress)
    writeUnixPath(out, at + UNIX_PATH_BYTES, fields.destinationAddress)
  }
  let i = at + addressBytes
  for (const tlv of tlvs) {
    out[i] = tlv.type
    out.writeUInt16BE(tlv.value.length, i + 1)
    out.set(tlv.value, i + 3)
    i += 3 + tlv.value.length
  }
  return out
}

function v2FamilyByte(family: ProxyHeaderV2Fields['family']): number {
  switch (family) {
    case 'TCP4':
      return V2_TCP4
    case 'TCP6':
      return V2_TCP6
    case 'UNIX':
      return V2_UNIX_STREAM
    case 'UNKNOWN':
      return V2_UNSPEC
    default:
      return fail()
  }
}

// Text is read through the receiver's own byte parsers, so that nothing is written that it would
// refuse. UTF-8 keeps a non-ASCII character non-ASCII: it cannot pass for a digit or a colon.
function addressText(text: string, isV4: boolean): string {
  if (isV4) {
    ipv4Of(text)
    return String(text)
  }
  const bytes = Buffer.from(String(text), 'utf8')
  return parseIpv6(bytes, 0, bytes.length, GROUPS) ? formatIpv6(GROUPS) : fail()
}

function ipv4Of(text: string): number {
  const bytes = Buffer.from(String(text), 'utf8')
  const value = parseIpv4(bytes, 0, bytes.length)
  return value === -1 ? fail() : value
}

function writeGroups(out: Buffer, at: number, text: string): void {
  const bytes = Buffer.from(String(text), 'utf8')
  if (!parseIpv6(bytes, 0, bytes.length, GROUPS)) fail()
  for (let k = 0; k < 8; k++) out.writeUInt16BE(GROUPS[k] as number, at + 2 * k)
}

function writeUnixPath(out: Buffer, at: number, path: string): void {
  const bytes = Buffer.from(String(path), 'utf8')
  // What the receiver reads back the same: no NUL inside the name, and at most the 108 bytes of sun_path.
  const nameStart = bytes[0] === 0 ? 1 : 0
  if (bytes.length > UNIX_PATH_BYTES || bytes.indexOf(0, nameStart) !== -1 || (nameStart === 1 && bytes.length === 1)) {
    fail()
  }
  out.set(bytes, at)
}

function portOf(port: number): number {
  return Number.isInteger(port) && port >= 0 && port <= 0xffff ? port : fail()
}
