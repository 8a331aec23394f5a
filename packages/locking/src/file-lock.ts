import * as fs from 'node:fs'
import * as fsp from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { LockError } from './errors.js'
import {
  type Claim,
  errorCode,
  forgetHeldToken,
  type HolderRecord,
  highestGeneration,
  MIN_STALE_MS,
  tryClaim,
  writeReleased,
  writeReleasedSync,
} from './lock-directory.js'
import { selfIdentity } from './process-identity.js'

const DEFAULT_STALE_MS = 10_000
const POLL_MIN_MS = 5
const POLL_MAX_MS = 100

export interface FileLockOptions {
  /** A holder that stops refreshing (crashed elsewhere, frozen) loses the lock after this long. Default 10 s, minimum 2 s. */
  readonly staleMs?: number
  /** How long to wait for a live holder; 0 (default) fails at once with LockError('LOCKED'). */
  readonly waitMs?: number
  /** Stop waiting with LockError('ABORTED'). */
  readonly signal?: AbortSignal
  /** Told when the lock was lost while held (default: `process.emitWarning`). Never throws into the event loop. */
  readonly onCompromised?: (error: LockError) => void
}

export interface FileLockHandle {
  /** The absolute path the lock is on (the lock itself lives in `<path>.lock/`). */
  readonly path: string
  /** True once the lock was found lost while held (see `onCompromised`). */
  readonly compromised: boolean
  /** Gives the lock up; a second call, or a call after the lock was lost, does nothing. */
  release(): Promise<void>
  /** `release` for exit handlers, where nothing asynchronous runs any more. */
  releaseSync(): void
}

/**
 * Takes an exclusive lock on `path`, shared between processes on this machine. A holder that
 * crashed on this host is noticed at once (its pid is gone); one that stops refreshing for
 * `staleMs` loses the lock. Rejects with LockError LOCKED, TIMEOUT, ABORTED or IO_FAILED.
 * @example
 * const pidLock = await acquireFileLock(pidFile)
 * process.on('exit', () => pidLock.releaseSync())
 */
export async function acquireFileLock(path: string, options: FileLockOptions = {}): Promise<FileLockHandle> {
  const staleMs = Math.max(MIN_STALE_MS, checkMs('staleMs', options.staleMs ?? DEFAULT_STALE_MS, false))
  const waitMs = checkMs('waitMs', options.waitMs ?? 0, true)
  const { signal } = options
  const lockedPath = resolve(path)
  const lockDir = `${lockedPath}.lock`
  const startedMs = performance.now()
  let pauseMs = POLL_MIN_MS
  for (;;) {
    if (signal?.aborted) throw new LockError('ABORTED', `waiting for the lock on ${lockedPath} was aborted`)
    let claim: Claim
    try {
      claim = await tryClaim(lockDir, staleMs)
    } catch (error) {
      throw new LockError('IO_FAILED', `cannot lock ${lockedPath}: ${describeError(error)}`, { cause: error })
    }
    if (claim.kind === 'claimed') {
      return new FileLock(lockedPath, lockDir, claim.generation, claim.record, options.onCompromised ?? warn)
    }
    if (claim.kind === 'retry') continue // the directory changed under us: look again at once
    if (waitMs === 0) throw new LockError('LOCKED', `${lockedPath} is locked by ${describeHolder(claim.holder)}`)
    const remainingMs = waitMs - (performance.now() - startedMs)
    if (remainingMs <= 0) {
      throw new LockError(
        'TIMEOUT',
        `${lockedPath} is still locked by ${describeHolder(claim.holder)} after ${waitMs} ms`,
      )
    }
    try {
      await sleep(Math.min(pauseMs * (0.5 + Math.random()), remainingMs), undefined, signal ? { signal } : {})
    } catch (error) {
      throw new LockError('ABORTED', `waiting for the lock on ${lockedPath} was aborted`, { cause: error })
    }
    pauseMs = Math.min(pauseMs * 2, POLL_MAX_MS)
  }
}

const State = { Held: 0, Released: 1, Compromised: 2 } as const
type State = (typeof State)[keyof typeof State]

class FileLock implements FileLockHandle {
  readonly path: string
  readonly #lockDir: string
  readonly #generation: number
  readonly #file: string
  readonly #record: HolderRecord
  readonly #onCompromised: (error: LockError) => void
  readonly #timer: NodeJS.Timeout
  #state: State = State.Held
  #isRefreshing = false
  #lastRefreshMs = Date.now()

