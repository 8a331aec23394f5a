import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { exchange, openExchange, type RawExchange } from './helpers/raw-exchange.js'
import { type RunningServer, startServer, waitFor } from './helpers/server-process.js'

// --keep-alive: clients that ask keep their connection for further requests, answered in order,
// one access-log line each; everything else closes after each response, the HTTP/1.0 default
// (RFC 1945 §1.3: the server closes the connection after its response).

const BIG = randomBytes(300 * 1024) // past the small-file cache: served as a stream
const FILES = { 'test.txt': 'hello from the test root\n', 'big.bin': BIG }

/** Status and Connection field of each response on one connection, in order. */
const statusAndConnection = (result: RawExchange): [number, string | undefined][] =>
  result.responses.map((response) => [response.status, response.headers.get('connection')])

const get = (path: string, version = '1.0', extra = ''): string =>
  `GET ${path} HTTP/${version}\r\n${version === '1.0' ? 'Connection: keep-alive\r\n' : 'Host: localhost\r\n'}${extra}\r\n`

describe('without --keep-alive (the default)', () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startServer({ files: FILES })
  })
  afterAll(async () => {
    await server?.stop()
  })

  test('a client asking for keep-alive still gets Connection: close, and the next request is never read', async () => {
    const result = await exchange(server.port, get('/test.txt') + get('/test.txt', '1.1'))
    expect(statusAndConnection(result)).toEqual([[200, 'close']])
    expect(result.exact).toBe(true)
    expect(result.closedBy).toBe('server')
  })
})

