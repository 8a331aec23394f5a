import { spawnSync } from 'node:child_process'
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import { acquireFileLock, type FileLockHandle, LockError, type LockErrorCode, MIN_STALE_MS } from '../src/index.js'
import { readStartTicks } from '../src/process-identity.js'
import { findInterleaving } from './find-interleaving.js'

let dir = ''
let lockPath = ''
const handles: FileLockHandle[] = []

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'threadserve-locking-'))
  lockPath = join(dir, 'server.pid')
})

afterEach(async () => {
  for (const handle of handles.splice(0)) handle.releaseSync()
  await rm(dir, { recursive: true, force: true })
})

async function lock(options: Parameters<typeof acquireFileLock>[1] = {}): Promise<FileLockHandle> {
  const handle = await acquireFileLock(lockPath, options)
  handles.push(handle)
  return handle
}

/** Takes and releases a lock beside the one under test, leaving a record of this process to copy. */
async function seedProbe(): Promise<string> {
  const probe = join(dir, 'probe.pid')
  await (await acquireFileLock(probe)).release()
  return probe
}

async function codeOf(promise: Promise<unknown>): Promise<LockErrorCode | 'resolved'> {
  try {
    await promise
    return 'resolved'
  } catch (error) {
    if (error instanceof LockError) return error.code
    throw error
  }
}

describe('acquireFileLock in one process', () => {
  test('waitMs 0 fails at once with LOCKED while the lock is held', async () => {
    const held = await lock()
    expect(held.path).toBe(lockPath)
    await expect(acquireFileLock(lockPath)).rejects.toMatchObject({ code: 'LOCKED', status: 503 })
  })

  test('release then re-acquire works', async () => {
    const first = await lock()
    await first.release()
    const second = await lock()
    expect(second.compromised).toBe(false)
  })

  test('releaseSync frees the lock', async () => {
    const first = await lock()
    first.releaseSync()
    await lock()
  })

  test('releasing twice does nothing the second time', async () => {
    const first = await lock()
    await first.release()
    const second = await lock()
    await first.release()
    first.releaseSync()
    await expect(acquireFileLock(lockPath)).rejects.toMatchObject({ code: 'LOCKED' })
    await second.release()
  })

  test('releasing after the lock directory was deleted does not throw', async () => {
    const held = await acquireFileLock(lockPath)
    await rm(`${lockPath}.lock`, { recursive: true })
    await held.release()
    await lock()
  })

  test('a waiter gets the lock once the holder releases it', async () => {
    const first = await lock()
    setTimeout(() => void first.release(), 50)
    const second = await lock({ waitMs: 30_000 })
    expect(second.compromised).toBe(false)
  })

  test('a waiter gives up with TIMEOUT after waitMs', async () => {
    await lock()
    expect(await codeOf(acquireFileLock(lockPath, { waitMs: 30 }))).toBe('TIMEOUT')
  })

  test('a waiter gives up with ABORTED when its signal aborts', async () => {
    await lock()
    const controller = new AbortController()
    const waiting = acquireFileLock(lockPath, { waitMs: 60_000, signal: controller.signal })
    setTimeout(() => controller.abort(), 20)
    expect(await codeOf(waiting)).toBe('ABORTED')
  })

  test('concurrent acquirers in one process never overlap', async () => {
    const out = join(dir, 'out.txt')
    const writer = async (id: number): Promise<void> => {
      const held = await acquireFileLock(lockPath, { waitMs: 60_000 })
      await appendFile(out, `start ${id} 0\n`)
      await appendFile(out, `body ${id} 0 0\n`)
      await appendFile(out, `end ${id} 0\n`)
      await held.release()
    }
    await Promise.all(Array.from({ length: 10 }, (_, id) => writer(id)))
    expect(findInterleaving(await readFile(out, 'utf8'), 10, 1, 1)).toEqual([])
  })

  test('many acquirers racing to take over a dead holder: exactly one wins', async () => {
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'])
    const me = JSON.parse(await readFile(join(`${await seedProbe()}.lock`, '1'), 'utf8')) as Record<string, unknown>
    await mkdir(`${lockPath}.lock`)
    const dead = { ...me, state: 'held', pid: Number(gone.stdout.toString()), startTicks: null }
    await writeFile(join(`${lockPath}.lock`, '1'), JSON.stringify(dead))
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, () => codeOf(acquireFileLock(lockPath).then((handle) => handles.push(handle)))),
    )
    expect(outcomes.filter((outcome) => outcome === 'resolved')).toHaveLength(1)
    expect(outcomes.filter((outcome) => outcome === 'LOCKED')).toHaveLength(11)
  })

  test('old generations are collected, so the lock directory stays small', async () => {
    for (let i = 0; i < 5; i++) await (await acquireFileLock(lockPath)).release()
    expect(await readdir(`${lockPath}.lock`)).toEqual(['5'])
  })

  test.each([
    { name: 'negative waitMs', options: { waitMs: -1 } },
    { name: 'NaN staleMs', options: { staleMs: Number.NaN } },
    { name: 'infinite staleMs', options: { staleMs: Number.POSITIVE_INFINITY } },
  ])('$name is INVALID_ARGUMENT', async ({ options }) => {
    expect(await codeOf(acquireFileLock(lockPath, options))).toBe('INVALID_ARGUMENT')
  })

  test('a missing parent directory is IO_FAILED', async () => {
    expect(await codeOf(acquireFileLock(join(dir, 'missing', 'server.pid')))).toBe('IO_FAILED')
  })
})

