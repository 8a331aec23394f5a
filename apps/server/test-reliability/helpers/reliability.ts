import { createHash } from 'node:crypto'
import type { RunningServer } from '../../test/helpers/server-process.js'
import { waitFor } from '../../test/helpers/server-process.js'

// Shared by the reliability suite: a seeded PRNG (so every random run can be replayed), the
// SIGUSR2 stats line, and small numeric helpers. Raw exchanges with the server go through
// ../../test/helpers/raw-exchange.ts, like in the other tests; traffic goes to 127.0.0.1 only.

/** A small, fast, seedable PRNG (mulberry32): the same seed gives the same run. */
export interface Random {
  readonly seed: number
  /** A float in [0, 1). */
  next(): number
  /** An integer in [0, n). */
  int(n: number): number
  pick<T>(items: readonly T[]): T
  bytes(length: number): Buffer
}

export function createRandom(seed: number): Random {
  let state = seed >>> 0
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number): number => Math.floor(next() * n)
  return {
    seed,
    next,
    int,
    pick: <T>(items: readonly T[]): T => items[int(items.length)] as T,
    bytes(length: number): Buffer {
      const out = Buffer.allocUnsafe(length)
      let i = 0
      for (; i + 4 <= length; i += 4) out.writeUInt32LE((next() * 4294967296) >>> 0, i)
      for (; i < length; i++) out[i] = int(256)
      return out
    },
  }
}

/**
 * The seed of one randomised test: `THREADSERVE_SEED` (replay) or a fresh one, printed either way
 * so that a failing run can be replayed with `THREADSERVE_SEED=<n> pnpm test:reliability`.
 */
export function seedFor(testName: string): number {
  const fromEnv = process.env.THREADSERVE_SEED
  const seed =
    fromEnv !== undefined && fromEnv !== '' ? Number(fromEnv) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0
  console.log(`[${testName}] seed ${seed} (replay: THREADSERVE_SEED=${seed})`)
  return seed
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex')
}

export interface ServerStats {
  readonly permitsInUse: number
  readonly restarts: number
  readonly pendingConnections: number
  readonly workers: readonly { readonly id: number; readonly pid: number; readonly ready: boolean }[]
}

const statsQueue = new WeakMap<RunningServer, Promise<unknown>>()

/** Sends SIGUSR2 and reads the JSON stats line it prints (one request at a time per server). */
export function serverStats(server: RunningServer, timeoutMs = 5000): Promise<ServerStats> {
  const previous = statsQueue.get(server) ?? Promise.resolve()
  const next = previous
    .catch(() => {})
    .then(async () => {
      const before = server.stdout().length
      process.kill(server.pid, 'SIGUSR2')
      const line = await waitFor(
        () => {
          const text = server.stdout().slice(before)
          const start = text.indexOf('{"permitsInUse"')
          if (start === -1) return undefined
          const end = text.indexOf('\n', start)
          return end === -1 ? undefined : text.slice(start, end)
        },
        timeoutMs,
        'SIGUSR2 stats line',
      )
      return JSON.parse(line) as ServerStats
    })
  statsQueue.set(server, next)
  return next
}

/** Resolves once every worker slot is filled by a ready worker and `check` holds. */
export function waitForHealthy(
  server: RunningServer,
  workers: number,
  check: (stats: ServerStats) => boolean = () => true,
  timeoutMs = 20_000,
): Promise<ServerStats> {
  return waitFor(
    async () => {
      const stats = await serverStats(server, 2000)
      const healthy = stats.workers.length === workers && stats.workers.every((w) => w.ready)
      return healthy && check(stats) ? stats : undefined
    },
    timeoutMs,
    'all workers ready',
  )
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[index] as number
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Timestamps each stderr line of the server as it arrives (to place supervisor events in time). */
export function recordStderrLines(server: RunningServer): { at: number; line: string }[] {
  const lines: { at: number; line: string }[] = []
  let partial = ''
  server.child.stderr?.on('data', (text: string) => {
    partial += text
    let newline = partial.indexOf('\n')
    while (newline !== -1) {
      lines.push({ at: Date.now(), line: partial.slice(0, newline) })
      partial = partial.slice(newline + 1)
      newline = partial.indexOf('\n')
    }
  })
  return lines
}