describe('--keep-alive', () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startServer({
      files: FILES,
      args: ['--keep-alive', '--keep-alive-timeout', '400ms', '--keep-alive-requests', '4', '--header-timeout', '1s'],
    })
  })
  afterAll(async () => {
    await server?.stop()
  })

  test('HTTP/1.0 with Connection: keep-alive and HTTP/1.1 get several responses on one connection, in order', async () => {
    const request =
      get('/test.txt') +
      get('/big.bin', '1.1') +
      get('/missing') +
      get('/test.txt', '1.0', '').replace('Connection: keep-alive\r\n', '')
    const result = await exchange(server.port, request)
    expect(statusAndConnection(result)).toEqual([
      [200, 'keep-alive'],
      [200, 'keep-alive'],
      [404, 'keep-alive'],
      [200, 'close'], // HTTP/1.0 without the header: this one closes
    ])
    expect(result.responses[0]?.body.toString()).toBe(FILES['test.txt'])
    expect(result.responses[1]?.body.equals(BIG)).toBe(true)
    expect(result.closedBy).toBe('server')
  })

  test('requests sent one at a time, each after the previous answer, share the connection', async () => {
    const connection = openExchange(server.port)
    const statuses: (number | undefined)[] = []
    for (let i = 0; i < 3; i++) {
      await connection.write(get('/test.txt', '1.1'))
      statuses.push((await connection.response(i))?.status)
    }
    expect(connection.socket.destroyed).toBe(false)
    connection.destroy()
    expect(statuses).toEqual([200, 200, 200])
    expect((await connection.result).closedBy).toBe('client') // still open until we closed it
  })

  test('Connection: close, HTTP/0.9 and the request limit end the connection', async () => {
    const closing = await exchange(server.port, get('/test.txt', '1.1', 'Connection: close\r\n') + get('/test.txt'))
    expect(statusAndConnection(closing)).toEqual([[200, 'close']])
    expect(closing.closedBy).toBe('server')
    const simple = await exchange(server.port, 'GET /test.txt\r\n')
    expect(simple.raw.toString()).toBe(FILES['test.txt']) // HTTP/0.9: the bare body, then the close
    expect(simple.closedBy).toBe('server')
    // --keep-alive-requests 4: the fourth response closes, a fifth request is never read.
    const limited = await exchange(server.port, get('/test.txt', '1.1').repeat(5))
    expect(limited.closedBy).toBe('server')
    expect(limited.responses.map((response) => response.headers.get('connection'))).toEqual([
      'keep-alive',
      'keep-alive',
      'keep-alive',
      'close',
    ])
  })

  test('an idle connection is closed after --keep-alive-timeout, without a 408', async () => {
    const result = await exchange(server.port, get('/test.txt', '1.1'), { timeoutMs: 10_000 })
    expect(result.responses.map((response) => response.status)).toEqual([200])
    expect(result.parseError).toBeNull() // nothing after the 200: no 408
    // The server closed it (our 10 s deadline only bounds the wait), and not before the 400 ms
    // keep-alive timeout: measured from before connecting, so the elapsed time can only be longer
    // than the server's timer. A lower bound holds however slow the machine; an upper bound
    // would be a speed check.
    expect(result.closedBy).toBe('server')
    expect(result.endedAt - result.startedAt).toBeGreaterThanOrEqual(350)
  })

  test('a half-sent next request still gets its 408 under --header-timeout rules', async () => {
    const result = await exchange(server.port, `${get('/test.txt', '1.1')}GET /test.txt HT`)
    expect(statusAndConnection(result)).toEqual([
      [200, 'keep-alive'],
      [408, 'close'],
    ])
    expect(result.closedBy).toBe('server')
  })

  test('an upload, then a GET of its Location, on the same connection', async () => {
    const connection = openExchange(server.port)
    await connection.write(
      'POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nkept open',
    )
    const created = await connection.response(0)
    expect(created?.status).toBe(201)
    const location = created?.headers.get('location') as string
    await connection.write(get(location, '1.1', 'Connection: close\r\n'))
    const result = await connection.result
    expect(statusAndConnection(result)).toEqual([
      [201, 'keep-alive'],
      [200, 'close'],
    ])
    expect(result.responses[1]?.body.toString()).toBe('kept open')
    expect(result.closedBy).toBe('server')
  })

  test('a request the parser rejects closes the connection: bytes after it are never a request', async () => {
    const smuggled =
      'POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n'
    const result = await exchange(
      server.port,
      `${get('/test.txt', '1.1')}${smuggled}0\r\n\r\n${get('/test.txt', '1.1')}`,
    )
    expect(statusAndConnection(result)).toEqual([
      [200, 'keep-alive'],
      [400, 'close'],
    ])
    expect(result.closedBy).toBe('server')
  })

  test('HEAD responses keep the connection and carry no body', async () => {
    const request = `HEAD /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n${get('/test.txt', '1.1', 'Connection: close\r\n')}`
    const result = await exchange(server.port, request, { headResponses: new Set([0]) })
    expect(result.responses.map((r) => [r.status, r.headers.get('connection'), r.body.length])).toEqual([
      [200, 'keep-alive', 0],
      [200, 'close', FILES['test.txt'].length],
    ])
    expect(result.parseError).toBeNull() // not a byte after the HEAD response's head
    expect(result.closedBy).toBe('server')
  })

  test('every request on a persistent connection gets its own access-log line with its own byte count', async () => {
    const marker = `/test.txt?log=${Date.now()}`
    const result = await exchange(server.port, get(marker, '1.1') + get(marker, '1.1', 'Connection: close\r\n'))
    expect(result.responses.map((response) => response.status)).toEqual([200, 200])
    expect(result.closedBy).toBe('server')
    const lines = await waitFor(async () => {
      const found = (await readFile(server.logPath, 'utf8')).split('\n').filter((l) => l.includes(marker))
      return found.length === 2 ? found : undefined
    })
    const sizes = lines.map((l) => Number(/ 200 (\d+) /.exec(l)?.[1]))
    // Same body; the heads differ only in "keep-alive" vs "close" (5 bytes).
    expect(sizes[0]).toBe((sizes[1] as number) + 'keep-alive'.length - 'close'.length)
  })

  test('curl reuses the connection', async () => {
    const url = `${server.url}/test.txt`
    const { stderr } = await promisify(execFile)('curl', ['-sv', '-o', '/dev/null', '-o', '/dev/null', url, url])
    expect(stderr).toMatch(/Re-using existing connection|Reusing existing/i)
  })
})

test('SIGTERM closes idle persistent connections at once instead of waiting out the grace period', async () => {
  // The grace period and the keep-alive timeout are an hour: a server that waited out either
  // would not exit within this test's timeout, so an exit with code 0 shows that the idle
  // connection did not hold it, without a bound on how fast the exit came.
  const server = await startServer({ args: ['--keep-alive', '--keep-alive-timeout', '1h', '--shutdown-grace', '1h'] })
  try {
    const connection = openExchange(server.port, { timeoutMs: 60_000 })
    await connection.write(get('/test.txt', '1.1'))
    expect((await connection.response(0))?.status).toBe(200)
    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
    expect((await connection.result).closedBy).toBe('server')
    expect((await exchange(server.port, 'GET / HTTP/1.0\r\n\r\n')).error).toBe('ECONNREFUSED')
  } finally {
    await server.stop()
  }
})
