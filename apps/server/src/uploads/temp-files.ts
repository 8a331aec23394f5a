import { createHash, randomBytes } from 'node:crypto'
import { readFileSync, readlinkSync } from 'node:fs'
import { readdir, stat, unlink } from 'node:fs/promises'
import { hostname } from 'node:os'
import path from 'node:path'

// The hidden temp files uploads are written to before they get their final name
// (upload-store.ts), and their removal after a crash. The supervisor loads only this module of
// uploads/: it sweeps the upload dir at start-up and after a worker dies.
//
// Several hosts may share one upload directory (behind a load balancer, on NFS or CephFS), so a
// temp file names who writes it: `.upload-<host>-<pid>-<random>.part`. <host> is a short hash
// of what makes a pid mean one process: the kernel's boot id and the pid namespace, plus the
// host name (virtual machines cloned from one memory snapshot share a boot id). Every process of
// a server computes the same <host>, so no process has to tell another. A sweep removes:
// - a dead worker's files: our <host> and its pid (the supervisor saw it exit);
// - at start-up, our <host>'s files whose writer does not run: the earlier run's, never those
//   of another server running on this host (a pid that is alive is left alone, whoever it is);
// - at start-up, any temp file, whoever wrote it, untouched for STALE_TEMP_AGE_MS: a host that
//   crashed and never came back (or a version that named temp files otherwise) leaves files no
//   liveness check can judge. An upload in progress writes to its file every 256 KiB (the
//   writer's staging buffer): to go 24 h without a write, a client must trickle under 3 bytes a
//   second, and then its upload fails rather than a crash's leftovers staying for ever.

const TEMP_PREFIX = '.upload-'
const TEMP_SUFFIX = '.part'
const HOST_TAG_HEX = 8

/** Temp files untouched this long are removed at start-up, whoever wrote them. */
export const STALE_TEMP_AGE_MS = 24 * 60 * 60 * 1000

function readOrEmpty(file: string, read: (file: string) => string): string {
  try {
    return read(file).trim()
  } catch {
    return '' // not Linux, or /proc not mounted: the host name alone then
  }
}

/**
 * The <host> part of this machine's temp-file names: 8 hex digits of a hash of the host name, the
 * boot id and the pid namespace (where Linux shows them).
 */
export function computeHostTag(
  name: string = hostname(),
  read: (file: string) => string = (file) => readFileSync(file, 'utf8'),
  readLink: (file: string) => string = (file) => readlinkSync(file),
): string {
  const bootId = readOrEmpty('/proc/sys/kernel/random/boot_id', read)
  const pidNamespace = readOrEmpty('/proc/self/ns/pid', readLink)
  return createHash('sha256').update(`${name}\0${bootId}\0${pidNamespace}`).digest('hex').slice(0, HOST_TAG_HEX)
}

let hostTag: string | null = null

/** This process's <host> tag, computed once. */
export function ownHostTag(): string {
  hostTag ??= computeHostTag()
  return hostTag
}

/** The temp-file name of an upload in progress: hidden, and tagged with its writer for clean-up. */
export function tempName(pid: number, host: string = ownHostTag()): string {
  return `${TEMP_PREFIX}${host}-${pid}-${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`
}

/** Who wrote a temp file, from its name; null for a name of another form (a foreign version's). */
export function tempFileOwner(name: string): { readonly host: string; readonly pid: number } | null {
  if (!name.startsWith(TEMP_PREFIX) || !name.endsWith(TEMP_SUFFIX)) return null
  const [host, pid, random, ...rest] = name.slice(TEMP_PREFIX.length, -TEMP_SUFFIX.length).split('-')
  if (rest.length > 0 || host === undefined || pid === undefined || random === undefined) return null
  if (!/^[0-9a-f]{8}$/.test(host) || !/^[1-9]\d{0,9}$/.test(pid) || !/^[0-9a-f]{12}$/.test(random)) return null
  return { host, pid: Number(pid) }
}

function isTempName(name: string): boolean {
  return name.startsWith(TEMP_PREFIX) && name.endsWith(TEMP_SUFFIX)
}

/**
 * True while a process with this pid runs (on this host): EPERM means it exists, as another
 * user's. A zombie does not run: a worker killed together with its supervisor stays one until
 * init reaps it, which can take longer than a restart.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
  try {
    // proc(5): "pid (comm) state ..."; comm may hold spaces and parentheses, the last ')' ends it.
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    const state = stat.charAt(stat.lastIndexOf(')') + 2)
    return state !== 'Z' && state !== 'X'
  } catch {
    return true // no /proc to tell: a process that takes signals counts as running
  }
}

async function namesIn(dir: string): Promise<string[]> {
  try {
    return await readdir(dir)
  } catch {
    return []
  }
}

async function removeFile(file: string): Promise<boolean> {
  try {
    await unlink(file)
    return true
  } catch {
    return false // another process removed it first: the goal is reached either way
  }
}

/** After a worker died: removes its temp files (this host's, its pid); returns how many. */
export async function removeWorkerTempFiles(dir: string, pid: number, host: string = ownHostTag()): Promise<number> {
  const prefix = `${TEMP_PREFIX}${host}-${pid}-`
  let removed = 0
  for (const name of await namesIn(dir)) {
    if (name.startsWith(prefix) && name.endsWith(TEMP_SUFFIX) && (await removeFile(path.join(dir, name)))) removed++
  }
  return removed
}

export interface SweepOptions {
  /** Temp files untouched this long go, whoever wrote them. Default STALE_TEMP_AGE_MS. */
  readonly staleAfterMs?: number
  readonly host?: string
  readonly nowMs?: number
  readonly isAlive?: (pid: number) => boolean
}

/**
 * At start-up: removes this host's temp files whose writer is gone, and every temp file untouched
 * for `staleAfterMs`; returns how many. Our own pid counts as alive (the caller's files are its own).
 */
export async function sweepTempFiles(dir: string, options: SweepOptions = {}): Promise<number> {
  const staleAfterMs = options.staleAfterMs ?? STALE_TEMP_AGE_MS
  const host = options.host ?? ownHostTag()
  const nowMs = options.nowMs ?? Date.now()
  const isAlive = options.isAlive ?? isProcessAlive
  let removed = 0
  for (const name of await namesIn(dir)) {
    if (!isTempName(name)) continue
    const file = path.join(dir, name)
    const owner = tempFileOwner(name)
    let gone = owner !== null && owner.host === host && owner.pid !== process.pid && !isAlive(owner.pid)
    if (!gone) {
      try {
        gone = nowMs - (await stat(file)).mtimeMs >= staleAfterMs
      } catch {
        continue // removed meanwhile
      }
    }
    if (gone && (await removeFile(file))) removed++
  }
  return removed
}
