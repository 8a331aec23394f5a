// Byte codes and lookup tables shared by the request and response parsers. Every table is built
// once at module load; the parsers index them with a byte and never branch on character ranges.

export const HT = 0x09
export const LF = 0x0a
export const CR = 0x0d
export const SP = 0x20
export const DIGIT_0 = 0x30
export const COLON = 0x3a

/** RFC 9110 §5.6.2 tchar: the bytes of a field name. */
export const TOKEN: Uint8Array = new Uint8Array(256)
for (const c of "!#$%&'*+-.^_`|~0123456789") TOKEN[c.charCodeAt(0)] = 1
for (let b = 0x41; b <= 0x5a; b++) TOKEN[b] = TOKEN[b | 0x20] = 1

/**
 * Bytes of a method we are willing to look up: uppercase letters and '-' (every name in the IANA
 * method registry, RFC 9110 §16.1, has this shape). Other tokens, lowercase ones included, are 400.
 */
export const METHOD: Uint8Array = new Uint8Array(256)
METHOD[0x2d] = 1
for (let b = 0x41; b <= 0x5a; b++) METHOD[b] = 1

/**
 * RFC 9110 §5.5 field-vchar, SP and HTAB: the bytes allowed inside a field value. obs-text
 * (0x80-0xff) is kept for compatibility; CTLs, DEL and a bare CR are not (RFC 9110 §5.5 says a
 * recipient MUST reject or replace CR, LF and NUL; we reject).
 */
export const FIELD_VALUE: Uint8Array = new Uint8Array(256)
FIELD_VALUE[HT] = 1
for (let b = 0x20; b <= 0x7e; b++) FIELD_VALUE[b] = 1
for (let b = 0x80; b <= 0xff; b++) FIELD_VALUE[b] = 1

/** Bytes of a request-target on the wire: visible ASCII and obs-text, no whitespace or controls. */
export const TARGET: Uint8Array = new Uint8Array(256)
for (let b = 0x21; b <= 0x7e; b++) TARGET[b] = 1
for (let b = 0x80; b <= 0xff; b++) TARGET[b] = 1

/** Lowercase ASCII bytes of a field name, for `equalsLowercase`. */
export function bytesOf(lowercaseName: string): Uint8Array {
  const bytes = new Uint8Array(lowercaseName.length)
  for (let i = 0; i < lowercaseName.length; i++) bytes[i] = lowercaseName.charCodeAt(i)
  return bytes
}

/**
 * Compares token bytes with a lowercase name. `| 0x20` folds case exactly here: the only token
 * bytes that fold onto a letter or '-' are the uppercase letters themselves.
 */
export function equalsLowercase(buf: Buffer, start: number, lowercase: Uint8Array): boolean {
  for (let i = 0; i < lowercase.length; i++) {
    if (((buf[start + i] as number) | 0x20) !== lowercase[i]) return false
  }
  return true
}

/** Index of the first LF in `[from, stop)`, or -1. */
export function indexOfLf(buf: Buffer, from: number, stop: number): number {
  if (from >= stop) return -1
  const at = buf.indexOf(LF, from)
  return at !== -1 && at < stop ? at : -1
}
