import type { ChildProcess } from 'node:child_process'
import { unlinkSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { acquireFileLock, type FileLockHandle, LockError } from '@threadserve/locking'
import type { Config } from '../config/load-config.js'
import { UsageError } from '../config/usage-error.js'
import type { TcpHandle } from '../shared/tcp-handle.js'
import { SERVER_VERSION } from '../shared/version.js'
import { removeTempFiles } from '../uploads/upload-store.js'
import { inheritedEnvironment } from './fork-worker.js'
import { bindForWorkers, listenAndAccept } from './listener.js'
import { PermitDesk } from './permit-desk.js'
import { checkStartup } from './preflight.js'
import { WorkerPool } from './worker-fleet.js'

// The supervisor: listens, accepts with pauseOnConnect, and hands each socket to a worker; holds
// the server-wide upload permits; restarts workers; and owns the signals (SIGINT/SIGTERM drain,
// SIGHUP log reopen + rolling worker replacement, SIGUSR2 prints a stats line).

const PID_LOCK_STALE_MS = 10_000

function report(line: string): void {
  process.stderr.write(`threadserve: ${line}\n`)
}

async function lockPidFile(pidFile: string): Promise<FileLockHandle> {
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
    writeFileSync(pidFile, `${process.pid}\n`)
  } catch (error) {
    lock.releaseSync()
    throw new UsageError(`--pid-file: cannot write ${pidFile}: ${(error as Error).message}`)
  }
  return lock
}

function urlOf(address: AddressInfo): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return `http://${host}:${address.port}`
}

/** The workers' environment: ours (minus the upload password), plus the validated settings. */
function workerEnvironment(config: Config): NodeJS.ProcessEnv {
  return { ...inheritedEnvironment(process.env), THREADSERVE_WORKER_CONFIG: JSON.stringify(config) }
}

/**
 * Runs the server until a signal stops it; resolves with the process exit code. `preforked`: the
 * first worker, if the command-line entry forked it already (it waits for its settings).
 */
export async function runSupervisor(config: Config, preforked: ChildProcess | null = null): Promise<number> {
  await checkStartup(config)
  const pidLock = config.pidFile === null ? null : await lockPidFile(config.pidFile)
  const releasePidFile = (): void => {
    if (pidLock === null || config.pidFile === null) return
    try {
      unlinkSync(config.pidFile)
    } catch {
      // Already gone: nothing to clean.
    }
    pidLock.releaseSync()
  }

  let resolveExit: (code: number) => void = () => {}
  const exited = new Promise<number>((resolve) => {
    resolveExit = resolve
  })

  try {
    const removed = await removeTempFiles(config.uploadDir)
    if (removed > 0) report(`removed ${removed} unfinished upload(s) left by an earlier run`)

    const permits = new PermitDesk(config.maxPosts)
    let dispatch = (client: TcpHandle): void => {
      client.close()
    }
    const listener =
      config.balance === 'kernel'
        ? await bindForWorkers(config)
        : await listenAndAccept(config, (client) => dispatch(client))
    const pool = new WorkerPool({
      count: config.workers,
      env: workerEnvironment(config),
      preforked,
      uploadDir: config.uploadDir,
      permits,
      graceMs: config.shutdownGraceMs,
      listenHandle: listener.sharedHandle,
      report,
      onCrashLoop: (reason) => {
        report(`${reason}; stopping`)
        listener.close()
        void pool.stop(Date.now()).then(() => resolveExit(1))
      },
    })
    dispatch = (client) => pool.dispatch(client)
    let stopping = false
    const stop = (signal: string): void => {
      if (stopping) {
        report(`${signal} again: exiting now`)
        releasePidFile()
        process.exit(1)
      }
      stopping = true
      report(`${signal}: finishing in-flight requests (up to ${config.shutdownGraceMs} ms)`)
      listener.close()
      void pool.stop(Date.now() + config.shutdownGraceMs).then(() => resolveExit(0))
    }
    process.on('SIGINT', () => stop('SIGINT'))
    process.on('SIGTERM', () => stop('SIGTERM'))
    process.on('SIGHUP', () => {
      if (stopping) return
      report('SIGHUP: reopening the access log and replacing workers')
      pool.broadcast({ type: 'log-reopen', v: 1 })
      void pool.replaceAll()
    })
    process.on('SIGUSR2', () => {
      process.stdout.write(
        `${JSON.stringify({
          permitsInUse: permits.inUse,
          restarts: pool.restarts,
          pendingConnections: pool.pendingConnections,
          workers: pool.describe(),
        })}\n`,
      )
    })
    // Signal handlers are in place before anyone can learn our port: a SIGUSR2 or SIGTERM sent
    // the moment the line below appears must not meet the default action (terminate).
    const failedEarly = await Promise.race([pool.start().then(() => null), exited])
    if (failedEarly !== null) return failedEarly
    process.stdout.write(
      `ThreadServe ${SERVER_VERSION} listening on ${urlOf(listener.address)} ` +
        `(root ${config.root}, ${config.workers} workers, pid ${process.pid})\n`,
    )

    return await exited
  } finally {
    releasePidFile()
  }
}
