import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import net from 'node:net'
import { promisify } from 'node:util'
import { ResponseParser } from '@threadserve/http10-parser'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type RunningServer, rawRequest, startServer, waitFor } from './helpers/server-process.js'

// --keep-alive (issue 7): clients that ask keep their connection for further requests, answered in
// order, one access-log line each; everything else still closes after each response, as DESIGN.md
// asks of the default.

const hasCurl = ['/usr/bin/curl', '/bin/curl', '/usr/local/bin/curl'].some((p) => existsSync(p))
const BIG = randomBytes(300 * 1024) // past the small-file cache: served as a stream
const FILES = { 'test.txt': 'hello from the test root\n', 'big.bin': BIG }

interface Answer {
  readonly status: number
  readonly connection: string | undefined
  readonly body: Buffer
}

/** Splits what a server sent on one connection into its responses (HEAD requests say so). */
function splitResponses(bytes: Buffer, headRequests: ReadonlySet<number> = new Set()): Answer[] {
  const answers: Answer[] = []
  const parser = new ResponseParser()
  parser.reset({ expectBody: !headRequests.has(0) })
  let rest: Buffer | null = bytes
  let body: Buffer[] = []
  let head: { status: number; connection: string | undefined } | null = null
  while (rest !== null && rest.length > 0) {
    const step = parser.push(rest)
    rest = step.leftover
    if (step.head !== null) head = { status: step.head.status, connection: step.head.get('connection') }
    if (step.body !== null) body.push(step.body)
    if (step.done && head !== null) {
      answers.push({ ...head, body: Buffer.concat(body) })
      head = null
      body = []
      parser.reset({ expectBody: !headRequests.has(answers.length) })
    }
  }
  return answers
}

/** One connection: writes `request`, returns the bytes and how long the server took to close. */
function exchange(port: number, request: string | Buffer, timeoutMs = 10_000): Promise<{ bytes: Buffer; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request))
    const chunks: Buffer[] = []
    socket.on('data', (chunk) => chunks.push(chunk))
    socket.on('error', reject)
    socket.on('close', () => resolve({ bytes: Buffer.concat(chunks), ms: performance.now() - started }))
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error('the server did not close the connection')))
  })
}

const get = (path: string, version = '1.0', extra = ''): string =>
  `GET ${path} HTTP/${version}\r\n${version === '1.0' ? 'Connection: keep-alive\r\n' : 'Host: x\r\n'}${extra}\r\n`

