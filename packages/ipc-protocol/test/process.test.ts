import { type ChildProcess, fork } from 'node:child_process'
import { once } from 'node:events'
import net, { connect, createServer, type Server, type Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, test } from 'vitest'
import {
  type Channel,
  type ChannelOptions,
  connectToWorker,
  IpcError,
  type SupervisorMessage,
  type WorkerMessage,
} from '../src/index.js'

type SupervisorChannel = Channel<WorkerMessage, SupervisorMessage>

const FIXTURE = fileURLToPath(new URL('./fixtures/worker.ts', import.meta.url))
const children = new Set<ChildProcess>()
const servers = new Set<Server>()

afterEach(async () => {
  for (const server of servers) server.close()
  servers.clear()
  for (const child of children) await stopByPid(child)
  children.clear()
})

async function stopByPid(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
  const exited = once(child, 'exit')
  try {
    process.kill(child.pid, 'SIGKILL')
  } catch {
    return // it exited between the check and the kill
  }
  await exited
}

// The 'worker' fixture tells the test what its own channel saw as `{ report }` messages outside
// the protocol. They travel the IPC pipe, so they arrive in order with the protocol messages; the
// test reads them from the child's 'message' event and keeps them from the channel's onInvalid.
function isReport(raw: unknown): raw is { report: string } {
  return typeof (raw as { report?: unknown } | null)?.report === 'string'
}

function startWorker(mode: 'worker' | 'silent' | 'garbage', options: ChannelOptions = {}) {
  const child = fork(FIXTURE, [mode], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  children.add(child)
  const reports: string[] = []
  child.on('message', (raw) => {
    if (isReport(raw)) reports.push(raw.report)
  })
  const channel = connectToWorker(child, {
    ...options,
    onInvalid: (error, raw) => {
      if (!isReport(raw)) options.onInvalid?.(error, raw)
    },
  })
  return { child, channel, reports }
}

function reportArrives(child: ChildProcess, reason: string): Promise<void> {
  return new Promise((resolve) => {
    const onMessage = (raw: unknown) => {
      if (!isReport(raw) || raw.report !== reason) return
      child.off('message', onMessage)
      resolve()
    }
    child.on('message', onMessage)
  })
}

function nextMessage<T extends WorkerMessage['type']>(
  channel: SupervisorChannel,
  type: T,
): Promise<Extract<WorkerMessage, { type: T }>> {
  return new Promise((resolve) => {
    const off = channel.on(type, (message) => {
      off()
      resolve(message)
    })
  })
}

function grantPermits(channel: SupervisorChannel): void {
  channel.on('permit-request', ({ requestId }) => {
    channel.send({ type: 'permit-grant', v: 1, requestId, permitId: `permit-${requestId}` })
  })
}

async function listenPaused(onConnection: (socket: Socket) => void): Promise<number> {
  const server = createServer({ pauseOnConnect: true }, onConnection)
  servers.add(server)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no TCP address')
  return address.port
}

async function readAll(socket: Socket): Promise<string> {
  socket.setEncoding('latin1')
  let text = ''
  for await (const chunk of socket) text += chunk
  return text
}

async function rejectionCode(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => new Error('resolved instead of rejecting'),
    (error: unknown) => error,
  )
  return error instanceof IpcError ? error.code : String(error)
}

