// The PROXY protocol (HAProxy's proxy-protocol.txt, versions 1 and 2): the header a load balancer
// writes before the first byte of the client's data, so that the server learns the client's
// address. Section numbers below are that document's.
import { strict as assert } from 'node:assert'
import { CR, LF, SP } from './bytes.js'
import { createParseError } from './errors.js'
import { formatIpv4, formatIpv6, parseIpv4, parseIpv6, parsePort, readIpv6 } from './ip-address.js'

/** A connection relayed over TCP: v1 `TCP4`/`TCP6` (§2.1), v2 protocol bytes \x11 and \x21 (§2.2). */
export interface TcpProxyHeader {
  readonly version: 1 | 2
  readonly command: 'PROXY'
  readonly family: 'TCP4' | 'TCP6'
  /**
   * The client as the proxy saw it. TCP4: a dotted quad. TCP6: lowercase, the longest run of zero
   * groups as `::` (RFC 5952 §4), IPv4-mapped as `::ffff:a.b.c.d`: spelled as Node spells
   * `socket.remoteAddress`, whichever spelling a v1 sender used.
   */
  readonly sourceAddress: string
  readonly sourcePort: number
  /** The address the client connected to: the proxy's listener. */
  readonly destinationAddress: string
  readonly destinationPort: number
}

/** A connection relayed from a UNIX stream socket: v2 protocol byte \x31 (§2.2). */
export interface UnixProxyHeader {
  readonly version: 2
  readonly command: 'PROXY'
  readonly family: 'UNIX'
  /** Socket path, UTF-8 up to the first NUL; '' for an unnamed socket; `'\0' + name` in the abstract namespace. */
  readonly sourceAddress: string
  readonly sourcePort: undefined
  readonly destinationAddress: string
  readonly destinationPort: undefined
}

/**
 * A header without addresses to use: the caller keeps the socket's own. v1 `PROXY UNKNOWN`; v2 LOCAL
 * (the proxy's own connection, such as a health check); v2 PROXY with an unspecified family or
 * transport, or a datagram transport, which a receiver of streams may treat as unspecified (§2.2).
 */
export interface UnknownProxyHeader {
  readonly version: 1 | 2
  readonly command: 'PROXY' | 'LOCAL'
  readonly family: 'UNKNOWN'
  readonly sourceAddress: undefined
  readonly sourcePort: undefined
  readonly destinationAddress: undefined
  readonly destinationPort: undefined
}

/** A parsed PROXY protocol header; `family` tells which addresses it carries. */
export type ProxyHeader = TcpProxyHeader | UnixProxyHeader | UnknownProxyHeader

/**
 * What `parseProxyHeader` found: not enough bytes yet, or a whole header of `length` bytes. The
 * bytes after `length` are the client's (the HTTP request).
 */
export type ProxyHeaderResult =
  | { readonly complete: false }
  | { readonly complete: true; readonly length: number; readonly header: ProxyHeader }

// §2.1: the longest line a receiver must take, CRLF included, is
// "PROXY UNKNOWN <39-byte IPv6> <39-byte IPv6> 65535 65535\r\n"; no CRLF within it is invalid.
const V1_MAX_BYTES = 107
/** §2.2: signature, version and command, family and transport, block length. */
export const V2_FIXED_BYTES = 16
/**
 * The longest header accepted: a v2 header with a 4 KiB address-and-TLV block. The format allows
 * 16 + 65535 bytes, but §2 designs both versions to fit in 536 bytes and the largest address block
 * is 216 bytes (UNIX), so 4 KiB leaves room for any TLVs a proxy sends (TLS details, a unique ID of
 * at most 128 bytes) while bounding what a caller buffers before the header is judged.
 */
export const MAX_PROXY_HEADER_BYTES: number = V2_FIXED_BYTES + 4096

