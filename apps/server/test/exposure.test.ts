import { randomBytes } from 'node:crypto'
import { mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { exchange, openExchange } from './helpers/raw-exchange.js'
import {
  makeTempDir,
  type RunningServer,
  runNode,
  SERVER_MAIN,
  startServer,
  waitFor,
} from './helpers/server-process.js'

// What keeps a server that is exposed safe from its clients: Host checks, cross-site uploads,
// slow senders and slow readers, one address's share of the upload permits, a pid file that is
// a symlink, and redirects for names with ? or #.

const BIG_FILE_BYTES = 48 * 1024 * 1024

async function uploadsOf(server: RunningServer): Promise<string[]> {
  return readdir(path.join(server.root, 'uploads')).catch(() => [])
}

describe('a server bound to loopback', () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startServer({
      files: { 'test.txt': 'hello\n', 'a?b/index.html': 'odd\n', 'c#d/index.html': 'odd\n' },
    })
  })
  afterAll(async () => {
    await server.stop()
  })

  test('answers a request that names it by a local name', async () => {
    const response = await exchange(server.port, `GET /test.txt HTTP/1.1\r\nHost: localhost:${server.port}\r\n\r\n`)
    expect(response.status).toBe(200)
  })

  test('answers 421 to a request for another host name (DNS rebinding)', async () => {
    const response = await exchange(server.port, 'GET /test.txt HTTP/1.1\r\nHost: attacker.example\r\n\r\n')
    expect(response.status).toBe(421)
  })

  test('answers 400 to an HTTP/1.1 request without Host, and to one with two', async () => {
    const none = await exchange(server.port, 'GET /test.txt HTTP/1.1\r\n\r\n')
    const two = await exchange(server.port, 'GET /test.txt HTTP/1.1\r\nHost: localhost\r\nHost: localhost\r\n\r\n')
    expect([none.status, two.status]).toEqual([400, 400])
  })

  test('still answers an HTTP/1.0 request without Host', async () => {
    expect((await exchange(server.port, 'GET /test.txt HTTP/1.0\r\n\r\n')).status).toBe(200)
  })

  test('refuses an upload a page of another site sends, and keeps nothing', async () => {
    const before = await uploadsOf(server)
    const fromOrigin = await exchange(
      server.port,
      'POST /upload HTTP/1.1\r\nHost: localhost\r\nOrigin: http://attacker.example\r\nContent-Length: 5\r\n\r\nhello',
    )
    const fromFetchSite = await exchange(
      server.port,
      'POST /upload HTTP/1.1\r\nHost: localhost\r\nSec-Fetch-Site: cross-site\r\nContent-Length: 5\r\n\r\nhello',
    )
    expect([fromOrigin.status, fromFetchSite.status]).toEqual([403, 403])
    expect(await uploadsOf(server)).toEqual(before)
  })

  test('accepts an upload from its own pages', async () => {
    const origin = `http://localhost:${server.port}`
    const response = await exchange(
      server.port,
      `POST /upload HTTP/1.1\r\nHost: localhost:${server.port}\r\nOrigin: ${origin}\r\nSec-Fetch-Site: same-origin\r\nContent-Length: 5\r\n\r\nhello`,
    )
    expect(response.status).toBe(201)
  })

  test('redirects a directory whose name has ? or # with those characters percent-encoded', async () => {
    const question = await exchange(server.port, 'GET /a%3Fb HTTP/1.0\r\n\r\n')
    const hash = await exchange(server.port, 'GET /c%23d HTTP/1.0\r\n\r\n')
    expect([question.status, question.headers.get('location')]).toEqual([301, '/a%3Fb/'])
    expect([hash.status, hash.headers.get('location')]).toEqual([301, '/c%23d/'])
  })
})

test('with --allow-cross-site-uploads, an upload from another site is stored', async () => {
  const server = await startServer({ args: ['--allow-cross-site-uploads'] })
  try {
    const response = await exchange(
      server.port,
      'POST /upload HTTP/1.1\r\nHost: localhost\r\nOrigin: http://other.example\r\nContent-Length: 5\r\n\r\nhello',
    )
    expect(response.status).toBe(201)
  } finally {
    await server.stop()
  }
})

test('a server bound to all addresses answers any Host name', async () => {
  const server = await startServer({ args: ['--host', '0.0.0.0'] })
  try {
    const response = await exchange(server.port, 'GET /test.txt HTTP/1.1\r\nHost: files.example\r\n\r\n')
    expect(response.status).toBe(200)
  } finally {
    await server.stop()
  }
})

