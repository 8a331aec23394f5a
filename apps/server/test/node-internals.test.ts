import { spawn } from 'node:child_process'
import net from 'node:net'
import { afterEach, expect, test } from 'vitest'
import { createHandOffPair } from '../src/common/hand-off-pair.js'
import {
  loadPipes,
  loadRawStreams,
  type PipeHandle,
  type PipeInternals,
  RAW_STREAM_METHODS,
  type RawStream,
} from '../src/common/node-internals.js'
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
  // The methods loadRawStreams checks on the TCP prototype are the ones an accepted handle has.
  for (const method of RAW_STREAM_METHODS)
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

// The hand-off pipe (common/hand-off-pair.ts, supervisor/hand-off-sender.ts,
// worker/hand-off-receiver.ts): process.binding('pipe_wrap') and stream_wrap's pieces, checked by
// name, then a pair made and a TCP handle sent over it with a frame to a child, as the server does.

test("process.binding('pipe_wrap') and stream_wrap have what the hand-off pipe uses", () => {
  const bind = (process as unknown as { binding: (name: string) => Record<string, unknown> }).binding
  const pipes = bind('pipe_wrap')
  const streams = bind('stream_wrap')
  expect(typeof pipes.Pipe, 'Pipe').toBe('function')
  expect(typeof pipes.PipeConnectWrap, 'PipeConnectWrap').toBe('function')
  const constants = pipes.constants as Record<string, unknown>
  for (const name of ['SERVER', 'IPC']) expect(typeof constants[name], `constants.${name}`).toBe('number')
  const prototype = (pipes.Pipe as { prototype: Record<string, unknown> }).prototype
  for (const method of [
    'bind',
    'listen',
    'connect',
    'open',
    'readStart',
    'readStop',
    'writeBuffer',
    'shutdown',
    'close',
  ])
    expect(typeof prototype[method], `Pipe.prototype.${method}`).toBe('function')
  for (const name of ['WriteWrap', 'ShutdownWrap']) expect(typeof streams[name], name).toBe('function')
  expect(streams.streamBaseState, 'streamBaseState').toBeInstanceOf(Int32Array)
  for (const name of ['kReadBytesOrError', 'kArrayBufferOffset', 'kLastWriteWasAsync'])
    expect(typeof streams[name], name).toBe('number')
  expect(loadPipes(), 'node-internals.ts loads them all').not.toBeNull()
})

test('createHandOffPair gives a connected IPC end and the descriptor of the other', async () => {
  const pair = await createHandOffPair(loadPipes())
  expect(pair, 'a pair (Linux, internals present)').not.toBeNull()
  if (pair === null) return
  cleanups.push(() => pair.sender.close())
  expect(pair.childFd).toBeGreaterThan(2)
  // The accepted end is a working socket: what the sender writes, a net.Socket on it reads.
  const other = new net.Socket({ fd: pair.childFd, readable: true, writable: true })
  cleanups.push(() => other.destroy())
  const read = new Promise<string>((resolve) => other.once('data', (data) => resolve(data.toString('latin1'))))
  const internals = loadPipes() as PipeInternals
  const request = new internals.WriteWrap()
  request.oncomplete = () => {}
  expect(pair.sender.writeBuffer(request, Buffer.from('ping'))).toBe(0)
  expect(await read).toBe('ping')
})

// A child that opens descriptor 4 as an IPC pipe and, for every read, reports the bytes and the
// handle node attached (pipe.pendingHandle), answering on each TCP handle it gets. With a
// descriptor limit (argv[1]) it first uses up its descriptors, to see what a full worker gets.
const HAND_OFF_CHILD = `
const net = require('node:net')
const { Pipe, constants } = process.binding('pipe_wrap')
const { streamBaseState, kReadBytesOrError, kArrayBufferOffset } = process.binding('stream_wrap')
const hog = []
if (process.argv[1] === 'full') for (;;) { try { hog.push(require('node:fs').openSync('/dev/null', 'r')) } catch { break } }
const pipe = new Pipe(constants.IPC)
if (pipe.open(4) !== 0) process.exit(3)
pipe.onread = (buffer) => {
  const nread = streamBaseState[kReadBytesOrError]
  const handle = pipe.pendingHandle
  pipe.pendingHandle = null
  if (nread < 0) return process.exit(0)
  const bytes = Buffer.from(buffer, streamBaseState[kArrayBufferOffset], nread)
  const line = { bytes: bytes.toString('hex'), handle: handle ? handle.constructor.name : null }
  process.stdout.write(JSON.stringify(line) + '\\n')
  if (handle) new net.Socket({ handle }).end('child ' + bytes.subarray(-1).toString('hex'))
}
pipe.readStart()
process.stdout.write('{"ready":true}\\n')
`

