import { mkdir, rm, symlink, utimes, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { exchange } from './helpers/raw-exchange.js'
import { type RunningServer, startServer } from './helpers/server-process.js'

// Status codes, headers and limits of the protocol (RFC 1945, and the server's own limits and
// timeouts), over raw sockets: the bytes sent are exactly the ones written here.

let server: RunningServer
const BIG = Buffer.alloc(3 * 1024 * 1024 + 17, 'abcdefghij')

beforeAll(async () => {
  server = await startServer({
    args: ['--max-body', '1MiB', '--header-timeout', '1s'],
    files: {
      'test.txt': 'plain text\n',
      'page.html': '<p>hi</p>\n',
      'docs/index.html': '<h1>docs</h1>\n',
      'empty-dir/readme.txt': 'not an index\n',
      '.secret': 'dotfile\n',
      'sub/.hidden/file.txt': 'hidden dir\n',
      'big.bin': BIG,
    },
  })
  await writeFile(path.join(server.dir, 'outside.txt'), 'OUTSIDE-SECRET\n')
  await symlink(path.join(server.dir, 'outside.txt'), path.join(server.root, 'escape.txt'))
  await symlink(path.join(server.root, 'test.txt'), path.join(server.root, 'alias.txt'))
  await mkdir(path.join(server.root, 'uploads'), { recursive: true })
  await utimes(path.join(server.root, 'test.txt'), new Date('2025-01-02T03:04:05Z'), new Date('2025-01-02T03:04:05Z'))
})
afterAll(async () => {
  await server?.stop()
})

describe('request line and versions', () => {
  test.each([
    { name: 'HTTP/1.0 GET', raw: 'GET /test.txt HTTP/1.0\r\n\r\n', status: 200 },
    {
      name: 'HTTP/1.1 GET gets an HTTP/1.0 answer that closes',
      raw: 'GET /test.txt HTTP/1.1\r\nHost: localhost\r\n\r\n',
      status: 200,
    },
    { name: 'lowercase method', raw: 'get /test.txt HTTP/1.0\r\n\r\n', status: 400 },
    { name: 'unknown method token', raw: 'BREW /test.txt HTTP/1.0\r\n\r\n', status: 501 },
    { name: 'registered but unsupported method', raw: 'DELETE /test.txt HTTP/1.0\r\n\r\n', status: 405 },
    { name: 'HTTP/2.0 request line', raw: 'GET /test.txt HTTP/2.0\r\n\r\n', status: 505 },
    { name: 'garbage version', raw: 'GET /test.txt HTTP/x\r\n\r\n', status: 400 },
    { name: 'space before the colon', raw: 'GET /test.txt HTTP/1.0\r\nHost : x\r\n\r\n', status: 400 },
    { name: 'obs-fold', raw: 'GET /test.txt HTTP/1.0\r\nA: b\r\n c\r\n\r\n', status: 400 },
    {
      name: 'Transfer-Encoding alone',
      raw: 'POST /upload HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n',
      status: 501,
    },
    {
      name: 'Transfer-Encoding with Content-Length',
      raw: 'POST /upload HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc',
      status: 400,
    },
    {
      name: 'conflicting Content-Length',
      raw: 'POST /upload HTTP/1.0\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd',
      status: 400,
    },
    { name: 'non-numeric Content-Length', raw: 'POST /upload HTTP/1.0\r\nContent-Length: 3x\r\n\r\nabc', status: 400 },
    { name: 'POST without Content-Length', raw: 'POST /upload HTTP/1.0\r\n\r\n', status: 411 },
    { name: 'POST over max body', raw: 'POST /upload HTTP/1.0\r\nContent-Length: 1048577\r\n\r\n', status: 413 },
    { name: 'POST to a file path', raw: 'POST /test.txt HTTP/1.0\r\nContent-Length: 1\r\n\r\nx', status: 405 },
    { name: 'request line too long', raw: `GET /${'a'.repeat(9000)} HTTP/1.0\r\n\r\n`, status: 414 },
    { name: 'header block too large', raw: `GET / HTTP/1.0\r\nX: ${'a'.repeat(17_000)}\r\n\r\n`, status: 431 },
    {
      name: 'too many headers',
      raw: `GET / HTTP/1.0\r\n${Array.from({ length: 101 }, (_, i) => `X-${i}: v\r\n`).join('')}\r\n`,
      status: 431,
    },
  ])('$name -> $status', async ({ raw, status }) => {
    const response = await exchange(server.port, raw)
    expect(response.status).toBe(status)
    expect(response.responses[0]?.version).toBe('1.0')
    expect(response.headers.get('connection')).toBe('close')
    // Content-Length is the number of body bytes: all of them arrived, and not a byte more.
    expect(response.headers.get('content-length')).toBe(String(response.body.length))
    expect(response.exact).toBe(true)
    expect(response.body.toString('latin1')).not.toMatch(/\bat .*\.js:\d+/) // never a stack trace
  })

  test('405 lists the allowed methods', async () => {
    const response = await exchange(server.port, 'DELETE /upload HTTP/1.0\r\n\r\n')
    expect(response.headers.get('allow')).toBe('GET, HEAD, POST') // GET /upload is the upload page
  })

  test('an HTTP/0.9 simple request gets the bare body', async () => {
    // RFC 1945 §6: a Simple-Response is the entity body alone, no status line and no header.
    const response = await exchange(server.port, 'GET /test.txt\r\n')
    expect(response.raw.toString('latin1')).toBe('plain text\n')
  })

  test('bytes after a complete request are never a second request', async () => {
    const response = await exchange(server.port, 'GET /test.txt HTTP/1.0\r\n\r\nGET /page.html HTTP/1.0\r\n\r\n')
    expect(response.responses).toHaveLength(1)
    expect(response.exact).toBe(true)
    expect(response.body.toString()).toBe('plain text\n')
  })

  test('a request head split into single bytes is parsed', async () => {
    const raw = 'GET /test.txt HTTP/1.0\r\nUser-Agent: split\r\n\r\n'
    const response = await exchange(server.port, [...raw])
    expect(response.status).toBe(200)
  })

  test('a client that never finishes its head gets 408', async () => {
    const response = await exchange(server.port, 'GET /test.txt HTTP/1.0\r\nX-Slow: ')
    expect(response.status).toBe(408)
  })
})

describe('files', () => {
  test('HEAD has the GET headers and no body', async () => {
    const get = await exchange(server.port, 'GET /test.txt HTTP/1.0\r\n\r\n')
    const head = await exchange(server.port, 'HEAD /test.txt HTTP/1.0\r\n\r\n', { headResponses: true })
    expect(head.status).toBe(200)
    expect(head.exact).toBe(true) // not a byte after the head
    for (const name of ['content-type', 'content-length', 'last-modified', 'server', 'connection']) {
      expect(head.headers.get(name)).toBe(get.headers.get(name))
    }
  })

  test('Last-Modified and If-Modified-Since give 304 when unchanged and 200 when newer', async () => {
    const get = await exchange(server.port, 'GET /test.txt HTTP/1.0\r\n\r\n')
    expect(get.headers.get('last-modified')).toBe('Thu, 02 Jan 2025 03:04:05 GMT')
    const same = await exchange(
      server.port,
      'GET /test.txt HTTP/1.0\r\nIf-Modified-Since: Thu, 02 Jan 2025 03:04:05 GMT\r\n\r\n',
    )
    expect(same.status).toBe(304)
    expect(same.exact).toBe(true) // RFC 9110 §15.4.5: a 304 has no body, and not a byte follows its head
    const older = await exchange(
      server.port,
      'GET /test.txt HTTP/1.0\r\nIf-Modified-Since: Wed, 01 Jan 2025 00:00:00 GMT\r\n\r\n',
    )
    expect(older.status).toBe(200)
    const junk = await exchange(server.port, 'GET /test.txt HTTP/1.0\r\nIf-Modified-Since: yesterday\r\n\r\n')
    expect(junk.status).toBe(200)
  })

  test('Content-Type comes from the MIME table', async () => {
    const page = await exchange(server.port, 'GET /page.html HTTP/1.0\r\n\r\n')
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
    const big = await exchange(server.port, 'HEAD /big.bin HTTP/1.0\r\n\r\n', { headResponses: true })
    expect(big.headers.get('content-type')).toBe('application/octet-stream')
  })

  test('a directory serves its index.html, and redirects to add the slash', async () => {
    const index = await exchange(server.port, 'GET /docs/ HTTP/1.0\r\n\r\n')
    expect(index.status).toBe(200)
    expect(index.body.toString()).toBe('<h1>docs</h1>\n')
    const redirect = await exchange(server.port, 'GET /docs HTTP/1.0\r\n\r\n')
    expect(redirect.status).toBe(301)
    expect(redirect.headers.get('location')).toBe('/docs/')
    expect((await exchange(server.port, 'GET /empty-dir/ HTTP/1.0\r\n\r\n')).status).toBe(404)
  })

  test('a large file streams byte-exact', async () => {
    const response = await fetch(`${server.url}/big.bin`)
    expect(response.headers.get('content-length')).toBe(String(BIG.length))
    expect(Buffer.from(await response.arrayBuffer()).equals(BIG)).toBe(true)
  })

  test('a cached file that changes is never served stale, even with the same size and mtime', async () => {
    const file = path.join(server.root, 'changing.txt')
    const fixed = new Date('2025-06-01T00:00:00Z')
    for (const content of ['version-1\n', 'version-2\n', 'version-3\n']) {
      await writeFile(file, content)
      await utimes(file, fixed, fixed) // same size, same mtime: only ctime and the bytes differ
      for (let i = 0; i < 3; i++) {
        expect((await exchange(server.port, 'GET /changing.txt HTTP/1.0\r\n\r\n')).body.toString()).toBe(content)
      }
    }
  })

  test('a cached file that is replaced by a symlink out of the root is not served', async () => {
    const file = path.join(server.root, 'swap.txt')
    await writeFile(file, 'inside\n')
    expect((await exchange(server.port, 'GET /swap.txt HTTP/1.0\r\n\r\n')).body.toString()).toBe('inside\n')
    await rm(file)
    await symlink(path.join(server.dir, 'outside.txt'), file)
    const response = await exchange(server.port, 'GET /swap.txt HTTP/1.0\r\n\r\n')
    expect(response.status).toBe(404)
    expect(response.raw.toString('latin1')).not.toContain('OUTSIDE-SECRET')
  })

  test('a symlink inside the root to a file inside the root is served', async () => {
    expect((await exchange(server.port, 'GET /alias.txt HTTP/1.0\r\n\r\n')).body.toString()).toBe('plain text\n')
  })

  test.each([
    '/.secret',
    '/sub/.hidden/file.txt',
    '/escape.txt',
    '/../outside.txt',
    '/%2e%2e/outside.txt',
    '/%2E%2E%2Foutside.txt',
    '/..%2foutside.txt',
    '/..%5coutside.txt',
    '/..\\outside.txt',
    '/docs/../../outside.txt',
    '/%252e%252e/outside.txt',
    '/%c0%ae%c0%ae/outside.txt',
    '/test.txt%00.html',
    '/uploads/../../outside.txt',
    'http://localhost/../outside.txt',
  ])('%s never leaves the root and is 404 or 400', async (target) => {
    const response = await exchange(server.port, `GET ${target} HTTP/1.0\r\n\r\n`)
    expect([400, 404]).toContain(response.status)
    const bytes = response.raw.toString('latin1') // everything sent, head included
    expect(bytes).not.toContain('OUTSIDE-SECRET')
    expect(bytes).not.toContain('dotfile')
  })
})
