import { execFile } from 'node:child_process'
import { mkdir, readdir, rm, unlink, writeFile } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, afterEach, expect, test } from 'vitest'
import { exchange, openExchange, type RawConnection, type RawExchange } from '../test/helpers/raw-exchange.js'
import { makeTempDir, type RunningServer, startServer, waitFor } from '../test/helpers/server-process.js'
import { createRandom, seedFor, serverStats, sleep, waitForHealthy } from './helpers/reliability.js'

// Resource exhaustion (docs/reliability.md, promises 8, 9 and 10): a full disk during an upload
// answers 507 and leaves nothing behind; the file-descriptor limit reached makes new connections
// wait or be refused, and the server survives and recovers; more connections than pool plus
// queue get 503, never a crash.

const run = promisify(execFile)
const ENOSPC_PRELOAD = fileURLToPath(new URL('./fixtures/enospc-preload.mjs', import.meta.url))
const MiB = 1024 * 1024

const servers: RunningServer[] = []
const cleanups: (() => Promise<void>)[] = []
const sockets: net.Socket[] = []
afterEach(async (context) => {
  if (context.task.result?.state === 'fail') {
    for (const s of servers) console.log(`[exhaustion] server stderr:\n${s.stderr().slice(-1500)}`)
  }
  for (const socket of sockets.splice(0)) socket.destroy()
  await Promise.all(servers.splice(0).map((s) => s.stop()))
})
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {})
})

function upload(port: number, body: Buffer, timeoutMs = 12_000): Promise<RawExchange> {
  const head = `POST /upload HTTP/1.0\r\nContent-Length: ${body.length}\r\n\r\n`
  return exchange(port, Buffer.concat([Buffer.from(head, 'latin1'), body]), { halfClose: true, timeoutMs })
}

function get(port: number, target: string, timeoutMs = 15_000): Promise<RawExchange> {
  return exchange(port, `GET ${target} HTTP/1.0\r\n\r\n`, { halfClose: true, timeoutMs })
}

