import { realpath } from 'node:fs/promises'
import { Socket } from 'node:net'
import path from 'node:path'
import { getSystemErrorName } from 'node:util'
import { connectToSupervisor, type NativeHandle } from '@threadserve/ipc-protocol'
import { createAccessLog } from '@threadserve/logger'
import { BasicAuthenticator } from '../auth/basic-auth.js'
import { acceptConnections, type TcpHandle } from '../common/tcp-handle.js'
import { WORKER_ID_ENV } from '../common/worker-env.js'
import { StaticFiles } from '../files/static-files.js'
import { Connection } from '../http/connection.js'
import { proxyPreambleCounts } from '../http/proxy-preamble.js'
import { isLoopbackBinding } from '../http/request-guards.js'
import type { HealthReport, PermitAnswer, WorkerServices } from '../http/services.js'
import { createTransport } from '../transport/create-transport.js'
import { receiveHandOffs } from './hand-off-receiver.js'
import { receiveSettings } from './receive-settings.js'
import { SlotPool } from './slot-pool.js'

// A worker process: takes the connections the supervisor hands it (or, with --balance kernel,
// accepts them itself), serves them through its slot pool, and drains on 'shutdown'.

const PERMIT_TIMEOUT_MS = 5000
// A health check's wait for the supervisor: well under the check timeouts balancers use (HAProxy's
// and nginx's are seconds), so that a stuck supervisor shows as 503 rather than as a timeout.
const HEALTH_TIMEOUT_MS = 1000
const ABORT_CLEANUP_MS = 500 // under the supervisor's 1 s margin past the deadline
const CACHE_MAX_FILE_BYTES = 256 * 1024
const CACHE_MAX_BYTES = 32 * 1024 * 1024

/** The URL prefix of stored uploads when the upload dir lies inside the root (the default), else null. */
function uploadUrlPrefix(root: string, uploadDir: string): string | null {
  const relative = path.relative(root, uploadDir)
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) return null
  if (relative.split(path.sep).some((segment) => segment.startsWith('.'))) return null
  return `/${relative.split(path.sep).map(encodeURIComponent).join('/')}/`
}

export async function runWorker(): Promise<void> {
  const workerId = Number(process.env[WORKER_ID_ENV])
  if (!Number.isInteger(workerId))
    throw new Error(`worker started without ${WORKER_ID_ENV} (it is run by the supervisor)`)
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
  const uploadRealDir = await realpath(config.uploadDir)
  const slots = new SlotPool(config.poolSize, config.queueSize)
  const live = new Set<Connection>()
  let served = 0
  let draining = false

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
    files: new StaticFiles(root, {
      cacheMaxFileBytes: CACHE_MAX_FILE_BYTES,
      cacheMaxBytes: CACHE_MAX_BYTES,
      listDirectories: config.listDirectories,
    }),
    uploadUrlPrefix: uploadUrlPrefix(root, uploadRealDir),
    uploadRealDir: `${uploadRealDir}${path.sep}`,
    loopbackOnly: isLoopbackBinding(config.host),
    auth: config.uploadAuth === null ? null : new BasicAuthenticator(config.uploadAuth),
    async requestPermit(client: string): Promise<PermitAnswer> {
      const message =
        client === '-'
          ? ({ type: 'permit-request', v: 1 } as const)
          : ({ type: 'permit-request', v: 1, client } as const)
      const reply = await channel.request(message, { timeoutMs: PERMIT_TIMEOUT_MS })
      if (reply.type === 'permit-grant') return { granted: true, permitId: reply.permitId }
      return { granted: false, retryAfterSeconds: reply.type === 'permit-deny' ? reply.retryAfterSeconds : 1 }
    },
    releasePermit(permitId: string): void {
      channel.send({ type: 'permit-release', v: 1, permitId })
    },
    async requestHealth(): Promise<HealthReport> {
      const { status, workers, permitsInUse } = await channel.request(
        { type: 'health-request', v: 1 },
        { timeoutMs: HEALTH_TIMEOUT_MS },
      )
      return { status, workers, permitsInUse }
    },
    claimSlot: (connection) => slots.claim(connection),
    // A request is answered (its response handed to the kernel); the connection may stay.
    releaseSlot: (connection) => {
      if (slots.release(connection)) served++
    },
    isDraining: () => draining,
  }

  const exitNow = (): void => {
    log.flushSync()
    channel.close()
    process.exit(0)
  }

  function onConnectionClosed(connection: Connection): void {
    live.delete(connection)
    if (slots.release(connection)) served++
    if (draining && live.size === 0) exitNow()
  }

  // Open connections are capped by --max-connections; past it a connection gets 503 at once.
  // Raw handles arrive paused, as a listener with pauseOnConnect would create them:
  // Connection.start() begins reading.
  const admitHandle = (handle: NativeHandle): void => {
    const connection = new Connection(createTransport(handle), services, onConnectionClosed)
    live.add(connection)
    if (live.size > config.maxConnections) connection.reject()
    else connection.start()
  }

  channel.on('connection', (_message, handle) => {
    if (handle === undefined) return // the client was gone before the hand-off
    // The supervisor hands over raw handles, never a net.Socket (built around a handle already).
    if (handle instanceof Socket) {
      handle.destroy()
      return
    }
    admitHandle(handle)
  })
  // The default path: a dedicated pipe with a binary frame per connection (the above is the fallback).
  receiveHandOffs(process.env, admitHandle, (line) => process.stderr.write(`threadserve worker ${workerId}: ${line}\n`))

  // Kernel balancing (--balance kernel): accept ourselves on the supervisor's bound handle.
  let listener: TcpHandle | null = null
  channel.on('listen', (_message, handle) => {
    if (listener !== null || draining || handle === undefined || handle instanceof Socket) return
    const status = acceptConnections(handle as TcpHandle, config.backlog, admitHandle, `threadserve worker ${workerId}`)
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
    // In-flight requests get until the deadline; then whatever is left is cut off, aborted
    // uploads get a moment to remove their temp files (onConnectionClosed exits as soon as all
    // are closed), and the process leaves regardless.
    setTimeout(
      () => {
        for (const connection of live) connection.destroy()
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
    const { requestId } = message
    const rssBytes = process.memoryUsage.rss()
    const { badHeader, timedOut, closedEarly } = proxyPreambleCounts()
    const proxyHeadersRefused = badHeader + timedOut + closedEarly
    const figures = { inFlight: slots.active, queued: slots.queued, served, rssBytes, proxyHeadersRefused }
    channel.send({ type: 'stats', v: 1, requestId, ...figures })
  })
  // The supervisor is gone (crashed or killed): finish what we have, then leave.
  process.on('disconnect', () => drain(Date.now() + config.shutdownGraceMs))
  process.on('SIGINT', () => {}) // a terminal's Ctrl-C reaches the whole group; the supervisor decides
  process.on('SIGHUP', () => {})

  channel.send({ type: 'ready', v: 1, workerId, pid: process.pid })
}
