import { realpath } from 'node:fs/promises'
import { Socket } from 'node:net'
import path from 'node:path'
import { getSystemErrorName } from 'node:util'
import { connectToSupervisor } from '@threadserve/ipc-protocol'
import { createAccessLog } from '@threadserve/logger'
import { BasicAuthenticator } from '../auth/basic-auth.js'
import type { Config } from '../config/load-config.js'
import { StaticFiles } from '../files/static-files.js'
import { Connection, onSharedRead } from '../http/connection.js'
import type { PermitAnswer, WorkerServices } from '../http/services.js'
import { acceptConnections, type TcpHandle } from '../shared/tcp-handle.js'
import { PREFORKED_ENV } from '../supervisor/fork-worker.js'
import { socketFromHandle } from './client-socket.js'

type SupervisorChannel = ReturnType<typeof connectToSupervisor>

// A worker process: takes the connections the supervisor hands it, serves at most pool-size at
// once, queues a bounded number more, and answers 503 beyond that (the original's thread pool).

const PERMIT_TIMEOUT_MS = 5000
const ABORT_CLEANUP_MS = 500 // under the supervisor's 1 s margin past the deadline
const CACHE_MAX_FILE_BYTES = 256 * 1024
const CACHE_MAX_BYTES = 32 * 1024 * 1024

function ignoreError(): void {}

const SETTINGS_REQUEST_INTERVAL_MS = 20
// A forked-early worker nobody answers leaves after this, whatever else went wrong: the
// supervisor gives a worker 15 s to be ready before it replaces it anyway.
const SETTINGS_WAIT_MS = 30_000

/** The settings the supervisor validated, as JSON text; throws if they are missing or not settings. */
function parseSettings(text: string | undefined): Config {
  const config = JSON.parse(text ?? 'null') as Config | null
  if (config === null || typeof config !== 'object' || typeof config.root !== 'string') {
    throw new Error('worker started without its settings (it is run by the supervisor)')
  }
  return config
}

/**
 * The settings, validated by the supervisor: in the environment, or, for a worker forked before
 * the supervisor had read them (worker-process.ts), asked for until the 'configure' answer comes
 * (Node drops a message that arrives before anyone listens for it, at either end). If the
 * supervisor goes away first (a usage error, say), this worker was never needed: it leaves
 * quietly, as the supervisor has said what went wrong.
 */
async function receiveSettings(env: NodeJS.ProcessEnv, channel: SupervisorChannel): Promise<Config> {
  if (env[PREFORKED_ENV] !== '1') return parseSettings(env.THREADSERVE_WORKER_CONFIG)
  const leave = (): never => process.exit(0)
  process.once('disconnect', leave)
  try {
    return await new Promise<Config>((resolve, reject) => {
      const ask = (): void => {
        // The supervisor may have stopped while this process was still loading: 'disconnect'
        // has fired already then, and only `connected` tells. (The first ask is immediate.)
        if (!process.connected) leave()
        channel.send({ type: 'settings-request', v: 1 })
      }
      const started = Date.now()
      const timer = setInterval(() => {
        if (Date.now() - started > SETTINGS_WAIT_MS) leave()
        ask()
      }, SETTINGS_REQUEST_INTERVAL_MS)
      channel.on('configure', (message) => {
        clearInterval(timer)
        try {
          resolve(parseSettings(message.settings))
        } catch (error) {
          reject(error)
        }
      })
      ask()
    })
  } finally {
    process.off('disconnect', leave)
  }
}

/** The URL prefix of stored uploads when the upload dir lies inside the root (the default), else null. */
function uploadUrlPrefix(root: string, uploadDir: string): string | null {
  const relative = path.relative(root, uploadDir)
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) return null
  if (relative.split(path.sep).some((segment) => segment.startsWith('.'))) return null
  return `/${relative.split(path.sep).map(encodeURIComponent).join('/')}/`
}

