// IPv4 and IPv6 addresses and ports in the text form of PROXY protocol v1 (HAProxy's
// proxy-protocol.txt §2.1), read from bytes, and IPv6 addresses written back in the one spelling
// Node uses for socket addresses. Nothing here allocates but the strings it returns.
import { COLON, DIGIT_0 } from './bytes.js'

const DOT = 0x2e
const HEX_VALUE = new Int8Array(256).fill(-1)
for (let c = 0; c < 10; c++) HEX_VALUE[DIGIT_0 + c] = c
for (let c = 0; c < 6; c++) HEX_VALUE[0x41 + c] = HEX_VALUE[0x61 + c] = 10 + c
const DECIMAL: readonly string[] = Array.from({ length: 256 }, (_, n) => String(n))

/** §2.1: a port is 0-65535 in decimal without leading zeroes. The port, or -1. */
export function parsePort(buf: Uint8Array, start: number, end: number): number {
  const digits = end - start
  if (digits < 1 || digits > 5 || (digits > 1 && buf[start] === DIGIT_0)) return -1
  let n = 0
  for (let i = start; i < end; i++) {
    const d = (buf[i] as number) - DIGIT_0
    if (d < 0 || d > 9) return -1
    n = n * 10 + d
  }
  return n <= 0xffff ? n : -1
}

/**
 * §2.1: exactly four decimal numbers 0-255 joined by single dots, no leading zeroes (some parsers
 * would read them as octal). The address as an unsigned 32-bit number, or -1.
 */
export function parseIpv4(buf: Uint8Array, start: number, end: number): number {
  let value = 0
  let i = start
  for (let octets = 1; ; octets++) {
    const octetStart = i
    let octet = 0
    while (i < end && i - octetStart < 3) {
      const d = (buf[i] as number) - DIGIT_0
      if (d < 0 || d > 9) break
      octet = octet * 10 + d
      i++
    }
    const digits = i - octetStart
    if (digits === 0 || octet > 255 || (digits > 1 && buf[octetStart] === DIGIT_0)) return -1
    value = value * 256 + octet
    if (octets === 4) return i === end ? value : -1
    if (i === end || buf[i] !== DOT) return -1
    i++
  }
}

/**
 * §2.1: groups of up to 4 hex digits (either case) joined by colons, one `::` standing for one or
 * more zero groups, 128 bits in all. The last 32 bits may be a dotted quad (RFC 4291 §2.2 form 3),
 * as inet_ntop writes an IPv4-mapped address. Fills `groups`; false if the text is not an address.
 */
export function parseIpv6(buf: Uint8Array, start: number, end: number, groups: Uint16Array): boolean {
  let count = 0
  let gap = -1
  let i = start
  if (i < end && buf[i] === COLON) {
    if (i + 1 === end || buf[i + 1] !== COLON) return false
    gap = 0
    i += 2
    if (i === end) return closeGap(groups, 0, 0)
  }
  for (;;) {
    const groupStart = i
    let group = 0
    while (i < end && i - groupStart < 4) {
      const h = HEX_VALUE[buf[i] as number] as number
      if (h === -1) break
      group = group * 16 + h
      i++
    }
    if (i === groupStart) return false
    if (i < end && buf[i] === DOT) {
      if (count > 6) return false
      const v4 = parseIpv4(buf, groupStart, end)
      if (v4 === -1) return false
      groups[count++] = v4 >>> 16
      groups[count++] = v4 & 0xffff
      break
    }
    if (count === 8) return false
    groups[count++] = group
    if (i === end) break
    if (buf[i] !== COLON) return false
    i++
    if (i < end && buf[i] === COLON) {
      if (gap !== -1) return false
      gap = count
      i++
      if (i === end) break
    } else if (i === end) return false
  }
  return gap === -1 ? count === 8 : count < 8 && closeGap(groups, gap, count)
}

/** Moves the `count - gap` groups after a `::` to the end and zero-fills the groups it stands for. */
function closeGap(groups: Uint16Array, gap: number, count: number): true {
  const missing = 8 - count
  for (let k = count - 1; k >= gap; k--) groups[k + missing] = groups[k] as number
  groups.fill(0, gap, gap + missing)
  return true
}

/** The eight 16-bit groups of a binary IPv6 address (network order) at `at`. */
export function readIpv6(buf: Uint8Array, at: number, groups: Uint16Array): void {
  for (let k = 0; k < 8; k++) groups[k] = ((buf[at + 2 * k] as number) << 8) | (buf[at + 2 * k + 1] as number)
}

/**
 * RFC 5952 §4: lowercase, no leading zeroes, the longest run of two or more zero groups (the first
 * on a tie) as `::`. As libuv's inet_ntop (and so Node's `remoteAddress`) does, an address whose
 * first 80 bits are zero ends in a dotted quad when the next 16 are ffff (IPv4-mapped, RFC 5952 §5)
 * or when they are zero and the last 32 are not (IPv4-compatible).
 */
export function formatIpv6(groups: Uint16Array): string {
  let bestStart = -1
  let bestLength = 0
  let runStart = -1
  for (let k = 0; k <= 8; k++) {
    if (k < 8 && groups[k] === 0) {
      if (runStart === -1) runStart = k
    } else if (runStart !== -1) {
      if (k - runStart > bestLength) {
        bestStart = runStart
        bestLength = k - runStart
      }
      runStart = -1
    }
  }
  if (bestLength < 2) bestStart = -1
  if (bestStart === 0 && (bestLength === 6 || (bestLength === 5 && groups[5] === 0xffff))) {
    const high = groups[6] as number
    const low = groups[7] as number
    const quad = `${DECIMAL[high >>> 8]}.${DECIMAL[high & 0xff]}.${DECIMAL[low >>> 8]}.${DECIMAL[low & 0xff]}`
    return bestLength === 6 ? `::${quad}` : `::ffff:${quad}`
  }
  let text = ''
  for (let k = 0; k < 8; ) {
    if (k === bestStart) {
      text += '::'
      k += bestLength
      continue
    }
    if (k > 0 && k !== bestStart + bestLength) text += ':'
    text += (groups[k] as number).toString(16)
    k++
  }
  return text
}

/** The dotted quad of a binary IPv4 address at `at`. */
export function formatIpv4(buf: Uint8Array, at: number): string {
  const a = DECIMAL[buf[at] as number]
  const b = DECIMAL[buf[at + 1] as number]
  return `${a}.${b}.${DECIMAL[buf[at + 2] as number]}.${DECIMAL[buf[at + 3] as number]}`
}