// §2.1 and §2.2: the bytes each version starts with.
const V1_SIGNATURE: Uint8Array = Buffer.from('PROXY ', 'latin1')
export const V2_SIGNATURE: Uint8Array = Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'latin1')
const TCP4_SP: Uint8Array = Buffer.from('TCP4 ', 'latin1')
const TCP6_SP: Uint8Array = Buffer.from('TCP6 ', 'latin1')
const UNKNOWN: Uint8Array = Buffer.from('UNKNOWN', 'latin1')

// §2.2, 13th byte: version 2 in the high nibble, command LOCAL (0) or PROXY (1) in the low one.
export const V2_LOCAL = 0x20
export const V2_PROXY = 0x21
// §2.2, 14th byte: address family (UNSPEC, INET, INET6, UNIX) << 4 | transport (UNSPEC, STREAM, DGRAM).
export const V2_UNSPEC = 0x00
export const V2_TCP4 = 0x11
export const V2_TCP6 = 0x21
export const V2_UNIX_STREAM = 0x31
/** §2.2: sun_path of struct sockaddr_un. */
export const UNIX_PATH_BYTES = 108
/** Address block bytes per 14th byte; -1 where a nibble is undefined, which §2.2 says to reject. */
export const V2_ADDRESS_BYTES: Int16Array = new Int16Array(256).fill(-1)
for (let family = 0; family <= 3; family++) {
  for (let transport = 0; transport <= 2; transport++) {
    // An unspecified family or transport carries no address to read (§2.2: "ignore address information").
    const bytes = family === 0 || transport === 0 ? 0 : ([0, 12, 36, 2 * UNIX_PATH_BYTES][family] as number)
    V2_ADDRESS_BYTES[(family << 4) | transport] = bytes
  }
}

const INCOMPLETE: ProxyHeaderResult = Object.freeze({ complete: false })
/** The groups of the IPv6 address read last: one array for the module, none per header. */
const GROUPS = new Uint16Array(8)

/** Every rejection, here and in the formatters, is this one code. */
export function fail(): never {
  throw createParseError('BAD_PROXY_HEADER')
}

/**
 * Reads a PROXY protocol header (version 1 or 2) from `buf` at `start`. Returns `{ complete: false }`
 * while the bytes so far could still begin a valid header: call again with more bytes (never more
 * than `MAX_PROXY_HEADER_BYTES` are needed). Throws ParseError BAD_PROXY_HEADER as soon as they
 * cannot; the spec asks the receiver to close the connection then (§2.1).
 * @example
 * const result = parseProxyHeader(pending)
 * if (result.complete) { remote = result.header.sourceAddress ?? socket.remoteAddress; parser.push(pending.subarray(result.length)) }
 */
export function parseProxyHeader(buf: Buffer, start = 0): ProxyHeaderResult {
  assert(Number.isInteger(start) && start >= 0 && start <= buf.length, 'start is an index into buf')
  const available = buf.length - start
  if (available === 0) return INCOMPLETE
  // §2.2 tells the versions apart by their first bytes; anything else is not covered and dropped.
  const first = buf[start]
  if (first === V1_SIGNATURE[0]) return parseV1(buf, start, available)
  if (first === V2_SIGNATURE[0]) return parseV2(buf, start, available)
  return fail()
}

function parseV1(buf: Buffer, start: number, available: number): ProxyHeaderResult {
  const signatureEnd = start + Math.min(available, V1_SIGNATURE.length)
  for (let i = start + 1; i < signatureEnd; i++) if (buf[i] !== V1_SIGNATURE[i - start]) return fail()
  // §2.1: wait for the CRLF before decoding anything; none in the first 107 bytes is invalid.
  const lf = indexOfByte(buf, LF, signatureEnd, start + Math.min(available, V1_MAX_BYTES))
  if (lf === -1) return available >= V1_MAX_BYTES ? fail() : INCOMPLETE
  // §2.1: a bare LF does not end the line (and the signature's SP is no CR, so `cr` is past it).
  const cr = lf - 1
  if (buf[cr] !== CR) return fail()
  return { complete: true, length: lf + 1 - start, header: parseV1Line(buf, signatureEnd, cr) }
}