describe('slow clients', () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startServer({
      args: ['--workers', '1', '--pool-size', '1', '--queue-size', '0', '--min-rate', '1KiB', '--rate-window', '1s'],
      files: { 'test.txt': 'hello\n', 'big.bin': randomBytes(BIG_FILE_BYTES) },
    })
  })
  afterAll(async () => {
    await server.stop()
  })

  test('an upload that trickles below --min-rate gets 408 and leaves no file and no temp file', async () => {
    const before = await uploadsOf(server)
    const upload = openExchange(server.port, { timeoutMs: 20_000 })
    await upload.write('POST /upload HTTP/1.0\r\nContent-Length: 100000\r\n\r\n')
    const trickle = setInterval(() => {
      if (!upload.socket.destroyed) upload.socket.write('x')
    }, 200)
    try {
      const result = await upload.result
      expect(result.status).toBe(408)
    } finally {
      clearInterval(trickle)
    }
    await waitFor(async () => ((await uploadsOf(server)).length === before.length ? true : undefined))
    expect((await uploadsOf(server)).filter((name) => name.startsWith('.'))).toEqual([])
  })

  test('a client that reads a large file below --min-rate is cut off, and the server goes on serving', async () => {
    // Bigger than what the kernel's socket buffers hold on loopback, so the transfer must stall.
    const reader = openExchange(server.port, { timeoutMs: 30_000 })
    await reader.write('GET /big.bin HTTP/1.0\r\n\r\n')
    reader.socket.pause() // read nothing: the buffers fill, then nothing moves
    // A paused client never learns of the close; the server's access log says what it sent.
    const line = await waitFor(
      async () => (await readFile(server.logPath, 'utf8')).split('\n').find((l) => l.includes('GET /big.bin')),
      20_000,
      'the cut-off transfer in the access log',
    )
    const sent = Number(/" 200 (\d+) /.exec(line)?.[1])
    expect(sent).toBeGreaterThan(0)
    expect(sent).toBeLessThan(BIG_FILE_BYTES)
    expect((await exchange(server.port, 'GET /test.txt HTTP/1.0\r\n\r\n')).status).toBe(200)
    reader.destroy()
  })
})

test('a client that reads a large file slowly holds no pool slot while the file streams', async () => {
  // One slot, no queue, and the default --rate-window (the reader is not cut off during the
  // test): a second request is 503 if the stream to the first still holds the slot.
  const server = await startServer({
    args: ['--workers', '1', '--pool-size', '1', '--queue-size', '0'],
    files: { 'test.txt': 'hello\n', 'big.bin': randomBytes(BIG_FILE_BYTES) },
  })
  const reader = openExchange(server.port, { timeoutMs: 30_000 })
  try {
    await reader.write('GET /big.bin HTTP/1.0\r\n\r\n')
    reader.socket.pause() // read no further: the file cannot all fit in the kernel's buffers
    await waitFor(() => (reader.socket.bytesRead > 0 ? true : undefined), 10_000, 'the stream to start')
    const other = await exchange(server.port, 'GET /test.txt HTTP/1.0\r\n\r\n')
    expect(other.status).toBe(200)
  } finally {
    reader.destroy()
    await server.stop()
  }
})

test('one client address cannot take every upload permit', async () => {
  const server = await startServer({ args: ['--max-posts', '3'] })
  try {
    const body = randomBytes(2000)
    // Two held uploads from 127.0.0.2: its share of three permits is two.
    const held = [0, 1].map(() => openExchange(server.port, { localAddress: '127.0.0.2' }))
    for (const upload of held) {
      await upload.write(`POST /upload HTTP/1.0\r\nContent-Length: ${body.length}\r\n\r\n`)
      await upload.write(body.subarray(0, 1000))
    }
    await new Promise((resolve) => setTimeout(resolve, 300))
    const third = await exchange(server.port, `POST /upload HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello`, {
      localAddress: '127.0.0.2',
    })
    const other = await exchange(server.port, `POST /upload HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello`, {
      localAddress: '127.0.0.3',
    })
    expect([third.status, other.status]).toEqual([503, 201])
    for (const upload of held) upload.end(body.subarray(1000))
    expect((await Promise.all(held.map((upload) => upload.result))).map((r) => r.status)).toEqual([201, 201])
  } finally {
    await server.stop()
  }
})

test('a pid file that is a symlink is not followed: one line, exit 2, the target untouched', async () => {
  const dir = await makeTempDir('threadserve-pid-')
  await mkdir(path.join(dir, 'root'))
  const target = path.join(dir, 'precious.txt')
  await writeFile(target, 'keep me\n')
  await symlink(target, path.join(dir, 'server.pid'))
  const run = await runNode(
    SERVER_MAIN,
    ['--port', '0', '--root', 'root', '--log', 'server.log', '--workers', '1', '--pid-file', 'server.pid'],
    { cwd: dir, env: { INIT_CWD: dir }, timeoutMs: 10_000 },
  )
  expect(run.code).toBe(2)
  expect(run.stderr.trim().split('\n')).toHaveLength(1)
  expect(run.stderr).toContain('--pid-file')
  expect(await readFile(target, 'utf8')).toBe('keep me\n')
  await rm(dir, { recursive: true, force: true })
})
