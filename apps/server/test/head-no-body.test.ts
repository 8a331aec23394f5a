import { chmod } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { exchange, openExchange, type RawConnection, type RawExchange } from './helpers/raw-exchange.js'
import { type RunningServer, startServer, waitFor } from './helpers/server-process.js'

// HEAD never carries a body, whatever the status (RFC 9110 §9.3.2; docs/design.md, "Protocol"): for
// every status a HEAD request can reach, the answer is a head with Content-Length and not one
// byte after it. `headResponses` makes the test client read the answer as a HEAD response, so
// a body after the head is a second, malformed "response" and `exact` is false.
// Not here: 405 and 501 (HEAD is allowed on every path and is a known method), 411 and 413 (a
// HEAD has no body to measure), and the 503 a worker at --max-connections sends before it reads
// a byte (it cannot know the method then).

const BIG = Buffer.alloc(300 * 1024, 'range me ')
const TOO_MANY_HEADERS = Array.from({ length: 101 }, (_, i) => `X-${i}: v\r\n`).join('')

let server: RunningServer
let etag: string

beforeAll(async () => {
  server = await startServer({
    args: ['--header-timeout', '1s', '--list', '--upload-auth', 'alice:s3cret'],
    files: { 'test.txt': 'hello from the test root\n', 'big.bin': BIG, 'docs/index.html': '<h1>docs</h1>\n' },
  })
  etag = (await head('/test.txt')).headers.get('etag') ?? ''
  expect(etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/)
})
afterAll(async () => {
  await server?.stop()
})

function head(target: string, fields = ''): Promise<RawExchange> {
  return exchange(server.port, `HEAD ${target} HTTP/1.0\r\n${fields}\r\n`, { headResponses: true })
}

/** The answer is one head that announces a length, and nothing follows it. */
function expectHeadOnly(answer: RawExchange, status: number): void {
  expect(answer.status).toBe(status)
  expect(answer.headers.get('content-length')).toMatch(/^\d+$/)
  expect(answer.exact).toBe(true)
  expect(answer.body.length).toBe(0)
}

describe('HEAD on the main server', () => {
  test.each([
    { name: 'a file', status: 200, raw: 'HEAD /test.txt HTTP/1.0\r\n\r\n' },
    { name: 'a directory listing', status: 200, raw: 'HEAD / HTTP/1.0\r\n\r\n' },
    { name: 'a range of a streamed file', status: 206, raw: 'HEAD /big.bin HTTP/1.0\r\nRange: bytes=10-19\r\n\r\n' },
    { name: 'a directory without its slash', status: 301, raw: 'HEAD /docs HTTP/1.0\r\n\r\n' },
    {
      name: 'a header line without a colon after a HEAD request line',
      status: 400,
      raw: 'HEAD /test.txt HTTP/1.0\r\nno colon here\r\n\r\n',
    },
    {
      name: 'a space before the colon after a HEAD request line',
      status: 400,
      raw: 'HEAD /test.txt HTTP/1.0\r\nHost : x\r\n\r\n',
    },
    { name: 'an HTTP/0.9-shaped HEAD line (only GET may be simple)', status: 400, raw: 'HEAD /test.txt\r\n' },
    { name: 'the upload page without credentials', status: 401, raw: 'HEAD /upload HTTP/1.0\r\n\r\n' },
    { name: 'a missing file', status: 404, raw: 'HEAD /missing.txt HTTP/1.0\r\n\r\n' },
    { name: 'a traversal target', status: 404, raw: 'HEAD /%2e%2e/%2e%2e/etc/passwd HTTP/1.0\r\n\r\n' },
    { name: 'a target longer than --max-request-line', status: 414, raw: `HEAD /${'a'.repeat(9000)} HTTP/1.0\r\n\r\n` },
    {
      name: 'an unsatisfiable range',
      status: 416,
      raw: `HEAD /big.bin HTTP/1.0\r\nRange: bytes=${BIG.length}-\r\n\r\n`,
    },
    { name: 'more than --max-headers fields', status: 431, raw: `HEAD / HTTP/1.0\r\n${TOO_MANY_HEADERS}\r\n` },
    {
      name: 'a header block over --max-header-size',
      status: 431,
      raw: `HEAD / HTTP/1.0\r\nX: ${'a'.repeat(17_000)}\r\n\r\n`,
    },
    { name: 'an HTTP/2.0 request line', status: 505, raw: 'HEAD /test.txt HTTP/2.0\r\n\r\n' },
  ])('$name -> $status with a head only', async ({ raw, status }) => {
    expectHeadOnly(await exchange(server.port, raw, { headResponses: true }), status)
  })

  test('a HEAD that matches the ETag -> 304 with a head only', async () => {
    expectHeadOnly(await head('/test.txt', `If-None-Match: ${etag}\r\n`), 304)
  })

  test('a HEAD whose head never completes -> 408 with a head only', async () => {
    const answer = await exchange(server.port, 'HEAD /test.txt HTTP/1.0\r\n', { headResponses: true })
    expectHeadOnly(answer, 408)
  })

  test("HEAD's Content-Length is the length GET sends, for a file and for a range", async () => {
    for (const fields of ['', 'Range: bytes=100-\r\n']) {
      const got = await exchange(server.port, `GET /big.bin HTTP/1.0\r\n${fields}\r\n`)
      const headed = await head('/big.bin', fields)
      expect(headed.headers.get('content-length')).toBe(String(got.body.length))
      expect(headed.headers.get('content-range')).toBe(got.headers.get('content-range'))
    }
  })
})

describe('HEAD on a server with one request slot', () => {
  let busy: RunningServer
  let held: RawConnection | null = null

  beforeAll(async () => {
    busy = await startServer({ args: ['--workers', '1', '--pool-size', '1', '--queue-size', '0'] })
  })
  afterAll(async () => {
    held?.destroy()
    await busy?.stop()
  })

  test('a HEAD while the only slot is held by an upload -> 503 with a head only', async () => {
    // An upload that sends its head and half its body holds the slot until the rest comes.
    held = openExchange(busy.port, { timeoutMs: 30_000 })
    await held.write('POST /upload HTTP/1.0\r\nContent-Length: 2000\r\n\r\n')
    await held.write(Buffer.alloc(1000, 7))
    await waitFor(async () =>
      (await exchange(busy.port, 'GET /test.txt HTTP/1.0\r\n\r\n')).status === 503 ? true : undefined,
    )
    const answer = await exchange(busy.port, 'HEAD /test.txt HTTP/1.0\r\n\r\n', { headResponses: true })
    expectHeadOnly(answer, 503)
    expect(answer.headers.get('retry-after')).toBe('1')
  })
})

describe('HEAD on a server that may not read a file', () => {
  let restricted: RunningServer

  beforeAll(async () => {
    // Root reads every file whatever its mode, so as root the server runs as nobody.
    const isRoot = process.getuid?.() === 0
    restricted = await startServer({
      files: { 'secret.txt': 'no one may read this\n' },
      ...(isRoot ? { user: { uid: 65534, gid: 65534 } } : {}),
    })
    await chmod(path.join(restricted.root, 'secret.txt'), 0o000)
  })
  afterAll(async () => {
    await restricted?.stop()
  })

  test('a HEAD of a file the server may not read -> 403 with a head only', async () => {
    const answer = await exchange(restricted.port, 'HEAD /secret.txt HTTP/1.0\r\n\r\n', { headResponses: true })
    expectHeadOnly(answer, 403)
  })
})