export async function runWorker(): Promise<void> {
  const workerId = Number(process.env.THREADSERVE_WORKER_ID)
  if (!Number.isInteger(workerId))
    throw new Error('worker started without THREADSERVE_WORKER_ID (it is run by the supervisor)')
  // A worker forked early that loses its supervisor before it has its settings leaves without a
  // word (the supervisor has said what went wrong): a send that fails then (EPIPE) is not news.
  let configured = false
  const channel = connectToSupervisor(process, {
    onInvalid: (error) => process.stderr.write(`threadserve worker ${workerId}: bad IPC message: ${error.message}\n`),
    onError: (error) => {
      if (configured) process.stderr.write(`threadserve worker ${workerId}: ${error.message}\n`)
    },
  })
  const config = await receiveSettings(process.env, channel)
  configured = true
  const log = createAccessLog({
    path: config.logPath,
    format: config.logFormat,
    onError: (error) => process.stderr.write(`threadserve worker ${workerId}: access log: ${error.message}\n`),
  })
  process.on('uncaughtException', (error) => {
    // Our own bug, not the client's: leave a trace for the operator and let the supervisor restart us.
    process.stderr.write(`threadserve worker ${workerId}: ${error.stack ?? error.message}\n`)
    log.flushSync()
    process.exit(70)
  })

  const root = await realpath(config.root)
  const files = new StaticFiles(root, {
    cacheMaxFileBytes: CACHE_MAX_FILE_BYTES,
    cacheMaxBytes: CACHE_MAX_BYTES,
    listDirectories: config.listDirectories,
  })
  const services: WorkerServices = {
    config,
    parserLimits: Object.freeze({
      maxRequestLineBytes: config.maxRequestLineBytes,
      maxHeaderBytes: config.maxHeaderBytes,
      maxHeaderCount: config.maxHeaderCount,
      maxBodyBytes: config.maxBodyBytes,
    }),
    workerId,
    log,
    files,
    uploadUrlPrefix: uploadUrlPrefix(root, await realpath(config.uploadDir)),
    auth: config.uploadAuth === null ? null : new BasicAuthenticator(config.uploadAuth),
    async requestPermit(): Promise<PermitAnswer> {
      const reply = await channel.request({ type: 'permit-request', v: 1 }, { timeoutMs: PERMIT_TIMEOUT_MS })
      if (reply.type === 'permit-grant') return { granted: true, permitId: reply.permitId }
      return { granted: false, retryAfterSeconds: reply.type === 'permit-deny' ? reply.retryAfterSeconds : 1 }
    },
    releasePermit(permitId: string): void {
      channel.send({ type: 'permit-release', v: 1, permitId })
    },
    claimSlot: () => 'full', // these three are replaced below, once the pool exists
    releaseSlot: () => {},
    isDraining: () => false,
  }

  // Every admitted connection reads its head at once (under the header timeout). A pool slot is
  // needed only to serve a request whose head is complete: at most pool-size at once, up to
  // queue-size more wait for one, 503 beyond. Open connections are capped by max-connections.
  const live = new Set<Connection>()
  const holding = new Set<Connection>()
  const waiting: Connection[] = []
  let active = 0
  let served = 0
  let draining = false

  const exitNow = (): void => {
    log.flushSync()
    channel.close()
    process.exit(0)
  }

  services.claimSlot = (connection: Connection): 'granted' | 'queued' | 'full' => {
    if (active < config.poolSize) {
      active++
      holding.add(connection)
      return 'granted'
    }
    if (waiting.length >= config.queueSize) return 'full'
    waiting.push(connection)
    return 'queued'
  }

  function releaseSlot(connection: Connection): void {
    if (holding.delete(connection)) {
      active--
      while (active < config.poolSize && waiting.length > 0) {
        const next = waiting.shift() as Connection
        active++
        holding.add(next)
        next.slotGranted()
      }
    } else {
      const index = waiting.indexOf(connection)
      if (index !== -1) waiting.splice(index, 1)
    }
  }
  // A request on a persistent connection is done (--keep-alive); the connection stays.
  services.releaseSlot = (connection: Connection): void => {
    served++
    releaseSlot(connection)
  }
  services.isDraining = () => draining

  function onConnectionClosed(connection: Connection): void {
    if (connection.inRequest) served++
    live.delete(connection)
    releaseSlot(connection)
    if (draining && live.size === 0) exitNow()
  }

  const admit = (socket: Socket): void => {
    socket.on('error', ignoreError)
    const connection = new Connection(socket, services, onConnectionClosed)
    live.add(connection)
    if (live.size > config.maxConnections) connection.reject()
    else connection.start()
  }
  // The supervisor hands over the raw handle of each connection it accepted. Paused, as a
  // listener with pauseOnConnect would create it: Connection.start() begins reading.
  channel.on('connection', (_message, handle) => {
    if (handle === undefined) return // the client was gone before the hand-off
    // Our supervisor hands over raw handles (worker-pool.ts); a net.Socket would read by 'data'
    // events, which Connection no longer listens to.
    if (handle instanceof Socket) {
      handle.destroy()
      return
    }
    admit(socketFromHandle(handle, onSharedRead))
  })

  // Kernel balancing (--balance kernel): accept ourselves on the supervisor's bound handle.
  // Paused like a handed-over socket, so both paths meet the same Connection.
  let listener: TcpHandle | null = null
  const acceptOne = (client: TcpHandle): void => admit(socketFromHandle(client, onSharedRead))
  channel.on('listen', (_message, handle) => {
    if (listener !== null || draining || handle === undefined || handle instanceof Socket) return
    const status = acceptConnections(handle as TcpHandle, config.backlog, acceptOne, `threadserve worker ${workerId}`)
    if (status < 0) {
      process.stderr.write(
        `threadserve worker ${workerId}: listen on the shared handle: ${getSystemErrorName(status)}\n`,
      )
      return
    }
    listener = handle as TcpHandle
    channel.send({ type: 'listening', v: 1 })
  })

  const drain = (deadline: number): void => {
    if (draining) return
    draining = true
    listener?.close() // our copy of the shared handle: the other workers keep accepting
    for (const connection of live) connection.closeIfIdle() // persistent ones waiting for a request
    if (live.size === 0) {
      exitNow()
      return
    }
    // In-flight requests get until the deadline; then whatever is left is cut off.
    setTimeout(
      () => {
        // Cut off what is left, give aborted uploads a moment to remove their temp files
        // (onConnectionClosed exits as soon as all are closed), then leave regardless.
        for (const connection of live) connection.socket.destroy()
        setTimeout(exitNow, ABORT_CLEANUP_MS).unref()
      },
      Math.max(0, deadline - Date.now()),
    ).unref()
  }

  // A grant that arrives after its request timed out belongs to nobody: give it straight back,
  // or the server-wide limit would shrink by one for good.
  channel.on('permit-grant', (message) => services.releasePermit(message.permitId))
  channel.on('shutdown', (message) => drain(message.deadline))
  channel.on('log-reopen', () => {
    log.reopen().catch(() => {})
  })
  channel.on('stats-request', (message) => {
    channel.send({
      type: 'stats',
      v: 1,
      requestId: message.requestId,
      inFlight: active,
      queued: waiting.length,
      served,
      rssBytes: process.memoryUsage.rss(),
    })
  })
  // The supervisor is gone (crashed or killed): finish what we have, then leave.
  process.on('disconnect', () => drain(Date.now() + config.shutdownGraceMs))
  process.on('SIGINT', () => {}) // a terminal's Ctrl-C reaches the whole group; the supervisor decides
  process.on('SIGHUP', () => {})

  channel.send({ type: 'ready', v: 1, workerId, pid: process.pid })
}