describe('without --keep-alive (the default)', () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startServer({ files: FILES })
  })
  afterAll(async () => {
    await server?.stop()
  })

  test('a client asking for keep-alive still gets Connection: close, and the next request is never read', async () => {
    const { bytes } = await exchange(server.port, get('/test.txt') + get('/test.txt', '1.1'))
    const answers = splitResponses(bytes)
    expect(answers.map((a) => [a.status, a.connection])).toEqual([[200, 'close']])
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
    const { bytes } = await exchange(server.port, request)
    const answers = splitResponses(bytes)
    expect(answers.map((a) => [a.status, a.connection])).toEqual([
      [200, 'keep-alive'],
      [200, 'keep-alive'],
      [404, 'keep-alive'],
      [200, 'close'], // HTTP/1.0 without the header: this one closes
    ])
    expect(answers[0]?.body.toString()).toBe(FILES['test.txt'])
    expect(answers[1]?.body.equals(BIG)).toBe(true)
  })

  test('requests sent one at a time, each after the previous answer, share the connection', async () => {
    const socket = net.connect(server.port, '127.0.0.1')
    await new Promise((resolve) => socket.once('connect', resolve))
    let received = Buffer.alloc(0)
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk])
    })
    for (let i = 1; i <= 3; i++) {
      socket.write(get('/test.txt', '1.1'))
      await waitFor(() => (splitResponses(received).length === i ? true : undefined), 5000, `answer ${i}`)
    }
    expect(socket.destroyed).toBe(false)
    socket.destroy()
    expect(splitResponses(received).map((a) => a.status)).toEqual([200, 200, 200])
  })

  test('Connection: close, HTTP/0.9 and the request limit end the connection', async () => {
    const closing = await exchange(server.port, get('/test.txt', '1.1', 'Connection: close\r\n') + get('/test.txt'))
    expect(splitResponses(closing.bytes).map((a) => [a.status, a.connection])).toEqual([[200, 'close']])
    const simple = await exchange(server.port, 'GET /test.txt\r\n')
    expect(simple.bytes.toString()).toBe(FILES['test.txt'])
    // --keep-alive-requests 4: the fourth response closes, a fifth request is never read.
    const limited = await exchange(server.port, get('/test.txt', '1.1').repeat(5))
    expect(splitResponses(limited.bytes).map((a) => a.connection)).toEqual([
      'keep-alive',
      'keep-alive',
      'keep-alive',
      'close',
    ])
  })

  test('an idle connection is closed after --keep-alive-timeout, without a 408', async () => {
    const { bytes, ms } = await exchange(server.port, get('/test.txt', '1.1'))
    expect(splitResponses(bytes).map((a) => a.status)).toEqual([200])
    expect(ms).toBeGreaterThanOrEqual(350)
    expect(ms).toBeLessThan(5000)
  })

  test('a half-sent next request still gets its 408 under --header-timeout rules', async () => {
    const { bytes } = await exchange(server.port, `${get('/test.txt', '1.1')}GET /test.txt HT`, 15_000)
    expect(splitResponses(bytes).map((a) => [a.status, a.connection])).toEqual([
      [200, 'keep-alive'],
      [408, 'close'],
    ])
  })

  test('an upload, then a GET of its Location, on the same connection', async () => {
    const socket = net.connect(server.port, '127.0.0.1')
    let received = Buffer.alloc(0)
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk])
    })
    socket.write('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nkept open')
    const [created] = await waitFor(() =>
      splitResponses(received).length === 1 ? splitResponses(received) : undefined,
    )
    expect(created?.status).toBe(201)
    const location = /Location: (\S+)/.exec(received.toString('latin1'))?.[1] as string
    socket.write(get(location, '1.1', 'Connection: close\r\n'))
    await new Promise((resolve) => socket.once('close', resolve))
    const answers = splitResponses(received)
    expect(answers.map((a) => [a.status, a.connection])).toEqual([
      [201, 'keep-alive'],
      [200, 'close'],
    ])
    expect(answers[1]?.body.toString()).toBe('kept open')
  })

  test('a request the parser rejects closes the connection: bytes after it are never a request', async () => {
    const smuggled = 'POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n'
    const { bytes } = await exchange(
      server.port,
      `${get('/test.txt', '1.1')}${smuggled}0\r\n\r\n${get('/test.txt', '1.1')}`,
    )
    expect(splitResponses(bytes).map((a) => [a.status, a.connection])).toEqual([
      [200, 'keep-alive'],
      [400, 'close'],
    ])
  })

  test('HEAD responses keep the connection and carry no body', async () => {
    const request = `HEAD /big.bin HTTP/1.1\r\nHost: x\r\n\r\n${get('/test.txt', '1.1', 'Connection: close\r\n')}`
    const { bytes } = await exchange(server.port, request)
    const answers = splitResponses(bytes, new Set([0]))
    expect(answers.map((a) => [a.status, a.connection, a.body.length])).toEqual([
      [200, 'keep-alive', 0],
      [200, 'close', FILES['test.txt'].length],
    ])
  })

  test('every request on a persistent connection gets its own access-log line with its own byte count', async () => {
    const marker = `/test.txt?log=${Date.now()}`
    await exchange(server.port, get(marker, '1.1') + get(marker, '1.1', 'Connection: close\r\n'))
    const lines = await waitFor(async () => {
      const found = (await readFile(server.logPath, 'utf8')).split('\n').filter((l) => l.includes(marker))
      return found.length === 2 ? found : undefined
    })
    const sizes = lines.map((l) => Number(/ 200 (\d+) /.exec(l)?.[1]))
    // Same body; the heads differ only in "keep-alive" vs "close" (5 bytes).
    expect(sizes[0]).toBe((sizes[1] as number) + 'keep-alive'.length - 'close'.length)
  })

  test.skipIf(!hasCurl)('curl reuses the connection', async () => {
    const url = `${server.url}/test.txt`
    const { stderr } = await promisify(execFile)('curl', ['-sv', '-o', '/dev/null', '-o', '/dev/null', url, url])
    expect(stderr).toMatch(/Re-using existing connection|Reusing existing/i)
  })
})

test('SIGTERM closes idle persistent connections at once instead of waiting out the grace period', async () => {
  const server = await startServer({ args: ['--keep-alive', '--keep-alive-timeout', '60s', '--shutdown-grace', '20s'] })
  try {
    const socket = net.connect(server.port, '127.0.0.1', () => socket.write(get('/test.txt', '1.1')))
    const closed = new Promise((resolve) => socket.once('close', resolve))
    socket.on('data', () => {})
    await waitFor(() => (socket.bytesRead > 0 ? true : undefined))
    const started = Date.now()
    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
    await closed
    expect(Date.now() - started).toBeLessThan(10_000)
    expect(await rawRequest(server.port, 'GET / HTTP/1.0\r\n\r\n').catch((error: Error) => error.message)).toMatch(
      /ECONNREFUSED/,
    )
  } finally {
    await server.stop()
  }
})