describe('judging the record someone else left', () => {
  // A real record of this process, as a template for records of other processes.
  async function template(): Promise<Record<string, unknown>> {
    return JSON.parse(await readFile(join(`${await seedProbe()}.lock`, '1'), 'utf8')) as Record<string, unknown>
  }

  function deadPid(): number {
    const exited = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'])
    return Number(exited.stdout.toString())
  }

  const live = process.ppid // the test runner's parent runs as long as this test does
  const cases: {
    name: string
    record: (me: Record<string, unknown>) => Record<string, unknown> | string
    ageMs: number
    expected: 'LOCKED' | 'resolved'
  }[] = [
    { name: 'a released record is free', record: (me) => me, ageMs: 0, expected: 'resolved' },
    {
      name: 'a live process on this host holds it',
      record: (me) => ({ ...me, state: 'held', pid: live, startTicks: readStartTicks(live) }),
      ageMs: 0,
      expected: 'LOCKED',
    },
    {
      name: 'a dead process on this host is taken over at once',
      record: (me) => ({ ...me, state: 'held', pid: deadPid(), startTicks: null }),
      ageMs: 0,
      expected: 'resolved',
    },
    {
      name: 'a reused pid (other start time) is taken over at once',
      record: (me) => ({ ...me, state: 'held', pid: live, startTicks: (readStartTicks(live) ?? 0) + 1 }),
      ageMs: 0,
      expected: 'resolved',
    },
    {
      name: 'an earlier process with our pid is taken over at once',
      record: (me) => ({ ...me, state: 'held', startTicks: (me.startTicks as number) - 1, token: 'old' }),
      ageMs: 0,
      expected: 'resolved',
    },
    {
      name: 'a holder on another host holds it for its own staleMs, not ours',
      record: (me) => ({ ...me, state: 'held', host: 'elsewhere', staleMs: 60_000 }),
      ageMs: 30_000,
      expected: 'LOCKED',
    },
    {
      name: 'a holder on another host holds it while fresh',
      record: (me) => ({ ...me, state: 'held', host: 'elsewhere' }),
      ageMs: 0,
      expected: 'LOCKED',
    },
    {
      name: 'a holder on another host loses it after its staleMs',
      record: (me) => ({ ...me, state: 'held', host: 'elsewhere', staleMs: MIN_STALE_MS }),
      ageMs: MIN_STALE_MS + 1000,
      expected: 'resolved',
    },
    {
      name: 'a live holder that stopped refreshing loses it after its staleMs',
      record: (me) => ({ ...me, state: 'held', pid: live, startTicks: readStartTicks(live), staleMs: MIN_STALE_MS }),
      ageMs: MIN_STALE_MS + 1000,
      expected: 'resolved',
    },
    { name: 'an unreadable record holds it while fresh', record: () => '{"v":1,', ageMs: 0, expected: 'LOCKED' },
    {
      name: 'an unreadable record is free after staleMs',
      record: () => 'garbage',
      ageMs: 10_000 + 1000,
      expected: 'resolved',
    },
  ]

  test.each(cases)('$name', async ({ record, ageMs, expected }) => {
    const me = await template()
    const content = record(me)
    await mkdir(`${lockPath}.lock`)
    const file = join(`${lockPath}.lock`, '7')
    await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content))
    const at = new Date(Date.now() - ageMs)
    await utimes(file, at, at)
    const attempt = acquireFileLock(lockPath)
    const outcome = await codeOf(attempt.then((handle) => handles.push(handle)))
    expect(outcome).toBe(expected)
    if (expected === 'resolved') expect((await readdir(`${lockPath}.lock`)).sort()).toEqual(['8'])
  })
})

describe('a lock lost while held', () => {
  test('is reported to onCompromised once another process took the next generation', async () => {
    const reports: LockError[] = []
    const held = await lock({ staleMs: MIN_STALE_MS, onCompromised: (error) => reports.push(error) })
    // What a process that judged us stale would leave: the next generation, held by someone else.
    const me = JSON.parse(await readFile(join(`${lockPath}.lock`, '1'), 'utf8')) as Record<string, unknown>
    await writeFile(join(`${lockPath}.lock`, '2'), JSON.stringify({ ...me, host: 'elsewhere', token: 'thief' }))
    await vi.waitFor(() => expect(reports.map((error) => error.code)).toEqual(['COMPROMISED']), {
      timeout: 10_000,
      interval: 50,
    })
    expect(held.compromised).toBe(true)
    await held.release() // must not touch the new holder's record
    expect(JSON.parse(await readFile(join(`${lockPath}.lock`, '2'), 'utf8'))).toMatchObject({ token: 'thief' })
  })

  test('is reported when its directory is deleted, and a throwing handler does not crash the process', async () => {
    const warnings: Error[] = []
    const onWarning = (warning: Error): void => {
      warnings.push(warning)
    }
    process.on('warning', onWarning)
    try {
      const held = await lock({
        staleMs: MIN_STALE_MS,
        onCompromised: () => {
          throw new Error('handler bug')
        },
      })
      await rm(`${lockPath}.lock`, { recursive: true })
      await vi.waitFor(() => expect(held.compromised).toBe(true), { timeout: 10_000, interval: 50 })
      await vi.waitFor(() => expect(warnings.map((w) => (w as LockError).code)).toContain('COMPROMISED'), {
        timeout: 5000,
      })
    } finally {
      process.off('warning', onWarning)
    }
  })
})
