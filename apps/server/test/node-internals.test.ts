import { spawn } from 'node:child_process'
import net from 'node:net'
import { afterEach, expect, test } from 'vitest'
import { acceptConnections, type TcpHandle } from '../src/common/tcp-handle.js'
import { socketFromHandle } from '../src/worker/client-socket.js'

// The server leans on Node internals that are not public API: net._createServerHandle (what
// node:cluster binds with), raw TCP handles with listen/getsockname/onconnection, net.Socket's
// `handle` and `pauseOnCreate` options (what net.Server's accept path uses), its `onread` option,
// and raw handles sent to a child over IPC. Each is checked here on its own, so that a Node
// release that changes one fails this file by name rather than the end-to-end tests by timeout.

type CreateServerHandle = (address: string, port: number, addressType: 4 | 6) => TcpHandle | number

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup()
})

function createServerHandle(): CreateServerHandle {
  const create = (net as unknown as { _createServerHandle?: unknown })._createServerHandle
  expect(typeof create, 'net._createServerHandle is a function').toBe('function')
  return create as CreateServerHandle
}

/** A raw handle listening on 127.0.0.1, its port, and the client handles it accepts. */
function listenRaw(): { port: number; accepted: Promise<TcpHandle> } {
  const handle = createServerHandle()('127.0.0.1', 0, 4)
  expect(typeof handle, 'a bound handle, not an errno').toBe('object')
  const server = handle as TcpHandle
  cleanups.push(() => server.close())
  let resolveAccepted: (client: TcpHandle) => void = () => {}
  const accepted = new Promise<TcpHandle>((resolve) => {
    resolveAccepted = resolve
  })
  expect(acceptConnections(server, 16, resolveAccepted, 'node-internals test')).toBe(0)
  const out: Record<string, unknown> = {}
  expect(server.getsockname(out)).toBe(0)
  return { port: Number(out.port), accepted }
}

function connect(port: number): net.Socket {
  const client = net.connect(port, '127.0.0.1')
  cleanups.push(() => client.destroy())
  return client
}

test('net._createServerHandle binds a handle with listen, getsockname and close', () => {
  const handle = createServerHandle()('127.0.0.1', 0, 4) as TcpHandle
  expect(typeof handle).toBe('object')
  cleanups.push(() => handle.close())
  for (const method of ['listen', 'getsockname', 'close'] as const)
    expect(typeof handle[method], method).toBe('function')
  const out: Record<string, unknown> = {}
  expect(handle.getsockname(out)).toBe(0)
  expect(out).toMatchObject({ address: '127.0.0.1', family: 'IPv4' })
  expect(Number(out.port)).toBeGreaterThan(0)
})

test('a bound address in use is reported as a negative errno, not thrown', async () => {
  const taken = net.createServer()
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
  cleanups.push(() => taken.close())
  const result = createServerHandle()('127.0.0.1', (taken.address() as net.AddressInfo).port, 4)
  // Linux lets two sockets bind one port until listen(2) (no SO_REUSEPORT): a number, or a handle
  // whose listen fails. Either way nothing throws, which is what listener.ts relies on.
  if (typeof result === 'number') expect(result).toBeLessThan(0)
  else {
    cleanups.push(() => result.close())
    expect(result.listen(16)).toBeLessThan(0)
  }
})

test('a listening raw handle calls onconnection with status 0 and a client handle', async () => {
  const { port, accepted } = listenRaw()
  connect(port)
  const client = await accepted
  cleanups.push(() => client.close())
  expect(typeof client.close).toBe('function')
  expect(typeof (client as unknown as { readStart?: unknown }).readStart).toBe('function')
})

test('Sockets on raw handles with onread read into the one given buffer, only after resume()', async () => {
  const reads: { bytes: number; buffer: Buffer; text: string }[] = []
  const sockets: net.Socket[] = []
  const peers: net.Socket[] = []
  for (const word of ['hello', 'there']) {
    const { port, accepted } = listenRaw()
    const peer = connect(port)
    const socket = socketFromHandle((await accepted) as never, function onRead(bytes, buffer) {
      reads.push({ bytes, buffer, text: buffer.toString('latin1', 0, bytes) })
    })
    cleanups.push(() => socket.destroy())
    await new Promise<void>((resolve) => peer.write(word, () => resolve()))
    sockets.push(socket)
    peers.push(peer)
  }
  await new Promise((resolve) => setTimeout(resolve, 50))
  expect(reads, 'pauseOnCreate: nothing is read before resume()').toEqual([])
  for (const socket of sockets) {
    socket.resume()
    const count = reads.length
    await waitUntil(() => reads.length > count)
  }
  expect(reads.map(({ bytes, text }) => ({ bytes, text }))).toEqual([
    { bytes: 5, text: 'hello' },
    { bytes: 5, text: 'there' },
  ])
  // The whole buffer client-socket.ts passes, the same one for every socket: nothing allocated.
  expect(reads[0]?.buffer.length).toBe(256 * 1024)
  expect(reads[1]?.buffer).toBe(reads[0]?.buffer)
  // Writing works on such a socket.
  const echoed = new Promise<string>((resolve) => peers[0]?.once('data', (data) => resolve(data.toString())))
  sockets[0]?.write('world')
  expect(await echoed).toBe('world')
})

test('a raw client handle sent to a child over IPC arrives as a handle the child can wrap', async () => {
  const { port, accepted } = listenRaw()
  const peer = connect(port)
  const handle = await accepted
  const child = spawn(
    process.execPath,
    [
      '-e',
      [
        "const net = require('node:net')",
        'process.on("message", (message, received) => {',
        '  const socket = new net.Socket({ handle: received, readable: true, writable: true })',
        "  socket.end('from the child: ' + (received && received.constructor && received.constructor.name))",
        '  socket.on("close", () => process.disconnect())',
        '})',
      ].join('\n'),
    ],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  )
  cleanups.push(() => child.kill('SIGKILL'))
  const answer = new Promise<string>((resolve) => {
    let text = ''
    peer.on('data', (data) => {
      text += data
    })
    peer.on('end', () => resolve(text))
  })
  await new Promise<void>((resolve, reject) =>
    child.send({ type: 'connection' }, handle as never, (error) => (error ? reject(error) : resolve())),
  )
  handle.close()
  expect(await answer).toBe('from the child: TCP')
})

async function waitUntil(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5))
}
