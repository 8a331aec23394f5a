import { getSystemErrorName } from 'node:util'
import type { TcpHandle } from './node-internals.js'

export type { TcpHandle }

/**
 * Listens on a bound handle and gives every accepted connection to `onConnection` as a raw
 * handle. Returns libuv's status: negative (an errno) if listen(2) failed. Used by the supervisor
 * (it hands the handles to workers) and by workers with --balance kernel (they wrap them).
 */
export function acceptConnections(
  handle: TcpHandle,
  backlog: number,
  onConnection: (client: TcpHandle) => void,
  who: string,
): number {
  const status = handle.listen(backlog)
  if (status < 0) return status
  handle.onconnection = (result, client) => {
    // An accept error (EMFILE past libuv's reserve descriptor) is reported, never thrown.
    if (result < 0 || client === undefined) {
      process.stderr.write(`${who}: accept: ${getSystemErrorName(result)}\n`)
      return
    }
    onConnection(client)
  }
  return status
}
