import { lookup } from 'node:dns/promises'
import type net from 'node:net'
import { getSystemErrorName } from 'node:util'
import type { SendableHandle } from '@threadserve/ipc-protocol'
import { serverHandleFactory } from '../common/node-internals.js'
import { acceptConnections, type TcpHandle } from '../common/tcp-handle.js'
import type { Config } from '../config/config.js'
import { UsageError } from '../config/usage-error.js'

// Where connections come in. `--balance supervisor`: the supervisor listens and accepts, and
// hands each connection's raw handle to a worker (it never reads from it). `--balance kernel`:
// the supervisor only binds the socket and hands the bound handle to every worker, which listens
// and accepts on it itself; the kernel spreads connections (node:cluster's SCHED_NONE does the
// same). The supervisor never polls it, so it can still give the handle to a restarted worker.

export interface Listener {
  readonly address: net.AddressInfo
  /** The bound handle for the workers (kernel balancing), or null. */
  readonly sharedHandle: SendableHandle | null
  close(): void
}

function usageErrorFor(code: string | undefined, config: Config): Error | undefined {
  const where = `${config.host}:${config.port}`
  if (code === 'EADDRINUSE') return new UsageError(`--port: ${where} is already in use`)
  if (code === 'EACCES') return new UsageError(`--port: no permission to listen on ${where}`)
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new UsageError(`--host: ${config.host} is not an address of this machine`)
  }
  return undefined
}

/** Binds (but does not listen on) the server socket, for the workers to listen on. */
export async function bindForWorkers(config: Config): Promise<Listener> {
  const { handle, address } = await bind(config)
  return { address, sharedHandle: handle, close: () => handle.close() }
}

/**
 * Listens and accepts in the supervisor; each accepted connection goes to `onConnection` as a
 * raw handle, to be passed to a worker as it is (the worker builds the net.Socket).
 */
export async function listenAndAccept(config: Config, onConnection: (client: TcpHandle) => void): Promise<Listener> {
  const { handle, address } = await bind(config)
  const status = acceptConnections(handle, config.backlog, onConnection, 'threadserve: listener')
  if (status < 0) {
    handle.close()
    const code = getSystemErrorName(status)
    throw usageErrorFor(code, config) ?? new Error(`cannot listen on ${config.host}:${config.port}: ${code}`)
  }
  return { address, sharedHandle: null, close: () => handle.close() }
}

async function bind(config: Config): Promise<{ handle: TcpHandle; address: net.AddressInfo }> {
  let resolved: { address: string; family: number }
  try {
    resolved = await lookup(config.host)
  } catch (error) {
    throw usageErrorFor((error as NodeJS.ErrnoException).code, config) ?? error
  }
  // net._createServerHandle is what node:cluster uses to create a handle it shares with workers.
  const createServerHandle = serverHandleFactory()
  if (createServerHandle === null) throw new Error(`this Node (${process.version}) has no net._createServerHandle`)
  const handle = createServerHandle(resolved.address, config.port, resolved.family === 6 ? 6 : 4)
  if (typeof handle === 'number') {
    const code = getSystemErrorName(handle)
    throw usageErrorFor(code, config) ?? new Error(`cannot bind ${config.host}:${config.port}: ${code}`)
  }
  const out: Record<string, unknown> = {}
  handle.getsockname(out)
  const address = { address: String(out.address), family: String(out.family), port: Number(out.port) }
  return { handle, address }
}
