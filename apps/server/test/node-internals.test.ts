import { spawn } from 'node:child_process'
import net from 'node:net'
import { afterEach, expect, test } from 'vitest'
import { isRawStream, loadRawStreams, type RawStream } from '../src/common/node-internals.js'
import { acceptConnections, type TcpHandle } from '../src/common/tcp-handle.js'

// The server leans on Node internals that are not public API (src/common/node-internals.ts lists
// them): net._createServerHandle (what node:cluster binds with), raw TCP handles with
// listen/getsockname/onconnection, the stream internals the raw transport drives a connection
// with, and raw handles sent to a child over IPC. Each is checked here on its own, so that a Node
// release that changes one fails this file by name rather than the end-to-end tests by timeout.
// (The net.Socket fallback's own options are checked in transport.test.ts.)

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

test('stream_wrap and uv give what the raw transport reads results from', () => {
  const internals = loadRawStreams()
  expect(internals, 'stream_wrap/uv as expected (else connections fall back to net.Socket)').not.toBe(null)
  if (internals === null) return
  expect(typeof internals.WriteWrap).toBe('function')
  expect(typeof internals.ShutdownWrap).toBe('function')
  expect(internals.state).toBeInstanceOf(Int32Array)
  for (const index of [internals.kReadBytesOrError, internals.kBytesWritten, internals.kLastWriteWasAsync])
    expect(index).toBeLessThan(internals.state.length)
  expect(internals.UV_EOF).toBeLessThan(0)
})

test('an accepted handle has every method the raw transport calls', async () => {
  const { port, accepted } = listenRaw()
  connect(port)
  const client = await accepted
  cleanups.push(() => client.close())
  expect(isRawStream(client)).toBe(true)
  for (const method of ['readStop', 'writeLatin1String', 'writeBuffer', 'setNoDelay', 'close'])
    expect(typeof (client as unknown as Record<string, unknown>)[method], method).toBe('function')
  expect(typeof (client as unknown as { writeQueueSize: unknown }).writeQueueSize).toBe('number')
})

test('a raw handle reads into the user buffer and reports its results in streamBaseState', async () => {
  const internals = loadRawStreams()
  if (internals === null) throw new Error('no stream internals: see the test above')
  const { port, accepted } = listenRaw()
  const peer = connect(port)
  const handle = (await accepted) as unknown as RawStream
  cleanups.push(() => handle.close())
  const buffer = Buffer.alloc(1024)
  const results: { result: number; text: string }[] = []
  handle.onread = function onread() {
    const result = internals.state[internals.kReadBytesOrError] as number
    results.push({ result, text: result > 0 ? buffer.toString('latin1', 0, result) : '' })
  }
  handle.useUserBuffer(buffer)
  expect(handle.readStart()).toBe(0)
  peer.end('hello')
  await waitUntil(() => results.length >= 2)
  expect(results).toEqual([
    { result: 5, text: 'hello' },
    { result: internals.UV_EOF, text: '' },
  ])
  // A write through a WriteWrap: done at once on an idle loopback connection, its size reported.
  const received = new Promise<string>((resolve) => peer.once('data', (data) => resolve(data.toString())))
  const request = new internals.WriteWrap()
  request.handle = handle
  request.oncomplete = () => {}
  expect(handle.writev(request, ['wor', 'latin1', Buffer.from('ld'), 'buffer'] as never, false as true)).toBe(0)
  expect(internals.state[internals.kBytesWritten]).toBe(5)
  expect(internals.state[internals.kLastWriteWasAsync]).toBe(0)
  expect(await received).toBe('world')
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
