import { expect, test } from 'vitest'
import { needsCredentials, routeRequest } from '../src/http/router.js'

test.each([
  { method: 'GET', path: '/', kind: 'file' },
  { method: 'HEAD', path: '/a/b.txt', kind: 'file' },
  { method: 'GET', path: '/upload', kind: 'upload-page' },
  { method: 'HEAD', path: '/upload', kind: 'upload-page' },
  { method: 'POST', path: '/upload', kind: 'upload' },
  { method: 'POST', path: '/elsewhere', kind: 'method-not-allowed', allow: 'GET, HEAD' },
  { method: 'POST', path: '/upload/', kind: 'method-not-allowed', allow: 'GET, HEAD' },
])('$method $path goes to $kind', ({ method, path, kind, allow }) => {
  const route = routeRequest(method, path)
  expect(route.kind).toBe(kind)
  if (allow !== undefined) expect(route).toEqual({ kind, allow })
})

test('a 405 on the upload route allows POST too', () => {
  expect(routeRequest('PUT', '/upload')).toEqual({ kind: 'method-not-allowed', allow: 'GET, HEAD, POST' })
})

test.each([
  { method: 'POST', path: '/upload', authAll: false, needs: true },
  { method: 'GET', path: '/upload', authAll: false, needs: true },
  { method: 'HEAD', path: '/upload', authAll: false, needs: true },
  { method: 'GET', path: '/file.txt', authAll: false, needs: false },
  { method: 'GET', path: '/file.txt', authAll: true, needs: true },
  { method: 'HEAD', path: '/', authAll: true, needs: true },
  { method: 'POST', path: '/elsewhere', authAll: false, needs: true },
])(
  'with --upload-auth, $method $path (auth-all $authAll) needs credentials: $needs',
  ({ method, path, authAll, needs }) => {
    expect(needsCredentials(method, path, { authEnabled: true, authAll })).toBe(needs)
  },
)

test('without --upload-auth nothing needs credentials', () => {
  for (const method of ['GET', 'HEAD', 'POST']) {
    expect(needsCredentials(method, '/upload', { authEnabled: false, authAll: true })).toBe(false)
  }
})

test('OPTIONS is a preflight only with --cors', () => {
  expect(routeRequest('OPTIONS', '/a.txt', true)).toEqual({ kind: 'preflight' })
  expect(routeRequest('OPTIONS', '/a.txt', false)).toEqual({ kind: 'method-not-allowed', allow: 'GET, HEAD' })
})
