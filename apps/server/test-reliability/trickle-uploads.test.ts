import { createHash, randomBytes } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { afterEach, expect, test } from 'vitest'
import { exchange, openExchange, type RawConnection, type RawExchange } from '../test/helpers/raw-exchange.js'
import { type RunningServer, startServer, waitFor } from '../test/helpers/server-process.js'
import { serverStats, sleep, waitForHealthy } from './helpers/reliability.js'

// Trickling uploaders against the upload permits (docs/reliability.md, "Slow attacks by real
// tools"): clients that send an upload's head and then one body byte every 2 s, as many as the
// permits allow, from other loopback addresses than a normal uploader's. Two defences meet here:
// --max-posts-per-client (one address holds at most one fewer than --max-posts, 5) and
// --min-rate (1 KiB/s by default) averaged over --rate-window, whose first window is a grace
// period: a trickler is answered 408 at its end and leaves no file. The window is 5 s here
// (default 10 s) to keep the test short. The normal uploader's wait is printed; what is asserted
// is that it gets its 201 with its bytes stored, within a bound far past the window.

const WORKERS = 2 // startServer's default
const RATE_WINDOW_MS = 5000
const TRICKLE_GAP_MS = 2000
const UPLOAD_BYTES = 64 * 1024
/** The normal upload retries after Retry-After until this long after it first asked. */
const NORMAL_UPLOAD_DEADLINE_MS = RATE_WINDOW_MS + 10_000
const TRICKLE_BODY_BYTES = 100_000

const servers: RunningServer[] = []
const connections: RawConnection[] = []
afterEach(async () => {
  for (const connection of connections.splice(0)) connection.destroy()
  for (const server of servers.splice(0)) await server.stop()
})

async function startOurs(): Promise<RunningServer> {
  const server = await startServer({ args: ['--rate-window', `${RATE_WINDOW_MS}ms`, '--log', '/dev/null'] })
  servers.push(server)
  await waitForHealthy(server, WORKERS)
  return server
}

const uploadDir = (server: RunningServer): string => path.join(server.root, 'uploads')
const listUploads = (server: RunningServer): Promise<string[]> => readdir(uploadDir(server)).catch(() => [])
const isTempFile = (name: string): boolean => name.startsWith('.upload-')

interface Trickler {
  readonly from: string
  readonly result: Promise<RawExchange>
  /** Body bytes it sent before the server ended the exchange. */
  sent(): number
}

/** Sends an upload's head, then one body byte every 2 s until the server ends the exchange (bounded). */
function startTrickler(port: number, from: string): Trickler {
  const connection = openExchange(port, { localAddress: from, timeoutMs: 60_000 })
  connections.push(connection)
  let sent = 0
  void (async () => {
    if (!(await connection.connected)) return
    await connection.write(
      `POST /upload HTTP/1.0\r\nHost: 127.0.0.1:${port}\r\nContent-Length: ${TRICKLE_BODY_BYTES}\r\n\r\n`,
    )
    for (let i = 0; i < 30 && !connection.socket.destroyed; i++) {
      await sleep(TRICKLE_GAP_MS)
      if (connection.socket.destroyed) break
      await connection.write('x')
      sent++
    }
  })()
  return { from, result: connection.result, sent: () => sent }
}

/** Temp files in the upload dir: one per upload that holds a permit and is receiving its body. */
async function waitForTempFiles(server: RunningServer, count: number): Promise<void> {
  await waitFor(
    async () => ((await listUploads(server)).filter(isTempFile).length === count ? true : undefined),
    10_000,
    `${count} uploads receiving`,
  )
}

interface NormalUpload {
  readonly status: number
  readonly body: string
  readonly attempts: number
  readonly waitedMs: number
}

/** A 64 KiB upload from `from`, retried after Retry-After on 503 until the deadline. */
async function normalUpload(port: number, from: string, body: Buffer): Promise<NormalUpload> {
  const started = Date.now()
  const head = `POST /upload HTTP/1.0\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\n\r\n`
  let attempts = 0
  for (;;) {
    attempts++
    const answer = await exchange(port, [head, body], { localAddress: from, timeoutMs: 30_000 })
    const retryAfterSeconds = Number(answer.headers.get('retry-after') ?? Number.NaN)
    const waitedMs = Date.now() - started
    const retry = answer.status === 503 && Number.isFinite(retryAfterSeconds) && retryAfterSeconds >= 0
    if (!retry || waitedMs + retryAfterSeconds * 1000 > NORMAL_UPLOAD_DEADLINE_MS) {
      return { status: answer.status, body: answer.body.toString('utf8'), attempts, waitedMs }
    }
    await sleep(retryAfterSeconds * 1000)
  }
}

