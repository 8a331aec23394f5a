import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { exchange } from './helpers/raw-exchange.js'
import { type RunningServer, startServer } from './helpers/server-process.js'

// --cors: Access-Control-Allow-Origin on answers to GET and HEAD, the validators and ranges a
// script may read, and a CORS preflight (OPTIONS) answered 204; without the flag OPTIONS is 405.

const PREFLIGHT =
  'OPTIONS /test.txt HTTP/1.1\r\nHost: localhost\r\nOrigin: https://app.example\r\n' +
  'Access-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: range\r\n\r\n'

describe('--cors *', () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startServer({ args: ['--cors', '*'] })
  })
  afterAll(async () => {
    await server.stop()
  })

  test('a GET from any origin may be read, ETag and Content-Range included', async () => {
    const answer = await exchange(server.port, 'GET /test.txt HTTP/1.0\r\nOrigin: https://app.example\r\n\r\n')
    expect(answer.status).toBe(200)
    expect(answer.headers.get('access-control-allow-origin')).toBe('*')
    expect(answer.headers.get('access-control-expose-headers')).toContain('ETag')
    expect(answer.headers.get('access-control-expose-headers')).toContain('Content-Range')
  })

  test('a 404 says so too, so a script can tell missing from forbidden', async () => {
    const answer = await exchange(server.port, 'GET /missing HTTP/1.0\r\n\r\n')
    expect([answer.status, answer.headers.get('access-control-allow-origin')]).toEqual([404, '*'])
  })

  test('a preflight is 204 with the methods and headers allowed, no Content-Length and no body', async () => {
    const answer = await exchange(server.port, PREFLIGHT)
    expect(answer.status).toBe(204)
    expect(answer.headers.get('access-control-allow-methods')).toBe('GET, HEAD')
    expect(answer.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('range')
    expect(answer.headers.get('content-length')).toBeUndefined()
    expect(answer.body.length).toBe(0)
    expect(answer.closedBy).toBe('server')
  })
})

test('--cors with one origin names it and varies on Origin', async () => {
  const server = await startServer({ args: ['--cors', 'https://app.example'] })
  try {
    const answer = await exchange(server.port, 'GET /test.txt HTTP/1.0\r\nOrigin: https://app.example\r\n\r\n')
    expect(answer.headers.get('access-control-allow-origin')).toBe('https://app.example')
    expect(answer.headers.get('vary')).toContain('Origin')
  } finally {
    await server.stop()
  }
})

test('without --cors, no CORS header is sent and OPTIONS is 405 with Allow', async () => {
  const server = await startServer()
  try {
    const get = await exchange(server.port, 'GET /test.txt HTTP/1.0\r\nOrigin: https://app.example\r\n\r\n')
    const options = await exchange(server.port, PREFLIGHT)
    expect(get.headers.get('access-control-allow-origin')).toBeUndefined()
    expect([options.status, options.headers.get('allow')]).toEqual([405, 'GET, HEAD'])
  } finally {
    await server.stop()
  }
})

test('--cors refuses a value that is not an origin', async () => {
  const { loadConfig } = await import('../src/config/load-config.js')
  expect(() => loadConfig(['--cors', 'https://app.example/path'], {})).toThrow(/--cors/)
  expect(() => loadConfig(['--cors', 'x\r\nSet-Cookie: a=b'], {})).toThrow(/--cors/)
})