describe('a forked worker', { timeout: 30_000 }, () => {
  test('reports ready, then gets a permit through request and releases it', async () => {
    const { child, channel } = startWorker('worker')
    grantPermits(channel)
    const ready = nextMessage(channel, 'ready')
    const release = nextMessage(channel, 'permit-release')
    expect(await ready).toEqual({ type: 'ready', v: 1, workerId: 1, pid: child.pid })
    expect((await release).permitId).toBe('permit-1')
  })

  test('answers a stats request from the supervisor', async () => {
    const { channel } = startWorker('worker')
    await nextMessage(channel, 'ready')
    const reply = await channel.request({ type: 'stats-request', v: 1 })
    expect(reply).toMatchObject({ type: 'stats', served: 1 })
  })

  test('serves a client socket handed off by the supervisor, bytes sent before the hand-off included', async () => {
    const { channel } = startWorker('worker')
    await nextMessage(channel, 'ready')
    const port = await listenPaused((socket) => {
      if (!channel.send({ type: 'connection', v: 1, id: 7, acceptedAt: Date.now() }, socket)) socket.destroy()
    })
    const client = connect(port, '127.0.0.1')
    client.write('PING\n')
    // flowing=null: the channel handed the socket over without resuming it.
    expect(await readAll(client)).toBe('hello 7 flowing=null PING\n')
  })

  test('serves a raw TCP handle; `written` fires once it is in the pipe, and closing our copy then loses nothing', async () => {
    const { channel } = startWorker('worker')
    await nextMessage(channel, 'ready')
    // A listening raw handle, as node:cluster's round-robin uses: accepted connections arrive
    // as raw TCP handles, never wrapped in a net.Socket here.
    type RawHandle = {
      listen(backlog: number): number
      getsockname(out: { port?: number }): number
      onconnection: (status: number, client: RawHandle) => void
      close(): void
    }
    const create = (net as unknown as { _createServerHandle: (a: string, p: number, t: 4) => RawHandle })
      ._createServerHandle
    const server = create('127.0.0.1', 0, 4)
    expect(server.listen(16)).toBe(0)
    const address: { port?: number } = {}
    server.getsockname(address)
    const writes: (Error | null)[] = []
    server.onconnection = (status, client) => {
      expect(status).toBe(0)
      channel.send({ type: 'connection', v: 1, id: 8, acceptedAt: Date.now() }, client, undefined, (error) => {
        writes.push(error)
        client.close()
      })
    }
    try {
      const client = connect(address.port as number, '127.0.0.1')
      client.write('RAW\n')
      expect(await readAll(client)).toBe('hello 8 flowing=false RAW\n')
      expect(writes).toEqual([null])
    } finally {
      server.close()
    }
  })

  test('is told when a connection message arrives without its socket', async () => {
    const { child, channel } = startWorker('worker')
    await nextMessage(channel, 'ready')
    const reported = reportArrives(child, 'no-socket:9')
    channel.send({ type: 'connection', v: 1, id: 9, acceptedAt: Date.now() })
    await reported
  })

  test('drops invalid messages from the supervisor, reports them, and keeps serving', async () => {
    const { child, channel, reports } = startWorker('worker')
    await nextMessage(channel, 'ready')
    child.send({ nope: 1 })
    child.send({ type: 'shutdown', v: 9, deadline: 1 })
    child.send('shutdown')
    const reply = await channel.request({ type: 'stats-request', v: 1 })
    expect(reply.type).toBe('stats')
    expect(reports).toEqual(['invalid:INVALID_MESSAGE', 'invalid:VERSION_UNSUPPORTED', 'invalid:INVALID_MESSAGE'])
  })

  test('survives a handler that throws and reports it', async () => {
    const { child, channel, reports } = startWorker('worker')
    await nextMessage(channel, 'ready')
    channel.send({ type: 'log-reopen', v: 1 })
    const reply = await channel.request({ type: 'stats-request', v: 1 })
    expect(reply.type).toBe('stats')
    expect(reports).toEqual(['error:HANDLER_FAILED'])
    expect(child.exitCode).toBeNull()
  })

  test('exits on its own once it closes its channel', async () => {
    const { child, channel } = startWorker('worker')
    grantPermits(channel)
    await nextMessage(channel, 'permit-release')
    const exited = once(child, 'exit')
    channel.send({ type: 'shutdown', v: 1, deadline: Date.now() + 10_000 })
    expect(await exited).toEqual([0, null])
  })
})

describe('the supervisor side', { timeout: 30_000 }, () => {
  test('survives a worker that sends garbage: each is reported and later valid messages arrive', async () => {
    const codes: string[] = []
    const { channel } = startWorker('garbage', { onInvalid: (error) => codes.push(error.code) })
    await nextMessage(channel, 'ready')
    expect(codes).toEqual([
      'INVALID_MESSAGE', // { nope: 1 }
      'INVALID_MESSAGE', // a string
      'INVALID_MESSAGE', // a number
      'INVALID_MESSAGE', // an array
      'VERSION_UNSUPPORTED', // v: 2
      'INVALID_MESSAGE', // workerId: 'one'
      'INVALID_MESSAGE', // an unknown key
      'INVALID_MESSAGE', // an unknown type
    ])
  })

  test('rejects a request with TIMEOUT when the worker never answers', async () => {
    const { channel } = startWorker('silent')
    await nextMessage(channel, 'ready')
    expect(await rejectionCode(channel.request({ type: 'stats-request', v: 1 }, { timeoutMs: 200 }))).toBe('TIMEOUT')
  })

  test('close() rejects a pending request with CLOSED', async () => {
    const { channel } = startWorker('silent')
    await nextMessage(channel, 'ready')
    const pending = channel.request({ type: 'stats-request', v: 1 }, { timeoutMs: 60_000 })
    channel.close()
    expect(await rejectionCode(pending)).toBe('CLOSED')
  })

  test('a worker that dies rejects pending requests with CLOSED', async () => {
    const { child, channel } = startWorker('silent')
    await nextMessage(channel, 'ready')
    const code = rejectionCode(channel.request({ type: 'stats-request', v: 1 }, { timeoutMs: 60_000 }))
    await stopByPid(child)
    expect(await code).toBe('CLOSED')
  })

  test('send after the worker exited returns false and does not throw, with or without a handle', async () => {
    const errors: IpcError[] = []
    const { child, channel } = startWorker('silent', { onError: (error) => errors.push(error) })
    await nextMessage(channel, 'ready')
    await stopByPid(child)
    const port = await listenPaused(() => {})
    const client = connect(port, '127.0.0.1')
    await once(client, 'connect')
    expect(channel.send({ type: 'log-reopen', v: 1 })).toBe(false)
    expect(channel.send({ type: 'connection', v: 1, id: 1, acceptedAt: Date.now() }, client)).toBe(false)
    // An 'error' event without a listener would surface here as an uncaught exception.
    await new Promise((resolve) => setImmediate(resolve))
    expect(errors).toEqual([])
    client.destroy()
  })
})
