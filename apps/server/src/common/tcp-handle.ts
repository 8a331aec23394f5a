import { getSystemErrorName } from 'node:util'

/**
 * A raw libuv TCP handle (node's TCPWrap), as net._createServerHandle and a listening handle's
 * `onconnection` give them: what node:cluster's round-robin hand-off uses, with no net.Socket
 * (streams, event emitters, timers) built around it until someone reads from it.
 */
export interface TcpHandle {
  getsockname(out: Record<string, unknown>): number
  listen(backlog: number): number
  onconnection: ((status: number, client?: TcpHandle) => void) | null
  close(callback?: () => void): void
}

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
