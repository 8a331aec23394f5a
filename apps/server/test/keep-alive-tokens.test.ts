import { RequestParser } from '@threadserve/http10-parser'
import { expect, test } from 'vitest'
import { hasToken, wantsKeepAlive } from '../src/http/keep-alive.js'

// Which requests ask for a persistent connection (RFC 9112 §9.3), on heads from the real parser.

function headOf(request: string) {
  const head = new RequestParser().push(Buffer.from(request, 'latin1')).head
  if (head === null) throw new Error(`incomplete request: ${request}`)
  return head
}

test.each([
  ['GET / HTTP/1.1\r\nHost: x\r\n\r\n', true],
  ['GET / HTTP/1.1\r\nConnection: close\r\n\r\n', false],
  ['GET / HTTP/1.1\r\nConnection: Upgrade, CLOSE\r\n\r\n', false],
  ['GET / HTTP/1.1\r\nConnection: closed\r\n\r\n', true],
  ['GET / HTTP/1.0\r\n\r\n', false],
  ['GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n', true],
  ['GET / HTTP/1.0\r\nConnection: TE , Keep-Alive\r\n\r\n', true],
  ['GET / HTTP/1.0\r\nConnection: keep-alive-ish\r\n\r\n', false],
  ['GET /\r\n', false],
])('%j asks for keep-alive: %s', (request, expected) => {
  expect(wantsKeepAlive(headOf(request))).toBe(expected)
})

test('hasToken matches whole tokens only, case-insensitively, ignoring spaces around commas', () => {
  expect(hasToken('a, B ,c', 'b')).toBe(true)
  expect(hasToken('ab,c', 'b')).toBe(false)
  expect(hasToken('', 'close')).toBe(false)
  expect(hasToken(',,close,', 'close')).toBe(true)
})
