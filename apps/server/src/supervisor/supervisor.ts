import { unlinkSync } from 'node:fs'
import { networkInterfaces } from 'node:os'
import type { TcpHandle } from '../common/tcp-handle.js'
import { SERVER_VERSION } from '../common/version.js'
import { WORKER_CONFIG_ENV } from '../common/worker-env.js'
import type { Config } from '../config/config.js'
import { sweepTempFiles } from '../uploads/temp-files.js'
import type { PreforkedWorker } from './fork-worker.js'
import { inheritedEnvironment } from './fork-worker.js'
import { HealthDesk } from './health-desk.js'
import { bindForWorkers, listenAndAccept } from './listener.js'
import { PermitDesk } from './permit-desk.js'
import { lockPidFile } from './pid-file.js'
import { checkStartup } from './preflight.js'
import { reachableUrls, urlOf } from './reachable-urls.js'
import { WorkerFleet } from './worker-fleet.js'

// The supervisor: listens, accepts with pauseOnConnect, and hands each socket to a worker; holds
// the server-wide upload permits and the health the workers report to load balancers; restarts
// workers; and owns the signals (SIGINT/SIGTERM drain, after --drain-delay for SIGTERM; SIGHUP log
// reopen + rolling worker replacement; SIGUSR2 prints a stats line with every worker's own
// figures, asked for with stats-request).

// SIGUSR2 waits this long for each worker's own figures.
const STATS_TIMEOUT_MS = 500

function report(line: string): void {
  process.stderr.write(`threadserve: ${line}\n`)
}

/** --max-posts-per-client, with 0 meaning one fewer than --max-posts (one permit when there is only one). */
function permitsPerClient(config: Config): number {
  return config.maxPostsPerClient > 0 ? config.maxPostsPerClient : Math.max(1, config.maxPosts - 1)
}

/** The workers' environment: ours (minus the upload password), plus the validated settings. */
function workerEnvironment(config: Config): NodeJS.ProcessEnv {
  return { ...inheritedEnvironment(process.env), [WORKER_CONFIG_ENV]: JSON.stringify(config) }
}

/**
 * Runs the server until a signal stops it; resolves with the process exit code. `preforked`: the
 * first worker, if the command-line entry forked it already (it waits for its settings).
 */
export async function runSupervisor(config: Config, preforked: PreforkedWorker | null = null): Promise<number> {
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
    const removed = await sweepTempFiles(config.uploadDir)
    if (removed > 0) report(`removed ${removed} unfinished upload(s) left by an earlier run`)

    const permits = new PermitDesk(config.maxPosts, permitsPerClient(config))
    const health = new HealthDesk(() => permits.inUse)
    let dispatch = (client: TcpHandle): void => {
      client.close()
    }
    const listener =
      config.balance === 'kernel'
        ? await bindForWorkers(config)
        : await listenAndAccept(config, (client) => dispatch(client))
    const fleet = new WorkerFleet({
      count: config.workers,
      env: workerEnvironment(config),
      preforked,
      uploadDir: config.uploadDir,
      permits,
      health,
      graceMs: config.shutdownGraceMs,
      listenHandle: listener.sharedHandle,
      report,
      onCrashLoop: (reason) => {
        report(`${reason}; stopping`)
        listener.close()
        void fleet.stop(Date.now()).then(() => resolveExit(1))
      },
    })
    dispatch = (client) => fleet.dispatch(client)
    let stopping = false
    let drainTimer: NodeJS.Timeout | null = null
    const shutDown = (signal: string): void => {
      drainTimer = null
      report(`${signal}: finishing in-flight requests (up to ${config.shutdownGraceMs} ms)`)
      listener.close()
      void fleet.stop(Date.now() + config.shutdownGraceMs).then(() => resolveExit(0))
    }
    const stop = (signal: string): void => {
      if (drainTimer !== null) {
        // A second signal during the drain delay: the operator wants it over, gracefully still.
        clearTimeout(drainTimer)
        shutDown(signal)
        return
      }
      if (stopping) {
        report(`${signal} again: exiting now`)
        releasePidFile()
        process.exit(1)
      }
      stopping = true
      health.drain()
      // --drain-delay: health checks fail at once, but clients keep being served until the load
      // balancers have noticed (their check interval times the failures they wait for) and send
      // no more. Only SIGTERM, what service managers send: Ctrl-C at a terminal stops at once.
      if (signal === 'SIGTERM' && config.drainDelayMs > 0) {
        report(`SIGTERM: health checks answer 503; serving for ${config.drainDelayMs} ms more before stopping`)
        drainTimer = setTimeout(shutDown, config.drainDelayMs, signal)
        return
      }
      shutDown(signal)
    }
    process.on('SIGINT', () => stop('SIGINT'))
    process.on('SIGTERM', () => stop('SIGTERM'))
    process.on('SIGHUP', () => {
      if (stopping) return
      report('SIGHUP: reopening the access log and replacing workers')
      fleet.broadcast({ type: 'log-reopen', v: 1 })
      void fleet.replaceAll()
    })
    process.on('SIGUSR2', () => {
      void fleet.sample(STATS_TIMEOUT_MS).then((workers) => {
        const { inUse: permitsInUse } = permits
        const line = { permitsInUse, restarts: fleet.restarts, pendingConnections: fleet.pendingConnections, workers }
        process.stdout.write(`${JSON.stringify(line)}\n`)
      })
    })
    // Signal handlers are in place before anyone can learn our port: a SIGUSR2 or SIGTERM sent
    // the moment the line below appears must not meet the default action (terminate).
    const started = fleet.start().then(() => {
      health.started()
      return null
    })
    const failedEarly = await Promise.race([started, exited])
    if (failedEarly !== null) return failedEarly
    // The first line's shape is what scripts wait for (`listening on http://HOST:PORT (`); one more
    // line per interface address follows when bound to a wildcard address.
    const { address, port } = listener.address
    const urls = reachableUrls(listener.address, networkInterfaces()).map((url) => `  ${url}\n`)
    process.stdout.write(
      `ThreadServe ${SERVER_VERSION} listening on ${urlOf(address, port)} ` +
        `(root ${config.root}, ${config.workers} workers, pid ${process.pid})\n${urls.join('')}`,
    )

    return await exited
  } finally {
    releasePidFile()
  }
}