/** An 8 MiB tmpfs for the upload dir, or null when this environment cannot mount one. */
async function smallFilesystem(): Promise<string | null> {
  const dir = await makeTempDir('threadserve-diskfull-')
  const mountPoint = path.join(dir, 'uploads')
  await mkdir(mountPoint)
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  try {
    await run('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mountPoint])
  } catch (error) {
    console.log(
      `[exhaustion] cannot mount a tmpfs (${(error as Error).message.split('\n')[0]}): injecting ENOSPC instead`,
    )
    return null
  }
  cleanups.push(async () => {
    await run('umount', [mountPoint])
  })
  return mountPoint
}

test('a disk that fills during an upload gives 507, leaves no partial or temp file, and GETs keep working', async () => {
  const random = createRandom(seedFor('disk-full'))
  const mounted = await smallFilesystem()
  let uploadDir: string
  let env: NodeJS.ProcessEnv = {}
  if (mounted !== null) {
    uploadDir = mounted
  } else {
    uploadDir = path.join(await makeTempDir('threadserve-enospc-'), 'uploads')
    await mkdir(uploadDir)
    cleanups.push(() => rm(path.dirname(uploadDir), { recursive: true, force: true }))
    env = {
      NODE_OPTIONS: `--import ${ENOSPC_PRELOAD}`,
      THREADSERVE_TEST_DISK_BYTES: String(8 * MiB),
      THREADSERVE_TEST_DISK_DIR: uploadDir,
    }
  }
  const server = await startServer({
    args: ['--workers', '1', '--upload-dir', uploadDir, '--body-timeout', '5s', '--max-body', '64MiB'],
    env,
  })
  servers.push(server)
  const first = await upload(server.port, random.bytes(3 * MiB))
  expect(first.status).toBe(201)
  const kept = (JSON.parse(first.body.toString()) as { name: string }).name

  // Three ways to run out: a body far larger than the free space, one just over it, and a disk
  // already full to the last byte when the upload starts.
  const cases: { name: string; status: number; error: string | null; ms: number }[] = []
  for (const [name, size] of [
    ['16 MiB into ~5 MiB free', 16 * MiB],
    ['5.5 MiB into ~5 MiB free', 5.5 * MiB],
  ] as const) {
    const result = await upload(server.port, random.bytes(size))
    cases.push({ name, status: result.status, error: result.error, ms: result.endedAt - result.startedAt })
  }
  let filler: string | null = null
  if (mounted !== null) {
    filler = path.join(uploadDir, 'filler.bin')
    await writeFile(filler, Buffer.alloc(0))
    await run('dd', ['if=/dev/zero', `of=${filler}`, 'bs=64k', 'status=none']).catch(() => {}) // stops at ENOSPC
    const result = await upload(server.port, random.bytes(100 * 1024))
    cases.push({
      name: '100 KiB into a full disk',
      status: result.status,
      error: result.error,
      ms: result.endedAt - result.startedAt,
    })
    await unlink(filler)
  }
  const entries = await readdir(uploadDir)
  const served = await get(server.port, '/test.txt', 5000)
  const again = await upload(server.port, random.bytes(MiB)) // space is back: uploads work again
  console.log(
    `[exhaustion] disk full (${mounted !== null ? '8 MiB tmpfs' : 'injected ENOSPC'}): ` +
      `${cases.map((c) => `${c.name} -> ${c.status || c.error} in ${c.ms} ms`).join('; ')}; ` +
      `upload dir afterwards: ${entries.length} entries; GET -> ${served.status}; upload after freeing space -> ${again.status}`,
  )
  for (const c of cases) expect(`${c.name}: ${c.status}`).toBe(`${c.name}: 507`)
  expect(entries.filter((e) => e !== 'lost+found')).toEqual([kept])
  expect(served.status).toBe(200)
  expect(again.status).toBe(201)
})

async function openFds(pid: number): Promise<number> {
  return (await readdir(`/proc/${pid}/fd`)).length
}

test('at the file-descriptor limit new connections wait or are refused, and the server survives and recovers', async () => {
  const random = createRandom(seedFor('fd-limit'))
  const big = random.bytes(512 * 1024) // above the 256 KiB file cache: every GET opens the file
  const server = await startServer({
    files: { 'test.txt': 'hello\n', 'big.bin': big },
    args: ['--workers', '2', '--header-timeout', '4s', '--max-posts', '50'],
  })
  servers.push(server)
  const before = await waitForHealthy(server, 2)
  // Lower RLIMIT_NOFILE of the running supervisor and workers to a few above the count they hold.
  const limits: string[] = []
  for (const pid of [server.pid, ...before.workers.map((w) => w.pid)]) {
    const limit = (await openFds(pid)) + 12
    await run('prlimit', ['--pid', String(pid), `--nofile=${limit}:${limit}`])
    limits.push(`${pid}: ${limit}`)
  }
  // Hold 300 idle connections: far more than the descriptors left.
  for (let i = 0; i < 300; i++) {
    const socket = net.connect({ port: server.port, host: '127.0.0.1' })
    socket.on('error', () => {})
    sockets.push(socket)
  }
  await sleep(500)
  const during = await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      i % 4 === 0 ? upload(server.port, random.bytes(64 * 1024), 10_000) : get(server.port, '/big.bin', 10_000),
    ),
  )
  const duringStatuses = during.map((r) => r.status || r.error || 'closed')
  const wrong = during.filter((r) => r.status !== 0 && ![200, 201, 503].includes(r.status))
  const alive = server.child.exitCode === null

  for (const socket of sockets.splice(0)) socket.destroy()
  // The supervisor keeps its copy of a handed-off socket until the worker confirms it, and a
  // worker out of descriptors confirms nothing: those copies are closed by the sweep within 1-2 s
  // (docs/reliability.md, promise 9). Wait for the first answer, bounded, then expect every one.
  const recoveredAfter = Date.now()
  await waitFor(
    async () => {
      const r = await get(server.port, '/test.txt', 2000)
      return r.status === 200 ? true : undefined
    },
    10_000,
    'first answer after the descriptors came back',
  )
  console.log(`[exhaustion] first answer ${Date.now() - recoveredAfter} ms after the idle connections closed`)
  // Recovered: requests are served again, one after another (the descriptor limit is still
  // lowered, so a burst beyond it would be refused again, which is the behaviour under test above).
  const recovered: boolean[] = []
  for (let i = 0; i < 30; i++) {
    const r = await get(server.port, '/big.bin', 5000)
    recovered.push(r.status === 200 && r.exact && r.body.equals(big))
  }
  const afterUpload = await upload(server.port, random.bytes(64 * 1024))
  const after = await serverStats(server)
  const tally = (items: readonly (string | number)[]) => {
    const m = new Map<string | number, number>()
    for (const x of items) m.set(x, (m.get(x) ?? 0) + 1)
    return [...m.entries()].map(([k, n]) => `${k}: ${n}`).join(', ')
  }
  console.log(
    `[exhaustion] fd limit (${limits.join(', ')}), 300 idle connections held: 40 requests during -> ${tally(duringStatuses)}; ` +
      `supervisor alive ${alive}; worker restarts ${after.restarts}; after release ${recovered.filter(Boolean).length}/30 GETs ok, ` +
      `upload -> ${afterUpload.status}; listener errors logged: ${(server.stderr().match(/listener: /g) ?? []).length}`,
  )
  expect(alive).toBe(true)
  expect(wrong.map((r) => `${r.status}`)).toEqual([]) // wait, refuse or 503: never a wrong answer (404, 500)
  expect(recovered.every(Boolean)).toBe(true)
  expect(afterUpload.status).toBe(201)
  expect(after.permitsInUse).toBe(0)
})

