import { readFileSync, readlinkSync } from 'node:fs'
import { hostname } from 'node:os'
import { threadId } from 'node:worker_threads'

/** Who holds a file lock, precisely enough to tell whether that holder still runs. */
export interface ProcessIdentity {
  /** Hostname, boot id and pid namespace: pids are only comparable when all three match. */
  readonly host: string
  readonly pid: number
  /** Start time in clock ticks since boot (/proc/<pid>/stat field 22); tells a reused pid apart. */
  readonly startTicks: number | null
  readonly threadId: number
}

let self: ProcessIdentity | undefined

/** The identity of this process (and thread), computed once. */
export function selfIdentity(): ProcessIdentity {
  self ??= { host: hostIdentity(), pid: process.pid, startTicks: readStartTicks(process.pid), threadId }
  return self
}

// A pid means something only inside one boot and one pid namespace: after a reboot every old pid
// is dead, and two containers sharing a volume see each other's pids as unrelated numbers. Where
// /proc is missing (not Linux) the hostname alone is the best we have.
function hostIdentity(): string {
  return [
    hostname(),
    readOrEmpty(() => readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim()),
    readOrEmpty(() => readlinkSync('/proc/self/ns/pid')),
  ].join('|')
}

function readOrEmpty(read: () => string): string {
  try {
    return read()
  } catch {
    return ''
  }
}

/**
 * Reads the start time of `pid` from /proc (proc(5)); null when /proc cannot tell us.
 * The command name (field 2) may contain spaces and parentheses, so fields are counted from the
 * last ')'.
 */
export function readStartTicks(pid: number): number | null {
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
  } catch {
    return null
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const ticks = Number(fields[19]) // field 22 overall; this list starts at field 3
  return Number.isSafeInteger(ticks) ? ticks : null
}

/**
 * Whether the process `holder` names is certainly gone. Only answers for this host: a holder
 * elsewhere is never declared dead here (the caller falls back to the lock's stale timeout).
 */
export function isDeadOnThisHost(holder: ProcessIdentity): boolean {
  const me = selfIdentity()
  if (holder.host !== me.host) return false
  if (holder.pid === me.pid) {
    // Our own pid: either an earlier process that had the same pid (containers restart as pid 1
    // again), or this very process. Same start time = this process, judged by the caller.
    return holder.startTicks !== null && me.startTicks !== null && holder.startTicks !== me.startTicks
  }
  try {
    process.kill(holder.pid, 0) // signal 0: existence and permission check only, kill(2)
  } catch (error) {
    // EPERM: the pid exists but belongs to another user, so it is alive.
    return (error as NodeJS.ErrnoException).code === 'ESRCH'
  }
  if (holder.startTicks === null) return false
  const ticks = readStartTicks(holder.pid)
  // null: hidden by a hidepid mount of /proc, or gone since kill(); either way the next look decides.
  return ticks !== null && ticks !== holder.startTicks
}