  constructor(
    path: string,
    lockDir: string,
    generation: number,
    record: HolderRecord,
    onCompromised: (error: LockError) => void,
  ) {
    this.path = path
    this.#lockDir = lockDir
    this.#generation = generation
    this.#file = join(lockDir, String(generation))
    this.#record = record
    this.#onCompromised = onCompromised
    // Three refreshes per lease: one late or failed refresh does not cost the lock. Unref'd so a
    // held lock never keeps the process alive; a process that exits holding it leaves a record
    // with a dead pid, which the next acquirer on this host takes over at once.
    this.#timer = setInterval(() => void this.#refresh(), Math.floor(record.staleMs / 3))
    this.#timer.unref()
  }

  get compromised(): boolean {
    return this.#state === State.Compromised
  }

  async release(): Promise<void> {
    if (this.#state !== State.Held) return
    this.#stop(State.Released)
    try {
      await writeReleased(this.#lockDir, this.#generation, this.#record)
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return // the lock directory is gone: nothing left to free
      try {
        await fsp.utimes(this.#file, 0, 0) // no space for a new record: an mtime of 1970 is stale too
      } catch {
        throw releaseFailed(this.path, error)
      }
    }
  }

  releaseSync(): void {
    if (this.#state !== State.Held) return
    this.#stop(State.Released)
    try {
      writeReleasedSync(this.#lockDir, this.#generation, this.#record)
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return
      try {
        fs.utimesSync(this.#file, 0, 0)
      } catch {
        throw releaseFailed(this.path, error)
      }
    }
  }

  #stop(state: State): void {
    this.#state = state
    clearInterval(this.#timer)
    forgetHeldToken(this.#record.token)
  }

  async #refresh(): Promise<void> {
    if (this.#isRefreshing || this.#state !== State.Held) return
    this.#isRefreshing = true
    try {
      const top = highestGeneration(await fsp.readdir(this.#lockDir))
      if (this.#state !== State.Held) return
      if (top !== this.#generation) {
        // Someone judged us stale (we did not refresh for staleMs: a frozen process, a long GC
        // pause, a suspended machine) and took over. Keeping on as if we held it would be worse.
        this.#compromise('another process took it over after this one stopped refreshing it', undefined)
        return
      }
      const now = new Date()
      await fsp.utimes(this.#file, now, now)
      this.#lastRefreshMs = Date.now()
    } catch (error) {
      if (this.#state !== State.Held) return
      if (errorCode(error) === 'ENOENT') this.#compromise('its lock file was removed', error)
      else if (Date.now() - this.#lastRefreshMs > this.#record.staleMs) {
        this.#compromise(`it could not be refreshed for ${this.#record.staleMs} ms`, error)
      }
      // Otherwise a transient error: the next tick tries again.
    } finally {
      this.#isRefreshing = false
    }
  }

  #compromise(reason: string, cause: unknown): void {
    this.#stop(State.Compromised)
    const error = new LockError('COMPROMISED', `the lock on ${this.path} was lost: ${reason}`, { cause })
    try {
      this.#onCompromised(error)
    } catch (handlerError) {
      // Runs from a timer: a throw here would be an uncaught exception that ends the process.
      warn(new LockError('COMPROMISED', `onCompromised threw: ${describeError(handlerError)}`, { cause: error }))
    }
  }
}

function warn(error: LockError): void {
  process.emitWarning(error)
}

function checkMs(name: string, value: number, allowInfinity: boolean): number {
  const isValid = value >= 0 && (Number.isFinite(value) || (allowInfinity && value === Number.POSITIVE_INFINITY))
  if (!isValid) throw new LockError('INVALID_ARGUMENT', `${name} must be a number of milliseconds >= 0, got ${value}`)
  return value
}

function releaseFailed(path: string, error: unknown): LockError {
  return new LockError('IO_FAILED', `cannot release the lock on ${path}: ${describeError(error)}`, { cause: error })
}

function describeHolder(holder: HolderRecord | null): string {
  if (holder === null) return 'a process whose lock record cannot be read'
  const where = holder.host === selfIdentity().host ? '' : ' on another host'
  return `pid ${holder.pid}${where} since ${holder.acquiredAt}`
}

function describeError(error: unknown): string {
  return errorCode(error) ?? (error instanceof Error ? error.message : String(error))
}
