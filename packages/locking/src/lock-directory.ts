import { randomUUID } from 'node:crypto'
import * as fs from 'node:fs'
import * as fsp from 'node:fs/promises'
import { join } from 'node:path'
import { isDeadOnThisHost, type ProcessIdentity, selfIdentity } from './process-identity.js'

/**
 * The shortest lease a holder may ask for: it refreshes its mtime every third of the lease, and on
 * file systems with 1 s mtime resolution (ext3, HFS+) a fresh file can already look 1 s old.
 */
export const MIN_STALE_MS = 2000
const GENERATION_NAME = /^[0-9]{1,15}$/
const TEMP_PREFIX = '.tmp-'

/** What a generation file says about its creator. */
export interface HolderRecord extends ProcessIdentity {
  readonly v: 1
  readonly state: 'held' | 'released'
  readonly token: string
  readonly staleMs: number
  readonly acquiredAt: string
}

export type Claim =
  | { readonly kind: 'claimed'; readonly generation: number; readonly record: HolderRecord }
  | { readonly kind: 'held'; readonly holder: HolderRecord | null }
  | { readonly kind: 'retry' }

const RETRY: Claim = { kind: 'retry' }

/** Tokens of the locks this thread holds now: tells our own live record from a leftover one. */
const heldTokens = new Set<string>()

export function forgetHeldToken(token: string): void {
  heldTokens.delete(token)
}

// The lock directory holds numbered generation files; the holder is whoever created the highest
// number, while its record says "held" and it is alive. A number is created once, by link(2), which
// fails with EEXIST if it exists: taking over a dead holder's lock means creating the next number,
// never deleting the old one, so two processes that both judge a holder dead cannot both win.
// Delete-then-create takeover (proper-lockfile, npm's lockfile) has exactly that race, as both
// projects' maintainers were told.
export async function tryClaim(lockDir: string, staleMs: number): Promise<Claim> {
  const top = highestGeneration(await listLockDir(lockDir))
  if (top > 0) {
    const current = await readHolder(join(lockDir, String(top)))
    if (current === undefined) return RETRY
    if (isHolderLive(current.record, current.mtimeMs, staleMs)) return { kind: 'held', holder: current.record }
  }
  const next = top + 1
  const file = join(lockDir, String(next))
  const record: HolderRecord = {
    v: 1,
    state: 'held',
    token: randomUUID(),
    ...selfIdentity(),
    staleMs,
    acquiredAt: new Date().toISOString(),
  }
  const temp = join(lockDir, `${TEMP_PREFIX}${record.token}`)
  // Known before the record is visible: another acquirer in this thread must see it as live.
  heldTokens.add(record.token)
  let isLinked = false
  let isClaimed = false
  try {
    await fsp.writeFile(temp, JSON.stringify(record), { flag: 'wx' })
    try {
      // link(2) publishes the complete record or nothing: a reader never sees a half-written one.
      await fsp.link(temp, file)
      isLinked = true
    } catch (error) {
      if (errorCode(error) === 'EEXIST' || errorCode(error) === 'ENOENT') return RETRY
      throw error
    } finally {
      await fsp.rm(temp, { force: true })
    }
    // A process that read the directory long ago may re-create a number that was already collected.
    // The highest number is never deleted, so such a file is never the highest: check, and back off.
    if (highestGeneration(await listLockDir(lockDir)) !== next) {
      await fsp.rm(file, { force: true })
      isLinked = false
      return RETRY
    }
    isClaimed = true
  } finally {
    if (!isClaimed) {
      heldTokens.delete(record.token)
      // Failed after publishing (an I/O error): free it again, without deleting what may be the highest.
      if (isLinked) await writeReleased(lockDir, next, record).catch(() => undefined)
    }
  }
  await collectGarbage(lockDir, next, staleMs)
  return { kind: 'claimed', generation: next, record }
}

