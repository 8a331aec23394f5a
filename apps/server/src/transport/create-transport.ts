import { isRawStream, rawStreams } from '../common/node-internals.js'
import { RawTransport } from './raw-transport.js'
import { SocketTransport } from './socket-transport.js'
import type { Transport } from './transport.js'

/** Which transport connections use in this process: 'raw' unless the internals are missing. */
export const transportKind: 'raw' | 'socket' = rawStreams === null ? 'socket' : 'raw'

/**
 * The transport for an accepted or handed-over TCP handle (paused: nothing is read before
 * resume()): the raw one when this Node has what it needs, else a net.Socket.
 */
export function createTransport(handle: unknown): Transport {
  if (transportKind === 'raw' && isRawStream(handle)) return new RawTransport(handle)
  return new SocketTransport(handle)
}