async function handOffChild(mode: 'normal' | 'full'): Promise<{ sender: PipeHandle; lines: () => unknown[] }> {
  const internals = loadPipes() as PipeInternals
  const pair = await createHandOffPair(internals)
  expect(pair).not.toBeNull()
  if (pair === null) throw new Error('no pair')
  const shell = mode === 'full' ? ['sh', ['-c', 'ulimit -n 64 && exec "$0" "$@"', process.execPath]] : null
  const [command, prefix] = shell ?? [process.execPath, []]
  const child = spawn(command as string, [...(prefix as string[]), '-e', HAND_OFF_CHILD, mode], {
    stdio: ['ignore', 'pipe', 'inherit', 'ignore', pair.childFd],
  })
  pair.releaseChildEnd()
  cleanups.push(() => child.kill('SIGKILL'))
  cleanups.push(() => pair.sender.close())
  let text = ''
  child.stdout?.on('data', (data) => {
    text += data
  })
  const lines = (): unknown[] =>
    text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line))
  await waitUntil(() => text.includes('"ready"'))
  return { sender: pair.sender, lines }
}

/** Writes a frame ending in byte `tag` with `handle` attached; resolves with the write's status. */
function sendWithHandle(sender: PipeHandle, tag: number, handle: TcpHandle): Promise<number> {
  const internals = loadPipes() as PipeInternals
  const frame = Buffer.alloc(16, 0)
  frame[15] = tag
  return new Promise<number>((resolve) => {
    const request = new internals.WriteWrap()
    request.oncomplete = (status) => resolve(status)
    const status = sender.writeBuffer(request, frame, handle)
    if (status !== 0) resolve(status)
  })
}

async function answerFrom(peer: net.Socket): Promise<string> {
  let text = ''
  peer.on('data', (data) => {
    text += data
  })
  await new Promise((resolve) => peer.once('end', resolve))
  return text
}

test('a TCP handle written with a frame on the pair reaches the child as pendingHandle with its bytes', async () => {
  const { sender, lines } = await handOffChild('normal')
  const peers: net.Socket[] = []
  const tags = [1, 2, 3]
  const handles: TcpHandle[] = []
  for (const _ of tags) {
    const next = listenRaw()
    peers.push(connect(next.port))
    handles.push(await next.accepted)
  }
  // Back to back, no wait in between: no acknowledgement per handle.
  const statuses = await Promise.all(tags.map((tag, i) => sendWithHandle(sender, tag, handles[i] as TcpHandle)))
  expect(statuses).toEqual([0, 0, 0])
  for (const handle of handles) handle.close() // the child has its own copies now
  const answers = await Promise.all(peers.map(answerFrom))
  expect(answers).toEqual(['child 01', 'child 02', 'child 03'])
  // Each read carried one frame and the handle sent with it (Linux ends a read at a message
  // with descriptors; libuv takes one descriptor per read).
  const reads = lines().filter((line) => (line as { bytes?: string }).bytes !== undefined)
  expect(reads).toEqual(tags.map((tag) => ({ bytes: `${'00'.repeat(15)}0${tag}`, handle: 'TCP' })))
})

test('a child out of descriptors gets the frame without the handle, and lives on', async () => {
  const { sender, lines } = await handOffChild('full')
  const next = listenRaw()
  const peer = connect(next.port)
  const handle = await next.accepted
  expect(await sendWithHandle(sender, 9, handle)).toBe(0)
  handle.close()
  // The kernel could not install the descriptor (MSG_CTRUNC, not reported by libuv): the bytes
  // come, the handle does not, and the client sees its connection closed.
  const closed = new Promise<void>((resolve) => peer.once('close', () => resolve()))
  peer.on('error', () => {})
  await waitUntil(() => lines().length > 1)
  expect(lines()[1]).toEqual({ bytes: `${'00'.repeat(15)}09`, handle: null })
  await closed
})