function isHolderLive(record: HolderRecord | null, mtimeMs: number, staleMs: number): boolean {
  const ageMs = Date.now() - mtimeMs
  if (record === null) return ageMs <= staleMs // unreadable: only the timeout can free it
  if (record.state === 'released') return false
  if (ageMs > record.staleMs) return false // the holder promised to refresh within its own lease
  if (isDeadOnThisHost(record)) return false
  const me = selfIdentity()
  const isThisThread = record.host === me.host && record.pid === me.pid && record.threadId === me.threadId
  return isThisThread ? heldTokens.has(record.token) : true
}

async function listLockDir(lockDir: string): Promise<string[]> {
  try {
    return await fsp.readdir(lockDir)
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error
  }
  try {
    await fsp.mkdir(lockDir)
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') throw error
  }
  return []
}

export function highestGeneration(names: readonly string[]): number {
  let top = 0
  for (const name of names) {
    if (!GENERATION_NAME.test(name)) continue
    const generation = Number(name)
    if (generation > top) top = generation
  }
  return top
}

// One descriptor for both: the record and the mtime must describe the same file.
async function readHolder(file: string): Promise<{ record: HolderRecord | null; mtimeMs: number } | undefined> {
  let handle: fsp.FileHandle
  try {
    handle = await fsp.open(file, 'r')
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined
    throw error
  }
  try {
    const { mtimeMs } = await handle.stat()
    return { record: parseRecord(await handle.readFile('utf8')), mtimeMs }
  } finally {
    await handle.close()
  }
}

function parseRecord(text: string): HolderRecord | null {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return null
  }
  if (typeof value !== 'object' || value === null) return null
  const r = value as Record<string, unknown>
  const isValid =
    r.v === 1 &&
    (r.state === 'held' || r.state === 'released') &&
    typeof r.token === 'string' &&
    typeof r.host === 'string' &&
    Number.isSafeInteger(r.pid) &&
    (r.startTicks === null || Number.isSafeInteger(r.startTicks)) &&
    Number.isSafeInteger(r.threadId) &&
    typeof r.staleMs === 'number' &&
    r.staleMs >= MIN_STALE_MS &&
    typeof r.acquiredAt === 'string'
  return isValid ? (value as HolderRecord) : null
}

// Older generations are never the holder once a newer one exists, so removing them is safe; temp
// files are only young while someone is between writeFile and link.
async function collectGarbage(lockDir: string, current: number, staleMs: number): Promise<void> {
  try {
    for (const name of await fsp.readdir(lockDir)) {
      if (GENERATION_NAME.test(name) && Number(name) < current) {
        await fsp.rm(join(lockDir, name), { force: true })
      } else if (name.startsWith(TEMP_PREFIX)) {
        const { mtimeMs } = await fsp.stat(join(lockDir, name))
        if (Date.now() - mtimeMs > staleMs) await fsp.rm(join(lockDir, name), { force: true })
      }
    }
  } catch {
    // Best effort: leftovers are harmless and the next holder tries again.
  }
}

/** Replaces a generation's record by its "released" form, atomically (rename(2)). */
export async function writeReleased(lockDir: string, generation: number, record: HolderRecord): Promise<void> {
  const temp = join(lockDir, `${TEMP_PREFIX}${record.token}`)
  try {
    await fsp.writeFile(temp, JSON.stringify({ ...record, state: 'released' }))
    await fsp.rename(temp, join(lockDir, String(generation)))
  } catch (error) {
    await fsp.rm(temp, { force: true }).catch(() => undefined)
    throw error
  }
}

/** `writeReleased` for exit handlers. */
export function writeReleasedSync(lockDir: string, generation: number, record: HolderRecord): void {
  const temp = join(lockDir, `${TEMP_PREFIX}${record.token}`)
  try {
    fs.writeFileSync(temp, JSON.stringify({ ...record, state: 'released' }))
    fs.renameSync(temp, join(lockDir, String(generation)))
  } catch (error) {
    fs.rmSync(temp, { force: true })
    throw error
  }
}

export function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code
}
