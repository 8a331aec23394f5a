import { RequestParser } from '@threadserve/http10-parser'
import { expect, test } from 'vitest'
import { checkHost, isCrossSite, isLoopbackBinding } from '../src/http/request-guards.js'

function head(raw: string) {
  const step = new RequestParser().push(Buffer.from(raw, 'latin1'))
  if (step.head === null) throw new Error('incomplete head')
  return step.head
}

test.each([
  ['127.0.0.1', true],
  ['127.1.2.3', true],
  ['::1', true],
  ['[::1]', true],
  ['localhost', true],
  ['app.localhost', true],
  ['0.0.0.0', false],
  ['::', false],
  ['192.168.1.10', false],
  ['example.com', false],
])('--host %s is a loopback binding: %s', (host, expected) => {
  expect(isLoopbackBinding(host)).toBe(expected)
})

test.each([
  { raw: 'GET / HTTP/1.1\r\n\r\n', loopback: false, status: 400 },
  { raw: 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', loopback: false, status: 400 },
  { raw: 'GET / HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n', loopback: false, status: 400 },
  { raw: 'GET / HTTP/1.0\r\n\r\n', loopback: true, status: null },
  { raw: 'GET / HTTP/1.1\r\nHost: evil.example\r\n\r\n', loopback: true, status: 421 },
  { raw: 'GET / HTTP/1.1\r\nHost: evil.example:8080\r\n\r\n', loopback: true, status: 421 },
  { raw: 'GET / HTTP/1.1\r\nHost: evil.example\r\n\r\n', loopback: false, status: null },
  { raw: 'GET / HTTP/1.1\r\nHost: localhost:8080\r\n\r\n', loopback: true, status: null },
  { raw: 'GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n', loopback: true, status: null },
  { raw: 'GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n', loopback: true, status: null },
  { raw: 'GET / HTTP/1.1\r\nHost: 127.0.0.1.evil.example\r\n\r\n', loopback: true, status: 421 },
])('$raw (loopback server: $loopback) -> $status', ({ raw, loopback, status }) => {
  expect(checkHost(head(raw), loopback)?.status ?? null).toBe(status)
})

test.each([
  { fields: '', cross: false },
  { fields: 'Origin: http://localhost:8080\r\n', cross: false },
  { fields: 'Origin: http://LOCALHOST:8080\r\n', cross: false },
  { fields: 'Origin: http://evil.example\r\n', cross: true },
  { fields: 'Origin: http://localhost:9999\r\n', cross: true },
  { fields: 'Origin: null\r\n', cross: true },
  { fields: 'Sec-Fetch-Site: cross-site\r\n', cross: true },
  { fields: 'Sec-Fetch-Site: same-origin\r\n', cross: false },
  { fields: 'Sec-Fetch-Site: none\r\n', cross: false },
])('a POST with $fields is cross-site: $cross', ({ fields, cross }) => {
  expect(isCrossSite(head(`POST /upload HTTP/1.1\r\nHost: localhost:8080\r\n${fields}Content-Length: 1\r\n\r\n`))).toBe(
    cross,
  )
})

test('an Origin on the default port matches a Host without one', () => {
  expect(
    isCrossSite(
      head(
        'POST /upload HTTP/1.1\r\nHost: files.example\r\nOrigin: https://files.example:443\r\nContent-Length: 1\r\n\r\n',
      ),
    ),
  ).toBe(false)
  expect(
    isCrossSite(
      head(
        'POST /upload HTTP/1.1\r\nHost: files.example:80\r\nOrigin: http://files.example\r\nContent-Length: 1\r\n\r\n',
      ),
    ),
  ).toBe(false)
})
