import { closeSync, constants, openSync, writeFileSync } from 'node:fs'
import { acquireFileLock, type FileLockHandle, LockError } from '@threadserve/locking'
import { UsageError } from '../config/usage-error.js'

// --pid-file: the supervisor's pid, written under a cross-process lock so that a second server
// started with the same file stops with a clear error instead of overwriting it.

const PID_LOCK_STALE_MS = 10_000
const PID_FILE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW

/** Locks `pidFile` and writes our pid into it; throws UsageError when another server holds it. */
export async function lockPidFile(pidFile: string): Promise<FileLockHandle> {
  let lock: FileLockHandle
  try {
    lock = await acquireFileLock(pidFile, { staleMs: PID_LOCK_STALE_MS })
  } catch (error) {
    if (error instanceof LockError && error.code === 'LOCKED') {
      throw new UsageError(`--pid-file: ${pidFile} is held by another running server`)
    }
    throw new UsageError(`--pid-file: cannot lock ${pidFile}: ${(error as Error).message}`)
  }
  try {
    // O_NOFOLLOW: a symlink planted where the pid file goes must not make us truncate its target.
    const fd = openSync(pidFile, PID_FILE_FLAGS, 0o644)
    try {
      writeFileSync(fd, `${process.pid}\n`)
    } finally {
      closeSync(fd)
    }
  } catch (error) {
    lock.releaseSync()
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ELOOP') throw new UsageError(`--pid-file: ${pidFile} is a symbolic link; not following it`)
    throw new UsageError(`--pid-file: cannot write ${pidFile}: ${(error as Error).message}`)
  }
  return lock
}
