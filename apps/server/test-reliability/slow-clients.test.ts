import { afterAll, expect, test } from 'vitest'
import { exchange, openExchange, type RawConnection } from '../test/helpers/raw-exchange.js'
import { type RunningServer, startServer } from '../test/helpers/server-process.js'
import { percentile, sleep, waitForHealthy } from './helpers/reliability.js'

// Slow and idle clients (docs/reliability.md, promise 7): 1,000 idle connections plus 200 clients
// sending one byte per second must not keep normal GETs from being answered, and every one of them
// must be closed by the server's header timeout, not before it. The GET latency without and with
// them is measured and printed for comparison; it is not asserted, since a latency bound is a
// speed check that a loaded machine can fail without any fault in the server.
// Run twice: with the default pool and queue (what a user gets), and with a pool large enough to
// hold every held connection (which isolates the timeouts from admission).

const WORKERS = 2
const HEADER_TIMEOUT_MS = 8000
const IDLE = 1000
const SLOW = 200
const MEASURE_MS = 3000
const GET_LANES = 4
// Bounds on waiting only: how long a GET, or the last held connection, may take before the test
// stops waiting for it. Generous, so that a slow machine delays the test instead of failing it.
const WAIT_SLACK_MS = 20_000

interface Held {
  readonly kind: 'idle' | 'slow'
  readonly openedAt: number
  /** When the server closed it (FIN or reset); null while open or when we closed it. */
  closedAt: number | null
  /** Status of the server's answer, 0 when it sent none. */
  status: number
}

let server: RunningServer | undefined
const connections: RawConnection[] = []
afterAll(async () => {
  for (const connection of connections) connection.destroy()
  await server?.stop()
})

async function measureGets(port: number, ms: number): Promise<{ latencies: number[]; failures: string[] }> {
  const latencies: number[] = []
  const failures: string[] = []
  const until = Date.now() + ms
  await Promise.all(
    Array.from({ length: GET_LANES }, async () => {
      while (Date.now() < until) {
        const started = performance.now()
        const result = await exchange(port, 'GET /test.txt HTTP/1.0\r\n\r\n', {
          halfClose: true,
          timeoutMs: HEADER_TIMEOUT_MS + WAIT_SLACK_MS,
        })
        latencies.push(performance.now() - started)
        if (result.status !== 200) failures.push(`${result.status} ${result.error ?? ''}`)
      }
    }),
  )
  return { latencies, failures }
}

/** Opens a connection that stays idle, or sends a request one byte per second; resolves once connected. */
async function hold(port: number, kind: 'idle' | 'slow', held: Held[]): Promise<void> {
  const record: Held = { kind, openedAt: Date.now(), closedAt: null, status: 0 }
  held.push(record)
  // Our own deadline is past the whole test: only the server closes these in time.
  const connection = openExchange(port, { timeoutMs: 5 * 60_000 })
  connections.push(connection)
  void connection.result.then((result) => {
    if (result.closedBy === 'server' || result.closedBy === 'error') record.closedAt = result.endedAt
    record.status = result.status
  })
  if (!(await connection.connected) || kind === 'idle') return
  void (async () => {
    for (const byte of 'GET /test.txt HTTP/1.0\r\nUser-Agent: one-byte-per-second\r\n\r\n') {
      if (connection.socket.destroyed) return
      await connection.write(byte)
      await sleep(1000)
    }
  })()
}

test.each([
  { setup: 'the default pool and queue', args: [] },
  { setup: 'a pool of 700 per worker', args: ['--pool-size', '700'] },
])(
  'with $setup, 1,000 idle and 200 one-byte-per-second clients: normal GETs are all answered, and the held ones closed by the timeouts',
  async ({ setup, args }) => {
    await server?.stop()
    for (const connection of connections.splice(0)) connection.destroy()
    server = await startServer({
      args: ['--workers', String(WORKERS), '--header-timeout', `${HEADER_TIMEOUT_MS}ms`, '--log', '/dev/null', ...args],
    })
    const running = server
    await waitForHealthy(running, WORKERS)
    await measureGets(running.port, 500) // warm-up (JIT, file cache)
    const quiet = await measureGets(running.port, MEASURE_MS)

    const held: Held[] = []
    const openedAt = Date.now()
    await Promise.all([
      ...Array.from({ length: IDLE }, () => hold(running.port, 'idle', held)),
      ...Array.from({ length: SLOW }, () => hold(running.port, 'slow', held)),
    ])
    const openMs = Date.now() - openedAt
    await sleep(300)
    const loaded = await measureGets(running.port, MEASURE_MS)
    const stillOpenAfterMeasuring = held.filter((h) => h.closedAt === null).length

    // Every held connection is closed by the server at its header timeout: wait for that, bounded.
    const deadline = Date.now() + HEADER_TIMEOUT_MS + WAIT_SLACK_MS
    while (Date.now() < deadline && held.some((h) => h.closedAt === null)) await sleep(100)
    const open = held.filter((h) => h.closedAt === null)
    // Not before the header timeout: a lower bound, measured from before connecting (so never
    // shorter than the server's own timer), which a slow machine cannot break.
    const early = held.filter((h) => h.closedAt !== null && h.closedAt - h.openedAt < HEADER_TIMEOUT_MS - 500)
    const answers = new Map<string, number>()
    for (const h of held) {
      const key = `${h.kind} ${h.status === 0 ? 'no answer' : h.status}`
      answers.set(key, (answers.get(key) ?? 0) + 1)
    }
    const quietP99 = percentile(quiet.latencies, 99)
    const loadedP99 = percentile(loaded.latencies, 99)
    const ms = (n: number) => n.toFixed(2)
    console.log(
      `[slow-clients] ${setup}: GET without: ${quiet.latencies.length} requests, p50 ${ms(percentile(quiet.latencies, 50))} ms, p99 ${ms(quietP99)} ms; ` +
        `with ${IDLE} idle + ${SLOW} slow (opened in ${openMs} ms, ${stillOpenAfterMeasuring} still open after measuring): ` +
        `${loaded.latencies.length} requests, p50 ${ms(percentile(loaded.latencies, 50))} ms, p99 ${ms(loadedP99)} ms, ` +
        `${loaded.failures.length} failed; ratio ${(loadedP99 / quietP99).toFixed(2)}x; ` +
        `held connections: ${[...answers.entries()].map(([k, n]) => `${k}: ${n}`).join(', ')}; ` +
        `closed before the header timeout ${early.length}, not closed by the server ${open.length}`,
    )
    expect(quiet.failures).toEqual([])
    expect(loaded.failures.slice(0, 5)).toEqual([])
    expect(loaded.latencies.length).toBeGreaterThanOrEqual(GET_LANES) // every lane got answers meanwhile
    expect(stillOpenAfterMeasuring).toBe(IDLE + SLOW) // the measurement really ran with all of them open
    expect(open.length).toBe(0)
    expect(early.length).toBe(0)
    expect(answers.get('slow 408')).toBe(SLOW)
  },
)