/** The line after "PROXY ", up to its CR. */
function parseV1Line(buf: Buffer, from: number, cr: number): ProxyHeader {
  let family: 'TCP4' | 'TCP6'
  if (startsWith(buf, from, cr, TCP4_SP)) family = 'TCP4'
  else if (startsWith(buf, from, cr, TCP6_SP)) family = 'TCP6'
  else if (startsWith(buf, from, cr, UNKNOWN)) {
    // §2.1: after UNKNOWN the receiver ignores anything before the CRLF; a CR there would be a
    // line end that is not CRLF.
    const after = from + UNKNOWN.length
    if (after === cr || (buf[after] === SP && indexOfByte(buf, CR, after, cr) === -1)) return unknownHeader(1, 'PROXY')
    return fail()
  } else return fail()
  // §2.1: four fields after the family, each after exactly one space.
  const sourceStart = from + TCP4_SP.length
  const sourceEnd = indexOfByte(buf, SP, sourceStart, cr)
  if (sourceEnd === -1) return fail()
  const destinationEnd = indexOfByte(buf, SP, sourceEnd + 1, cr)
  if (destinationEnd === -1) return fail()
  const sourcePortEnd = indexOfByte(buf, SP, destinationEnd + 1, cr)
  if (sourcePortEnd === -1) return fail()
  const sourcePort = parsePort(buf, destinationEnd + 1, sourcePortEnd)
  const destinationPort = parsePort(buf, sourcePortEnd + 1, cr)
  if (sourcePort === -1 || destinationPort === -1) return fail()
  let sourceAddress: string
  let destinationAddress: string
  if (family === 'TCP4') {
    if (parseIpv4(buf, sourceStart, sourceEnd) === -1 || parseIpv4(buf, sourceEnd + 1, destinationEnd) === -1) {
      return fail()
    }
    // A valid dotted quad has exactly one spelling (no leading zeroes), so the bytes are the text.
    sourceAddress = buf.toString('latin1', sourceStart, sourceEnd)
    destinationAddress = buf.toString('latin1', sourceEnd + 1, destinationEnd)
  } else {
    if (!parseIpv6(buf, sourceStart, sourceEnd, GROUPS)) return fail()
    sourceAddress = formatIpv6(GROUPS)
    if (!parseIpv6(buf, sourceEnd + 1, destinationEnd, GROUPS)) return fail()
    destinationAddress = formatIpv6(GROUPS)
  }
  return tcpHeader(1, family, sourceAddress, sourcePort, destinationAddress, destinationPort)
}

