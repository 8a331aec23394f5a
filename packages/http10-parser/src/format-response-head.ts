import { FIELD_VALUE, TOKEN } from './bytes.js'
import { createParseError } from './errors.js'
import { STATUS_TEXT } from './status-text.js'

/**
 * Status line, header fields and the empty line, ready to write. Throws ParseError
 * BAD_RESPONSE_HEAD for a status outside 100-599, a name that is not a token, or a value with CR,
 * LF or another CTL: a value taken from a request can never split the response.
 * @example
 * socket.write(formatResponseHead(200, [['Content-Length', 5], ['Connection', 'close']]))
 */
export function formatResponseHead(
  status: number,
  headers: ReadonlyArray<readonly [string, string | number]>,
  version: '1.0' | '1.1' = '1.0',
): string {
  if (!Number.isInteger(status) || status < 100 || status > 599) throw createParseError('BAD_RESPONSE_HEAD')
  // RFC 9112 §4: the SP before the reason phrase is required even when the phrase is empty.
  let head = `HTTP/${version} ${status} ${STATUS_TEXT[status] ?? ''}\r\n`
  for (const [name, value] of headers) {
    const text = typeof value === 'number' ? formatNumber(value) : value
    if (!isToken(name) || !isFieldValue(text)) throw createParseError('BAD_RESPONSE_HEAD')
    head += `${name}: ${text}\r\n`
  }
  return `${head}\r\n`
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) throw createParseError('BAD_RESPONSE_HEAD')
  return String(value)
}

function isToken(name: string): boolean {
  if (name.length === 0) return false
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i)
    if (c > 0xff || TOKEN[c] !== 1) return false
  }
  return true
}

function isFieldValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c > 0xff || FIELD_VALUE[c] !== 1) return false
  }
  return true
}