test('connections beyond --max-connections get 503 with Retry-After, never a crash, and service resumes', async () => {
  // Idle connections hold no pool slot (a slot is taken once a request head is complete), so it
  // is the open-connection cap that turns them away here.
  const server = await startServer({
    args: [
      '--workers',
      '1',
      '--pool-size',
      '2',
      '--queue-size',
      '3',
      '--max-connections',
      '5',
      '--header-timeout',
      '3s',
    ],
  })
  servers.push(server)
  const before = await waitForHealthy(server, 1)
  // 40 idle connections: the 35 beyond the cap are answered 503 and closed at once, the 5 within
  // it stay open until the 3 s header timeout. Wait for the 35 answers (bounded), not for a fixed
  // time: on a slow machine they come later, and must not count as missing.
  const held: RawConnection[] = []
  const answers: RawExchange[] = []
  for (let i = 0; i < 40; i++) {
    const connection = openExchange(server.port, { timeoutMs: 60_000 })
    sockets.push(connection.socket)
    void connection.result.then((answer) => answers.push(answer))
    held.push(connection)
  }
  await waitFor(
    () => (answers.filter((a) => a.status === 503).length >= 35 ? true : undefined),
    20_000,
    '35 connections turned away',
  )
  // A burst of complete requests while pool and queue are full: each gets 503 (or 200 if a slot freed).
  const burst = await Promise.all(Array.from({ length: 200 }, () => get(server.port, '/test.txt')))
  const burstStatuses = burst.map((r) => r.status)
  for (const socket of sockets.splice(0)) socket.destroy()
  await Promise.all(held.map((connection) => connection.result))
  // Counted once every connection has ended: a 36th 503 (the cap off by one) would show here.
  const rejected = answers.filter((a) => a.status === 503)
  const withRetryAfter = rejected.filter((a) => a.headers.get('retry-after') === '1')
  await sleep(500)
  const after = await get(server.port, '/test.txt', 5000)
  const stats = await serverStats(server)
  console.log(
    `[exhaustion] max-connections 5, 40 idle connections: ${rejected.length} answered 503 at once (${withRetryAfter.length} with Retry-After: 1); ` +
      `burst of 200 GETs -> ${burstStatuses.filter((s) => s === 503).length} x 503, ${burstStatuses.filter((s) => s === 200).length} x 200, ` +
      `${burstStatuses.filter((s) => s !== 200 && s !== 503).length} other; worker restarts ${stats.restarts}; GET after -> ${after.status}`,
  )
  expect(rejected.length).toBe(35)
  expect(withRetryAfter.length).toBe(rejected.length)
  expect(burstStatuses.filter((s) => s !== 200 && s !== 503)).toEqual([])
  expect(stats.restarts).toBe(before.restarts)
  expect(after.status).toBe(200)
})

test('requests beyond pool plus queue get 503 with Retry-After, and the queued ones are served in turn', async () => {
  const server = await startServer({
    args: ['--workers', '1', '--pool-size', '2', '--queue-size', '3', '--max-posts', '10'],
  })
  servers.push(server)
  // Five uploads send their head and half their body: two hold the pool slots, three wait in the queue.
  const body = Buffer.alloc(2000, 7)
  const slow = Array.from({ length: 5 }, () => {
    const connection = openExchange(server.port, { timeoutMs: 60_000 })
    sockets.push(connection.socket)
    void connection.write(`POST /upload HTTP/1.0\r\nContent-Length: ${body.length}\r\n\r\n`)
    void connection.write(body.subarray(0, 1000))
    return connection
  })
  await sleep(500)
  const burst = await Promise.all(Array.from({ length: 20 }, () => get(server.port, '/test.txt', 5000)))
  const busy = burst.filter((r) => r.status === 503 && r.headers.get('retry-after') === '1')
  for (const connection of slow) connection.end(body.subarray(1000))
  const answers = await Promise.all(slow.map((connection) => connection.result))
  const after = await get(server.port, '/test.txt', 5000)
  console.log(
    `[exhaustion] pool 2 + queue 3 held by 5 slow uploads: ${busy.length}/20 GETs answered 503 with Retry-After; ` +
      `uploads -> ${answers.map((a) => a.status).join(' ')}; GET after -> ${after.status}`,
  )
  expect(busy.length).toBe(20)
  expect(answers.map((a) => a.status)).toEqual(Array(5).fill(201))
  expect(after.status).toBe(200)
})