function parseV2(buf: Buffer, start: number, available: number): ProxyHeaderResult {
  const signatureEnd = start + Math.min(available, V2_SIGNATURE.length)
  for (let i = start + 1; i < signatureEnd; i++) if (buf[i] !== V2_SIGNATURE[i - start]) return fail()
  if (available <= V2_SIGNATURE.length) return INCOMPLETE
  // §2.2: the version must be 2; a command other than LOCAL or PROXY drops the connection.
  const versionCommand = buf[start + 12]
  if (versionCommand !== V2_LOCAL && versionCommand !== V2_PROXY) return fail()
  if (available === 13) return INCOMPLETE
  // §2.2: LOCAL discards the address block "including the family which is ignored".
  const isLocal = versionCommand === V2_LOCAL
  const familyByte = buf[start + 13] as number
  const addressBytes = isLocal ? 0 : (V2_ADDRESS_BYTES[familyByte] as number)
  if (addressBytes === -1) return fail()
  if (available < V2_FIXED_BYTES) return INCOMPLETE
  // §2.2: the header is always exactly 16 + len bytes; len covers the addresses and any TLVs.
  const length = V2_FIXED_BYTES + (((buf[start + 14] as number) << 8) | (buf[start + 15] as number))
  if (length > MAX_PROXY_HEADER_BYTES || length < V2_FIXED_BYTES + addressBytes) return fail()
  if (available < length) return INCOMPLETE
  const at = start + V2_FIXED_BYTES
  // TLVs follow an address block of known size (§2.2): skipped, but they must tile the rest exactly.
  if (addressBytes > 0 && !isTlvChain(buf, at + addressBytes, start + length)) return fail()
  let header: ProxyHeader
  if (isLocal) header = unknownHeader(2, 'LOCAL')
  else if (familyByte === V2_TCP4) {
    header = tcpHeader(
      2,
      'TCP4',
      formatIpv4(buf, at),
      readPort(buf, at + 8),
      formatIpv4(buf, at + 4),
      readPort(buf, at + 10),
    )
  } else if (familyByte === V2_TCP6) {
    readIpv6(buf, at, GROUPS)
    const sourceAddress = formatIpv6(GROUPS)
    readIpv6(buf, at + 16, GROUPS)
    header = tcpHeader(2, 'TCP6', sourceAddress, readPort(buf, at + 32), formatIpv6(GROUPS), readPort(buf, at + 34))
  } else if (familyByte === V2_UNIX_STREAM) {
    header = unixHeader(unixPathText(buf, at), unixPathText(buf, at + UNIX_PATH_BYTES))
  } else header = unknownHeader(2, 'PROXY') // UNSPEC, or a datagram transport (§2.2 allows falling back)
  return { complete: true, length, header }
}

/** §2.2: each TLV is a type byte, a 2-byte length in network order and that many value bytes. */
function isTlvChain(buf: Buffer, from: number, end: number): boolean {
  let i = from
  while (end - i >= 3) i += 3 + (((buf[i + 1] as number) << 8) | (buf[i + 2] as number))
  return i === end
}

function tcpHeader(
  version: 1 | 2,
  family: 'TCP4' | 'TCP6',
  sourceAddress: string,
  sourcePort: number,
  destinationAddress: string,
  destinationPort: number,
): TcpProxyHeader {
  return { version, command: 'PROXY', family, sourceAddress, sourcePort, destinationAddress, destinationPort }
}

function unixHeader(sourceAddress: string, destinationAddress: string): UnixProxyHeader {
  return {
    version: 2,
    command: 'PROXY',
    family: 'UNIX',
    sourceAddress,
    sourcePort: undefined,
    destinationAddress,
    destinationPort: undefined,
  }
}

function unknownHeader(version: 1 | 2, command: 'PROXY' | 'LOCAL'): UnknownProxyHeader {
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

function startsWith(buf: Buffer, from: number, end: number, bytes: Uint8Array): boolean {
  if (end - from < bytes.length) return false
  for (let k = 0; k < bytes.length; k++) if (buf[from + k] !== bytes[k]) return false
  return true
}

/** Index of the first `byte` in `[from, end)`, or -1. A v1 line is short: no scan into the bytes after it. */
function indexOfByte(buf: Buffer, byte: number, from: number, end: number): number {
  for (let i = from; i < end; i++) if (buf[i] === byte) return i
  return -1
}

function readPort(buf: Buffer, at: number): number {
  return ((buf[at] as number) << 8) | (buf[at + 1] as number)
}

/** unix(7): a path ends at its first NUL; a name in the abstract namespace starts with one. */
function unixPathText(buf: Buffer, at: number): string {
  const end = at + UNIX_PATH_BYTES
  const isAbstract = buf[at] === 0
  let nameEnd = isAbstract ? at + 1 : at
  while (nameEnd < end && buf[nameEnd] !== 0) nameEnd++
  if (!isAbstract) return buf.toString('utf8', at, nameEnd)
  return nameEnd === at + 1 ? '' : `\0${buf.toString('utf8', at + 1, nameEnd)}`
}
