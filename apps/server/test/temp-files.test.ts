import { spawn } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import {
  computeHostTag,
  isProcessAlive,
  ownHostTag,
  removeWorkerTempFiles,
  STALE_TEMP_AGE_MS,
  sweepTempFiles,
  tempFileOwner,
  tempName,
} from '../src/uploads/temp-files.js'
import { childPids, waitFor } from './helpers/server-process.js'

// Temp-file names carry their writer (host tag and pid), so that hosts sharing one upload
// directory each sweep only their own leftovers, plus anything untouched for a day.

const OURS = 'aaaaaaaa'
const THEIRS = 'bbbbbbbb'
const LIVE_PID = 1111
const DEAD_PID = 2222
const isAlive = (pid: number): boolean => pid === LIVE_PID

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'threadserve-temp-files-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function plant(name: string, ageMs = 0): Promise<string> {
  const file = path.join(dir, name)
  await writeFile(file, 'half an upload')
  const seconds = (Date.now() - ageMs) / 1000
  await utimes(file, seconds, seconds)
  return name
}

const named = (host: string, pid: number, random = '0123456789ab'): string => `.upload-${host}-${pid}-${random}.part`

describe('names', () => {
  test('a temp name is hidden and names its host and pid', () => {
    const name = tempName(4242, OURS)
    expect(name).toMatch(/^\.upload-aaaaaaaa-4242-[0-9a-f]{12}\.part$/)
    expect(tempFileOwner(name)).toEqual({ host: OURS, pid: 4242 })
  })

  test.each([
    '.upload-4242-0123456789ab.part', // an earlier version's form: no host
    '.upload-aaaaaaaa-0-0123456789ab.part',
    '.upload-aaaaaaaa-4242-0123456789ab.txt',
    '.upload-AAAAAAAA-4242-0123456789ab.part',
    '.upload-aaaaaaaa-4242-0123456789ab-x.part',
    'upload-aaaaaaaa-4242-0123456789ab.part',
  ])('%s has no owner that a sweep could judge', (name) => {
    expect(tempFileOwner(name)).toBeNull()
  })

  test('the host tag is 8 hex digits, the same in every process of a host, and differs by host name and boot', () => {
    const read = (boot: string) => (file: string) => (file.endsWith('boot_id') ? `${boot}\n` : '')
    const link = () => 'pid:[4026531836]'
    const tag = computeHostTag('web-1', read('boot-a'), link)
    expect(tag).toMatch(/^[0-9a-f]{8}$/)
    expect(computeHostTag('web-1', read('boot-a'), link)).toBe(tag)
    expect(computeHostTag('web-2', read('boot-a'), link)).not.toBe(tag)
    expect(computeHostTag('web-1', read('boot-b'), link)).not.toBe(tag)
    expect(computeHostTag('web-1', read('boot-a'), () => 'pid:[4026532000]')).not.toBe(tag)
    expect(ownHostTag()).toBe(computeHostTag())
  })

  test('without /proc the host name alone makes the tag', () => {
    const missing = (): string => {
      throw new Error('ENOENT')
    }
    expect(computeHostTag('web-1', missing, missing)).toMatch(/^[0-9a-f]{8}$/)
  })

  test('our own process is alive, and a pid above any pid_max is not', () => {
    expect(isProcessAlive(process.pid)).toBe(true)
    expect(isProcessAlive(2 ** 30)).toBe(false)
  })

  test('a zombie is not alive', async () => {
    // `sleep 0` exits at once; its parent becomes `sleep 5`, which never reaps it.
    const parent = spawn('sh', ['-c', 'sleep 0 & exec sleep 5'], { stdio: 'ignore' })
    try {
      const zombie = await waitFor(async () => {
        const [pid] = (await childPids(parent.pid as number)).filter((child) => child !== parent.pid)
        if (pid === undefined) return undefined
        return (await readFile(`/proc/${pid}/stat`, 'latin1')).includes(') Z ') ? pid : undefined
      })
      expect(isProcessAlive(parent.pid as number)).toBe(true)
      expect(isProcessAlive(zombie)).toBe(false)
    } finally {
      parent.kill('SIGKILL')
    }
  })
})

describe('the start-up sweep', () => {
  test("removes this host's files whose writer is dead, and keeps live writers' and other hosts' files", async () => {
    const dead = await plant(named(OURS, DEAD_PID))
    const live = await plant(named(OURS, LIVE_PID))
    const otherHostDead = await plant(named(THEIRS, DEAD_PID))
    const otherHostLive = await plant(named(THEIRS, LIVE_PID))
    const removed = await sweepTempFiles(dir, { host: OURS, isAlive })
    expect(removed).toBe(1)
    const left = await readdir(dir)
    expect(left).not.toContain(dead)
    expect(left.sort()).toEqual([live, otherHostDead, otherHostLive].sort())
  })

  test('removes any temp file untouched for the stale age, whoever wrote it, and nothing else', async () => {
    const stale = [
      await plant(named(THEIRS, LIVE_PID), STALE_TEMP_AGE_MS + 60_000),
      await plant(named(OURS, LIVE_PID, 'ffffffffffff'), STALE_TEMP_AGE_MS + 60_000),
      await plant('.upload-4242-0123456789ab.part', STALE_TEMP_AGE_MS + 60_000),
    ]
    const fresh = [
      await plant(named(THEIRS, LIVE_PID, '111111111111'), STALE_TEMP_AGE_MS - 60_000),
      await plant('.upload-4243-0123456789ab.part'),
      await plant('.upload-notes.txt', STALE_TEMP_AGE_MS * 2),
      await plant('2026-01-01T00-00-00-000Z-01234567.bin', STALE_TEMP_AGE_MS * 2),
    ]
    expect(await sweepTempFiles(dir, { host: OURS, isAlive })).toBe(stale.length)
    expect((await readdir(dir)).sort()).toEqual(fresh.sort())
  })

  test("never removes the caller's own pid's files", async () => {
    const own = await plant(named(OURS, process.pid))
    expect(await sweepTempFiles(dir, { host: OURS, isAlive: () => false })).toBe(0)
    expect(await readdir(dir)).toEqual([own])
  })

  test('a missing directory is nothing to sweep', async () => {
    expect(await sweepTempFiles(path.join(dir, 'missing'), { host: OURS })).toBe(0)
  })
})

describe("a dead worker's sweep", () => {
  test("removes only that pid's files of this host", async () => {
    const mine = [await plant(named(OURS, DEAD_PID)), await plant(named(OURS, DEAD_PID, 'ffffffffffff'))]
    const kept = [
      await plant(named(OURS, 22220)),
      await plant(named(THEIRS, DEAD_PID)),
      await plant(named(OURS, LIVE_PID)),
      await plant(`.upload-${DEAD_PID}-0123456789ab.part`),
    ]
    expect(await removeWorkerTempFiles(dir, DEAD_PID, OURS)).toBe(mine.length)
    expect((await readdir(dir)).sort()).toEqual(kept.sort())
  })
})
