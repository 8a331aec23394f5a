// RFC 9110 §5.6.3 optional whitespace (OWS: spaces and tabs), shared by the header-value scanners
// of this folder (byte-range.ts, etag.ts).

const SPACE = 0x20
const TAB = 0x09

/** The index of the first byte at or after `at` that is not a space or a tab. */
export function skipSpaces(text: string, at: number): number {
  while (at < text.length) {
    const code = text.charCodeAt(at)
    if (code !== SPACE && code !== TAB) break
    at++
  }
  return at
}
