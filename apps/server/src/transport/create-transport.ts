import { type RawStream, rawStreams } from '../common/node-internals.js'
import { RawTransport } from './raw-transport.js'
import { SocketTransport } from './socket-transport.js'
import type { Transport } from './transport.js'

/**
 * The transport for an accepted or handed-over TCP handle (paused: nothing is read before
 * resume()): the raw one when this Node has what it needs (checked once, on the TCP handle's
 * prototype: common/node-internals.ts), else a net.Socket.
 */
export function createTransport(handle: unknown): Transport {
  return rawStreams === null ? new SocketTransport(handle) : new RawTransport(handle as RawStream)
}
