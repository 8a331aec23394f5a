import { spawnSync } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { acquireFileLock, type FileLockHandle, MIN_STALE_MS } from '../src/index.js'
import { selfIdentity } from '../src/process-identity.js'
import { exitWithin, killAllFixtures, startFixture } from './children.js'
import { findInterleaving } from './find-interleaving.js'

// Child processes start tsx on a shared 2-core machine: budgets are generous on purpose.
const STARTUP_MS = 60_000
const WRITERS = 8
const ROUNDS = 5
const BODIES = 3

let dir = ''
let lockPath = ''
const handles: FileLockHandle[] = []

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'threadserve-locking-'))
  lockPath = join(dir, 'server.pid')
})

afterEach(async () => {
  killAllFixtures()
  for (const handle of handles.splice(0)) handle.releaseSync()
  await rm(dir, { recursive: true, force: true })
})

describe('findInterleaving (the race checker)', () => {
  test('accepts complete blocks and reports an interrupted one', () => {
    const good = 'start 1 0\nbody 1 0 0\nend 1 0\nstart 2 0\nbody 2 0 0\nend 2 0\n'
    expect(findInterleaving(good, 2, 1, 1)).toEqual([])
    const bad = 'start 1 0\nstart 2 0\nbody 1 0 0\nend 1 0\nbody 2 0 0\nend 2 0\n'
    expect(findInterleaving(bad, 2, 1, 1)).not.toEqual([])
    expect(findInterleaving(good.slice(0, -9), 2, 1, 1)).not.toEqual([])
  })
})

describe('acquireFileLock across processes', () => {
  test(`${WRITERS} processes racing over one lock never interleave, starting from a dead holder's lock`, async () => {
    // Seed the lock with a record of a process that is gone, so the first round is also a race
    // to take over a dead holder: the case where delete-then-create locks let two processes in.
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'])
    await mkdir(`${lockPath}.lock`)
    const record = {
      v: 1,
      state: 'held',
      token: 'dead',
      ...selfIdentity(),
      pid: Number(gone.stdout.toString()),
      startTicks: null,
      staleMs: 60_000,
      acquiredAt: new Date().toISOString(),
    }
    await writeFile(join(`${lockPath}.lock`, '1'), JSON.stringify(record))
    const out = join(dir, 'out.txt')
    await writeFile(out, '')
    const writers = Array.from({ length: WRITERS }, (_, id) =>
      startFixture('append-under-lock.ts', [lockPath, out, String(id), String(ROUNDS)]),
    )
    const codes = await Promise.all(writers.map((writer) => exitWithin(writer, 120_000)))
    expect(codes).toEqual(writers.map(() => 0))
    expect(findInterleaving(await readFile(out, 'utf8'), WRITERS, ROUNDS, BODIES)).toEqual([])
  }, 180_000)

  test(
    'a second process fails at once with LOCKED, naming the holder',
    async () => {
      const holder = startFixture('hold-lock.ts', [lockPath, String(MIN_STALE_MS)])
      await holder.waitForEvent('locked', STARTUP_MS)
      const error = await acquireFileLock(lockPath).catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'LOCKED' })
      expect((error as Error).message).toContain(`pid ${holder.pid}`)
    },
    STARTUP_MS + 10_000,
  )

  test(
    'a holder killed with SIGKILL does not block the next acquirer at all',
    async () => {
      const holder = startFixture('hold-lock.ts', [lockPath, '60000'])
      await holder.waitForEvent('locked', STARTUP_MS)
      process.kill(holder.pid, 'SIGKILL')
      expect(await holder.exited).toBe('SIGKILL')
      // Its pid is gone on this host: no need to wait for its 60 s lease, waitMs 0 succeeds.
      const next = await acquireFileLock(lockPath)
      handles.push(next)
      expect(next.compromised).toBe(false)
    },
    STARTUP_MS + 10_000,
  )

  test(
    'a frozen holder loses the lock after staleMs and, thawed, reports it compromised without crashing',
    async () => {
      const staleMs = 4000
      const holder = startFixture('hold-lock.ts', [lockPath, String(staleMs)])
      await holder.waitForEvent('locked', STARTUP_MS)
      process.kill(holder.pid, 'SIGSTOP') // alive, pid present, but no longer refreshing its lease
      try {
        await expect(acquireFileLock(lockPath)).rejects.toMatchObject({ code: 'LOCKED' })
        const waitStartedMs = performance.now()
        const next = await acquireFileLock(lockPath, { waitMs: 60_000 })
        handles.push(next)
        // Time-based behaviour, so a generous bound: at most the lease plus slack for a busy machine.
        expect(performance.now() - waitStartedMs).toBeLessThan(staleMs + 20_000)
      } finally {
        process.kill(holder.pid, 'SIGCONT')
      }
      expect(await holder.waitForEvent('compromised', 30_000)).toMatchObject({ code: 'COMPROMISED' })
      const aliveAfter = holder.events.length
      await new Promise((resolve) => setTimeout(resolve, 600))
      expect(holder.events.length).toBeGreaterThan(aliveAfter) // still running: the report did not throw
      expect(handles[0]?.compromised).toBe(false)
    },
    STARTUP_MS + 90_000,
  )
})