/** The upload is stored under the name the 201 gave, byte for byte. */
async function expectStored(server: RunningServer, upload: NormalUpload, body: Buffer): Promise<void> {
  expect(upload.status).toBe(201)
  const answer = JSON.parse(upload.body) as { name: string; size: number; sha256: string }
  expect(answer.sha256).toBe(createHash('sha256').update(body).digest('hex'))
  expect((await readFile(path.join(uploadDir(server), answer.name))).equals(body)).toBe(true)
}

async function expectNothingLeftBehind(server: RunningServer, keep: readonly string[]): Promise<void> {
  const left = await waitFor(
    async () => {
      const names = await listUploads(server)
      return names.some(isTempFile) ? undefined : names
    },
    10_000,
    'no temp files',
  )
  expect(left.sort()).toEqual([...keep].sort())
  const stats = await waitForHealthy(server, WORKERS, (s) => s.permitsInUse === 0)
  expect(stats.permitsInUse).toBe(0)
  expect(stats.restarts).toBe(0)
}

const storedName = (upload: NormalUpload): string => (JSON.parse(upload.body) as { name: string }).name

test('tricklers from one address hold at most its share of the permits: a normal upload from another gets its 201 at once, and every trickler ends with 408 and leaves nothing', async () => {
  const server = await startOurs()
  const holders = Array.from({ length: 4 }, () => startTrickler(server.port, '127.0.0.2'))
  await waitForTempFiles(server, 4)
  const fifth = startTrickler(server.port, '127.0.0.2')
  const fifthAnswer = await fifth.result

  const body = randomBytes(UPLOAD_BYTES)
  const upload = await normalUpload(server.port, '127.0.0.3', body)
  const answers = await Promise.all(holders.map((t) => t.result))
  console.log(
    `[trickle] 4 tricklers from 127.0.0.2 hold permits, a 5th from there -> ${fifthAnswer.status}; ` +
      `normal 64 KiB upload from 127.0.0.3 -> ${upload.status} after ${upload.waitedMs} ms (${upload.attempts} attempt(s)); ` +
      `tricklers -> ${answers.map((a) => a.status).join(' ')} after sending ${holders.map((t) => t.sent()).join(', ')} byte(s) ` +
      `in ${answers.map((a) => a.endedAt - a.startedAt).join(', ')} ms`,
  )
  expect(fifthAnswer.status).toBe(503)
  expect(fifthAnswer.headers.get('retry-after')).toBe('1')
  await expectStored(server, upload, body)
  expect(answers.map((a) => a.status)).toEqual([408, 408, 408, 408])
  await expectNothingLeftBehind(server, [storedName(upload)])
})

test('tricklers holding every permit are cut off with 408 at the end of the grace window: a normal upload retrying after Retry-After gets its 201', async () => {
  const server = await startOurs()
  const tricklers = [
    ...Array.from({ length: 4 }, () => startTrickler(server.port, '127.0.0.2')),
    startTrickler(server.port, '127.0.0.4'),
  ]
  await waitForTempFiles(server, 5)
  const held = await serverStats(server)

  const body = randomBytes(UPLOAD_BYTES)
  const upload = await normalUpload(server.port, '127.0.0.3', body)
  const answers = await Promise.all(tricklers.map((t) => t.result))
  console.log(
    `[trickle] 5 tricklers (4 from 127.0.0.2, 1 from 127.0.0.4) held ${held.permitsInUse} permits; ` +
      `normal 64 KiB upload from 127.0.0.3 -> ${upload.status} after ${upload.waitedMs} ms ` +
      `(${upload.attempts} attempts, 503 + Retry-After before; --rate-window ${RATE_WINDOW_MS} ms); ` +
      `tricklers -> ${answers.map((a) => a.status).join(' ')} in ${answers.map((a) => a.endedAt - a.startedAt).join(', ')} ms`,
  )
  expect(held.permitsInUse).toBe(5)
  await expectStored(server, upload, body) // within NORMAL_UPLOAD_DEADLINE_MS, or it gave up
  expect(upload.attempts).toBeGreaterThan(1) // it really had to wait for a permit
  expect(answers.map((a) => a.status)).toEqual([408, 408, 408, 408, 408])
  await expectNothingLeftBehind(server, [storedName(upload)])
})
