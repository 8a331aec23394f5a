import { lookup } from 'node:dns/promises'
import net from 'node:net'
import { getSystemErrorName } from 'node:util'
import type { SendableHandle } from '@threadserve/ipc-protocol'
import type { Config } from './config.js'
import { UsageError } from './errors.js'

// Where connections come in. `--balance supervisor`: the supervisor listens and accepts (paused)
// and hands each socket to a worker. `--balance kernel`: the supervisor only binds the socket and
// hands the bound handle to every worker, which listens and accepts on it itself; the kernel
// spreads connections (node:cluster's SCHED_NONE does the same). The supervisor never polls it,
// so it can still give the handle to a restarted worker.

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

/** Listens and accepts with pauseOnConnect; each accepted socket goes to `onConnection`. */
export function listenAndAccept(config: Config, onConnection: (socket: net.Socket) => void): Promise<Listener> {
  const server = net.createServer({ pauseOnConnect: true }, onConnection)
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => reject(usageErrorFor(error.code, config) ?? error)
    server.once('error', onError)
    server.listen({ port: config.port, host: config.host, backlog: config.backlog }, () => {
      server.off('error', onError)
      // After start-up an accept error (EMFILE past libuv's reserve descriptor) is reported, not
      // thrown: an 'error' event without a listener would take the supervisor down.
      server.on('error', (error) => process.stderr.write(`threadserve: listener: ${error.message}\n`))
      resolve({ address: server.address() as net.AddressInfo, sharedHandle: null, close: () => server.close() })
    })
  })
}

interface TcpHandle {
  getsockname(out: Record<string, unknown>): number
  close(): void
}
type CreateServerHandle = (address: string, port: number, addressType: 4 | 6) => TcpHandle | number

/** Binds (but does not listen on) the server socket, for the workers to listen on. */
export async function bindForWorkers(config: Config): Promise<Listener> {
  let resolved: { address: string; family: number }
  try {
    resolved = await lookup(config.host)
  } catch (error) {
    throw usageErrorFor((error as NodeJS.ErrnoException).code, config) ?? error
  }
  // net._createServerHandle is what node:cluster uses to create a handle it shares with workers.
  const createServerHandle = (net as unknown as { _createServerHandle: CreateServerHandle })._createServerHandle
  const handle = createServerHandle(resolved.address, config.port, resolved.family === 6 ? 6 : 4)
  if (typeof handle === 'number') {
    const code = getSystemErrorName(handle)
    throw usageErrorFor(code, config) ?? new Error(`cannot bind ${config.host}:${config.port}: ${code}`)
  }
  const out: Record<string, unknown> = {}
  handle.getsockname(out)
  const address = { address: String(out.address), family: String(out.family), port: Number(out.port) }
  return { address, sharedHandle: handle, close: () => handle.close() }
}
