import net from 'node:net'

// A tiny HTTP/1.0 server on 127.0.0.1 for the tests: it reads one request (head and
// Content-Length body) per connection and hands it to a responder, which decides what goes on
// the wire, including the wrong things a load generator must classify.

export interface TinyRequest {
  /** 0-based arrival order over the server's life. */
  readonly index: number
  readonly head: string
  readonly body: Buffer
}

export type Responder = (socket: net.Socket, request: TinyRequest) => void

export interface TinyServer {
  readonly port: number
  readonly url: string
  /** Requests read so far. */
  requests(): number
  connections(): number
  bodies(): Buffer[]
  close(): Promise<void>
}

const HEAD_END = Buffer.from('\r\n\r\n')

/** A complete 200 response with a Content-Length body, then close. */
export function reply(socket: net.Socket, body: string | Buffer = 'hello', status = 200, extraHead = ''): void {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body
  socket.end(
    Buffer.concat([
      Buffer.from(`HTTP/1.0 ${status} X\r\nContent-Length: ${bytes.length}\r\n${extraHead}\r\n`, 'latin1'),
      bytes,
    ]),
  )
}

/**
 * `keepAliveRequests`: answer with HTTP/1.0 keep-alive, closing after that many per connection.
 * `host`: the loopback address to listen on (127.0.0.1 unless given, e.g. ::1).
 */
export function startTinyServer(
  responder: Responder,
  options: { keepAliveRequests?: number; host?: string } = {},
): Promise<TinyServer> {
  let requestCount = 0
  let connectionCount = 0
  const bodies: Buffer[] = []
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    connectionCount++
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    let pending = Buffer.alloc(0)
    let served = 0
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk])
      for (;;) {
        const end = pending.indexOf(HEAD_END)
        if (end < 0) return
        const head = pending.toString('latin1', 0, end)
        const match = /content-length: *(\d+)/i.exec(head)
        const length = match === null ? 0 : Number(match[1])
        const total = end + HEAD_END.length + length
        if (pending.length < total) return
        const body = pending.subarray(end + HEAD_END.length, total)
        pending = pending.subarray(total)
        bodies.push(Buffer.from(body))
        const request = { index: requestCount++, head, body }
        const limit = options.keepAliveRequests
        if (limit !== undefined && ++served < limit) {
          socket.write('HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok')
        } else {
          responder(socket, request)
          return
        }
      }
    })
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    const host = options.host ?? '127.0.0.1'
    server.listen({ host, port: 0, backlog: 1024 }, () => {
      const port = (server.address() as net.AddressInfo).port
      resolve({
        port,
        url: `http://${net.isIPv6(host) ? `[${host}]` : host}:${port}/x`,
        requests: () => requestCount,
        connections: () => connectionCount,
        bodies: () => bodies,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy()
            server.close(() => done())
          }),
      })
    })
  })
}

/** A port with nothing listening on it (bound, then released). */
export async function findClosedPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve))
  const port = (server.address() as net.AddressInfo).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
