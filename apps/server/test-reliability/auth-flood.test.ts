import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { afterAll, expect, test } from 'vitest'
import { type RunningServer, startServer } from '../test/helpers/server-process.js'
import {
  compareP99,
  describeRun,
  NORMAL_USER_AGENT,
  type NormalRequest,
  runNormalClient,
  tallyFailures,
} from './helpers/normal-client.js'
import { percentile, serverStats, sleep, waitForHealthy } from './helpers/reliability.js'

// A flood of wrong passwords against --upload-auth with --auth-all (docs/reliability.md, "Slow
// attacks by real tools"). Every distinct wrong password costs an scrypt check (tens of ms, 16
// MiB); a worker runs at most 2 at once, lets 64 more wait and answers 503 beyond, and a request
// waiting for its check holds no pool slot. Credentials a worker has accepted once are
// remembered and cost no scrypt, so a normal client with the right password, measured before and
// during the flood in the same run, must be served every time (200, never 503); its p99 is printed.

const FLOOD_SCRIPT = fileURLToPath(new URL('./fixtures/auth-flood.mjs', import.meta.url))
const WORKERS = 2 // startServer's default
const FLOOD_LANES = 300
const MEASURE_MS = 6000
/** The flood starts this long before the normal client measures, and ends after it. */
const FLOOD_LEAD_MS = 1000
const FLOOD_MS = FLOOD_LEAD_MS + MEASURE_MS + 1000
/** Per lane, whatever the time: the flood is bounded in count as well. */
const MAX_PER_LANE = 2000

const basic = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`

const FILE = randomBytes(1024)
const NORMAL: NormalRequest = {
  path: '/normal-1k.bin',
  body: FILE,
  headers: { Authorization: basic('user', 'password') },
}

let server: RunningServer | undefined
afterAll(async () => {
  await server?.stop()
})

interface FloodResult {
  readonly requests: number
  readonly ms: number
  /** Answers by status ('0': none). */
  readonly statuses: Readonly<Record<string, number>>
}

const flooders: ChildProcess[] = []
afterAll(() => {
  for (const child of flooders) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
})

/** Runs fixtures/auth-flood.mjs (its own process) and resolves with what it printed. */
function flood(port: number, durationMs: number): Promise<FloodResult> {
  const args = [FLOOD_SCRIPT, String(port), String(FLOOD_LANES), String(durationMs), String(MAX_PER_LANE), NORMAL.path]
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  flooders.push(child)
  let out = ''
  child.stdout?.setEncoding('utf8').on('data', (text: string) => {
    out += text
  })
  // Bounded: its lanes stop at durationMs, and the last answers come within its 30 s deadline.
  const timer = setTimeout(() => child.kill('SIGKILL'), durationMs + 45_000)
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      clearTimeout(timer)
      if (code === 0) resolve(JSON.parse(out) as FloodResult)
      else reject(new Error(`auth-flood.mjs exited with ${code}: ${out}`))
    })
  })
}

const ms2 = (value: number): string => value.toFixed(2)

/**
 * How long the worker spent on each request, from its first byte to its answer (the access
 * log's duration_ms): the normal client's 200s and the flood's 401s.
 */
async function serverSideTimes(
  server: RunningServer,
  from: number,
  to: number,
): Promise<{ normal: number[]; refused: number[] }> {
  const normal: number[] = []
  const refused: number[] = []
  for (const line of (await readFile(server.logPath, 'utf8')).split('\n')) {
    if (line === '') continue
    const record = JSON.parse(line) as { time: string; status: number; duration_ms: number; user_agent: string | null }
    const at = Date.parse(record.time)
    if (at < from || at > to) continue
    if (record.user_agent === NORMAL_USER_AGENT && record.status === 200) normal.push(record.duration_ms)
    else if (record.status === 401) refused.push(record.duration_ms)
  }
  return { normal, refused }
}

test('a flood of 300 concurrent wrong passwords: the client with the right one gets 200 every time, the flood only 401 or 503, and no worker dies', async () => {
  server = await startServer({
    args: ['--upload-auth', 'user:password', '--auth-all', '--log-format', 'json'],
    files: { 'normal-1k.bin': FILE },
  })
  const running = server
  const before = await waitForHealthy(running, WORKERS)
  // Warm-up: each worker checks the right password once (one scrypt) and remembers it.
  await runNormalClient(running.port, NORMAL, 500)
  const quiet = await runNormalClient(running.port, NORMAL, MEASURE_MS)

  const flooding = flood(running.port, FLOOD_MS)
  await sleep(FLOOD_LEAD_MS)
  const measuredFrom = Date.now()
  const loaded = await runNormalClient(running.port, NORMAL, MEASURE_MS)
  const measuredTo = Date.now()
  const { statuses, requests, ms } = await flooding
  const after = await serverStats(running)
  const served = await serverSideTimes(running, measuredFrom, measuredTo)

  const refused = statuses['401'] ?? 0
  console.log(
    `[auth-flood] ${compareP99(quiet, loaded, 'flood')}; without: ${describeRun(quiet)}; with: ${describeRun(loaded)} ` +
      `(failures: ${tallyFailures(loaded.failures)}); flood: ${requests} requests from ${FLOOD_LANES} lanes in ${ms} ms, ` +
      `${Object.entries(statuses)
        .map(([status, n]) => `${status} x ${n}`)
        .join(', ')} ` +
      `(${((refused * 1000) / ms).toFixed(0)} scrypt checks/s); worker restarts ${after.restarts - before.restarts}; ` +
      `time in the worker (access log): normal client's 200s p50 ${ms2(percentile(served.normal, 50))} ms, ` +
      `p99 ${ms2(percentile(served.normal, 99))} ms, max ${ms2(Math.max(...served.normal))} ms (no scrypt); ` +
      `the flood's 401s p50 ${ms2(percentile(served.refused, 50))} ms, p99 ${ms2(percentile(served.refused, 99))} ms`,
  )
  // The right password is checked once per worker (the warm-up) and remembered: a flood of
  // wrong ones never makes the normal client wait for a check, only for the CPU.
  expect(quiet.failures).toEqual([])
  expect(loaded.failures.slice(0, 5)).toEqual([])
  expect(loaded.latenciesMs.length).toBeGreaterThan(0)
  expect(Object.keys(statuses).filter((status) => status !== '401' && status !== '503')).toEqual([])
  expect(refused).toBeGreaterThan(0) // wrong passwords were checked, not only turned away
  expect(after.restarts).toBe(before.restarts)
  expect(after.workers.map((w) => w.pid)).toEqual(before.workers.map((w) => w.pid))
})
