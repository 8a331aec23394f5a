import type { ChildProcess } from 'node:child_process'
import { EventEmitter } from 'node:events'
import type { Socket } from 'node:net'
import { describe, expect, test, vi } from 'vitest'
import {
  type ChannelOptions,
  connectToSupervisor,
  connectToWorker,
  IpcError,
  type SupervisorMessage,
  type WorkerMessage,
} from '../src/index.js'

// Stands in for a ChildProcess (or a forked process): the channel only uses connected, send,
// on/off('message' | 'disconnect') and pid.
class FakeEndpoint extends EventEmitter {
  connected = true
  readonly pid = 4242
  exitCode: number | null = null
  signalCode: string | null = null
  readonly sent: { message: unknown; handle: unknown }[] = []
  sendError: Error | null = null
  throwOnSend: Error | null = null
  send(message: unknown, handle: unknown, _options: unknown, done: (error: Error | null) => void): boolean {
    if (this.throwOnSend !== null) throw this.throwOnSend
    this.sent.push({ message, handle })
    const error = this.sendError
    process.nextTick(done, error)
    return false // as Node does for every message queued behind a handle in flight
  }
  deliver(message: unknown, handle?: unknown): void {
    this.emit('message', message, handle)
  }
}

class FakeHandle {
  destroyed = false
  destroy(): void {
    this.destroyed = true
  }
}

function setUp(options: ChannelOptions = {}) {
  const endpoint = new FakeEndpoint()
  const invalid: IpcError[] = []
  const errors: { error: IpcError; context: unknown }[] = []
  const channel = connectToWorker(endpoint as unknown as ChildProcess, {
    onInvalid: (error) => invalid.push(error),
    onError: (error, context) => errors.push({ error, context }),
    ...options,
  })
  return { endpoint, channel, invalid, errors }
}

const READY: WorkerMessage = { type: 'ready', v: 1, workerId: 3, pid: 99 }
const STATS = { type: 'stats', v: 1, inFlight: 1, queued: 2, served: 3, rssBytes: 4 } as const

function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => new Error('resolved instead of rejecting'),
    (error: unknown) => error,
  )
}

describe('send', () => {
  test('passes the message and the handle to the process and returns true, whatever Node returns', () => {
    const { endpoint, channel } = setUp()
    const handle = new FakeHandle() as unknown as Socket
    const message: SupervisorMessage = { type: 'connection', v: 1, id: 1, acceptedAt: 5 }
    expect(channel.send(message, handle)).toBe(true)
    expect(endpoint.sent).toEqual([{ message, handle }])
  })

  test('returns false without sending when the peer is disconnected', () => {
    const { endpoint, channel } = setUp()
    endpoint.connected = false
    expect(channel.send({ type: 'log-reopen', v: 1 })).toBe(false)
    expect(endpoint.sent).toEqual([])
  })

  test('returns false once the child has exited, even before the channel reports its end', () => {
    const { endpoint, channel } = setUp()
    endpoint.signalCode = 'SIGKILL'
    expect(channel.send({ type: 'log-reopen', v: 1 })).toBe(false)
    expect(endpoint.sent).toEqual([])
  })

  test('still delivers what the child sent before it exited, until the disconnect', () => {
    const { endpoint, channel } = setUp()
    const seen: unknown[] = []
    channel.on('ready', (message) => seen.push(message))
    endpoint.exitCode = 0
    endpoint.deliver(READY)
    expect(seen).toEqual([READY])
  })

  test('returns false when Node throws ERR_IPC_CHANNEL_CLOSED', () => {
    const { endpoint, channel } = setUp()
    endpoint.throwOnSend = Object.assign(new Error('Channel closed'), { code: 'ERR_IPC_CHANNEL_CLOSED' })
    expect(channel.send({ type: 'log-reopen', v: 1 })).toBe(false)
  })

  test('rethrows any other synchronous error: that is a bug in the caller', () => {
    const { endpoint, channel } = setUp()
    endpoint.throwOnSend = new TypeError('Do not know how to serialize a BigInt')
    expect(() => channel.send({ type: 'log-reopen', v: 1 })).toThrow(TypeError)
  })

  test('reports an asynchronous send failure as SEND_FAILED', async () => {
    const { endpoint, channel, errors } = setUp()
    endpoint.sendError = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })
    channel.send({ type: 'log-reopen', v: 1 })
    await tick()
    expect(errors.map(({ error }) => error.code)).toEqual(['SEND_FAILED'])
  })

  test('stays silent when Node reports the closed channel asynchronously', async () => {
    const { endpoint, channel, errors } = setUp()
    endpoint.sendError = Object.assign(new Error('Channel closed'), { code: 'ERR_IPC_CHANNEL_CLOSED' })
    channel.send({ type: 'log-reopen', v: 1 })
    await tick()
    expect(errors).toEqual([])
  })

  test('returns false after close()', () => {
    const { endpoint, channel } = setUp()
    channel.close()
    expect(channel.send({ type: 'log-reopen', v: 1 })).toBe(false)
    expect(endpoint.sent).toEqual([])
  })
})

describe('on', () => {
  test('delivers valid messages of the subscribed type only', () => {
    const { endpoint, channel } = setUp()
    const seen: unknown[] = []
    channel.on('ready', (message) => seen.push(message))
    endpoint.deliver({ type: 'permit-release', v: 1, permitId: 'p' })
    endpoint.deliver(READY)
    expect(seen).toEqual([READY])
  })

  test('calls every handler of a type, in subscription order', () => {
    const { endpoint, channel } = setUp()
    const order: string[] = []
    channel.on('ready', () => order.push('first'))
    channel.on('ready', () => order.push('second'))
    endpoint.deliver(READY)
    expect(order).toEqual(['first', 'second'])
  })

  test('stops delivering after unsubscribe, which may be called twice', () => {
    const { endpoint, channel } = setUp()
    let calls = 0
    const off = channel.on('ready', () => calls++)
    endpoint.deliver(READY)
    off()
    off()
    endpoint.deliver(READY)
    expect(calls).toBe(1)
  })

  test('a handler that unsubscribes during dispatch does not make the next one miss the message', () => {
    const { endpoint, channel } = setUp()
    const order: string[] = []
    const off = channel.on('ready', () => {
      order.push('once')
      off()
    })
    channel.on('ready', () => order.push('always'))
    endpoint.deliver(READY)
    endpoint.deliver(READY)
    expect(order).toEqual(['once', 'always', 'always'])
  })

  test('a handler that throws is reported as HANDLER_FAILED with the message, and the others still run', () => {
    const { endpoint, channel, errors } = setUp()
    let later = 0
    channel.on('ready', () => {
      throw new Error('boom')
    })
    channel.on('ready', () => later++)
    endpoint.deliver(READY)
    endpoint.deliver(READY)
    expect(later).toBe(2)
    expect(errors.map(({ error, context }) => [error.code, context])).toEqual([
      ['HANDLER_FAILED', READY],
      ['HANDLER_FAILED', READY],
    ])
    expect(errors[0]?.error.cause).toBeInstanceOf(Error)
  })

  test('an async handler that rejects is reported as HANDLER_FAILED, not left unhandled', async () => {
    const { endpoint, channel, errors } = setUp()
    channel.on('ready', async () => {
      throw new Error('async boom')
    })
    endpoint.deliver(READY)
    await tick()
    expect(errors.map(({ error }) => error.code)).toEqual(['HANDLER_FAILED'])
  })

  test('passes the handle along with the message', () => {
    const endpoint = new FakeEndpoint()
    const worker = connectToSupervisor(endpoint as unknown as NodeJS.Process, { onInvalid: () => {} })
    const handle = new FakeHandle()
    const seen: unknown[] = []
    worker.on('connection', (message, socket) => seen.push(message.id, socket))
    endpoint.deliver({ type: 'connection', v: 1, id: 12, acceptedAt: 1 }, handle)
    expect(seen).toEqual([12, handle])
    expect(handle.destroyed).toBe(false)
  })

  test('closes a handle that arrives with a message nobody subscribed to', () => {
    const endpoint = new FakeEndpoint()
    connectToSupervisor(endpoint as unknown as NodeJS.Process, { onInvalid: () => {} })
    const handle = new FakeHandle()
    endpoint.deliver({ type: 'connection', v: 1, id: 12, acceptedAt: 1 }, handle)
    expect(handle.destroyed).toBe(true)
  })
})

describe('invalid input', () => {
  test('an invalid message is reported with the raw value and dropped', () => {
    const { endpoint, channel, invalid } = setUp()
    const onInvalid = vi.fn()
    const seen: unknown[] = []
    const strict = connectToWorker(endpoint as unknown as ChildProcess, { onInvalid })
    strict.on('ready', (message) => seen.push(message))
    channel.on('ready', () => {})
    endpoint.deliver({ ...READY, workerId: -1 })
    expect(seen).toEqual([])
    expect(onInvalid).toHaveBeenCalledWith(expect.any(IpcError), { ...READY, workerId: -1 })
    expect(invalid.map((error) => error.code)).toEqual(['INVALID_MESSAGE'])
  })

  test('a message of the other direction is invalid', () => {
    const { endpoint, invalid } = setUp()
    endpoint.deliver({ type: 'log-reopen', v: 1 })
    expect(invalid.map((error) => error.code)).toEqual(['INVALID_MESSAGE'])
  })

  test('another protocol version is reported as VERSION_UNSUPPORTED', () => {
    const { endpoint, invalid } = setUp()
    endpoint.deliver({ ...READY, v: 2 })
    expect(invalid.map((error) => error.code)).toEqual(['VERSION_UNSUPPORTED'])
  })

  test('an onInvalid callback that throws does not throw out of the message listener', () => {
    const endpoint = new FakeEndpoint()
    connectToWorker(endpoint as unknown as ChildProcess, {
      onInvalid: () => {
        throw new Error('reporter bug')
      },
    })
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    try {
      expect(() => endpoint.deliver('garbage')).not.toThrow()
      expect(String(write.mock.calls[0]?.[0])).toContain('INVALID_MESSAGE')
    } finally {
      write.mockRestore()
    }
  })

  test("Node's internal NODE_ messages are ignored silently", () => {
    const { endpoint, invalid } = setUp()
    endpoint.deliver({ cmd: 'NODE_CLUSTER', act: 'online' })
    expect(invalid).toEqual([])
  })

  test('a handle that arrives with an invalid message is closed', () => {
    const { endpoint } = setUp()
    const handle = new FakeHandle()
    endpoint.deliver({ type: 'connection', v: 1, id: 1, acceptedAt: 1 }, handle)
    expect(handle.destroyed).toBe(true)
  })

  test('by default an invalid message is one line on stderr naming the peer and the code', () => {
    const endpoint = new FakeEndpoint()
    connectToWorker(endpoint as unknown as ChildProcess)
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    try {
      endpoint.deliver('garbage')
      expect(write).toHaveBeenCalledTimes(1)
      const line = String(write.mock.calls[0]?.[0])
      expect(line).toMatch(/^ipc-protocol: .*worker 4242.*INVALID_MESSAGE.*\n$/)
      expect(line.indexOf('\n')).toBe(line.length - 1)
    } finally {
      write.mockRestore()
    }
  })

  test('with validate: false, objects with a string type pass unchecked but non-objects are still dropped', () => {
    const { endpoint, channel, invalid } = setUp({ validate: false })
    const seen: unknown[] = []
    channel.on('ready', (message) => seen.push(message))
    endpoint.deliver({ type: 'ready', v: 7 })
    endpoint.deliver('ready')
    expect(seen).toEqual([{ type: 'ready', v: 7 }])
    expect(invalid.map((error) => error.code)).toEqual(['INVALID_MESSAGE'])
  })
})

describe('request', () => {
  test('assigns increasing request ids and resolves with the matching reply', async () => {
    const { endpoint, channel } = setUp()
    const first = channel.request({ type: 'stats-request', v: 1 })
    const second = channel.request({ type: 'stats-request', v: 1 })
    expect(endpoint.sent.map(({ message }) => message)).toEqual([
      { type: 'stats-request', v: 1, requestId: 1 },
      { type: 'stats-request', v: 1, requestId: 2 },
    ])
    endpoint.deliver({ ...STATS, requestId: 2, served: 20 })
    endpoint.deliver({ ...STATS, requestId: 1, served: 10 })
    expect((await first).served).toBe(10)
    expect((await second).served).toBe(20)
  })

  test('a reply is not also delivered to on() handlers', async () => {
    const { endpoint, channel } = setUp()
    const handled: unknown[] = []
    channel.on('stats', (message) => handled.push(message))
    const reply = channel.request({ type: 'stats-request', v: 1 })
    endpoint.deliver({ ...STATS, requestId: 1 })
    await reply
    expect(handled).toEqual([])
  })

  test("the peer's own request with the same id does not resolve ours", async () => {
    const endpoint = new FakeEndpoint()
    const worker = connectToSupervisor(endpoint as unknown as NodeJS.Process, { onInvalid: () => {} })
    const grants: unknown[] = []
    // The worker's permit-request #1 is pending; the supervisor's stats-request #1 arrives.
    const permit = worker.request({ type: 'permit-request', v: 1 })
    worker.on('stats-request', (message) => grants.push(message))
    endpoint.deliver({ type: 'stats-request', v: 1, requestId: 1 })
    endpoint.deliver({ type: 'permit-grant', v: 1, requestId: 1, permitId: 'p-1' })
    expect(grants).toEqual([{ type: 'stats-request', v: 1, requestId: 1 }])
    expect(await permit).toEqual({ type: 'permit-grant', v: 1, requestId: 1, permitId: 'p-1' })
  })

  test("a worker's health-request resolves with the supervisor's health reply", async () => {
    const endpoint = new FakeEndpoint()
    const worker = connectToSupervisor(endpoint as unknown as NodeJS.Process, { onInvalid: () => {} })
    const reply = worker.request({ type: 'health-request', v: 1 }, { timeoutMs: 1000 })
    expect(endpoint.sent.map(({ message }) => message)).toEqual([{ type: 'health-request', v: 1, requestId: 1 }])
    const health = { type: 'health', v: 1, requestId: 1, status: 'draining', workers: 2, permitsInUse: 1 } as const
    endpoint.deliver(health)
    expect(await reply).toEqual(health)
  })

  test('rejects with TIMEOUT, and the late reply then goes to on() handlers', async () => {
    const endpoint = new FakeEndpoint()
    const worker = connectToSupervisor(endpoint as unknown as NodeJS.Process, { onInvalid: () => {} })
    const late: string[] = []
    worker.on('permit-grant', ({ permitId }) => late.push(permitId))
    const error = await rejectionOf(worker.request({ type: 'permit-request', v: 1 }, { timeoutMs: 10 }))
    expect(error).toBeInstanceOf(IpcError)
    expect((error as IpcError).code).toBe('TIMEOUT')
    expect((error as IpcError).status).toBe(503)
    endpoint.deliver({ type: 'permit-grant', v: 1, requestId: 1, permitId: 'p-late' })
    expect(late).toEqual(['p-late'])
  })

  test('uses requestTimeoutMs from the channel options as the default', async () => {
    const { channel } = setUp({ requestTimeoutMs: 10 })
    const error = await rejectionOf(channel.request({ type: 'stats-request', v: 1 }))
    expect((error as IpcError).code).toBe('TIMEOUT')
  })

  test('close() rejects every pending request with CLOSED', async () => {
    const { channel } = setUp()
    const pending = [
      rejectionOf(channel.request({ type: 'stats-request', v: 1 }, { timeoutMs: Number.POSITIVE_INFINITY })),
      rejectionOf(channel.request({ type: 'stats-request', v: 1 })),
    ]
    channel.close()
    const errors = await Promise.all(pending)
    expect(errors.map((error) => (error as IpcError).code)).toEqual(['CLOSED', 'CLOSED'])
  })

  test('a disconnect rejects pending requests with CLOSED and ends delivery', async () => {
    const { endpoint, channel } = setUp()
    const seen: unknown[] = []
    channel.on('ready', (message) => seen.push(message))
    const pending = rejectionOf(channel.request({ type: 'stats-request', v: 1 }))
    endpoint.connected = false
    endpoint.emit('disconnect')
    expect(((await pending) as IpcError).code).toBe('CLOSED')
    expect(endpoint.listenerCount('message')).toBe(0)
    expect(endpoint.listenerCount('disconnect')).toBe(0)
  })

  test('rejects with CLOSED at once when the channel is closed', async () => {
    const { channel } = setUp()
    channel.close()
    const error = await rejectionOf(channel.request({ type: 'stats-request', v: 1 }))
    expect((error as IpcError).code).toBe('CLOSED')
  })

  test('rejects with CLOSED when the peer is already gone', async () => {
    const { endpoint, channel } = setUp()
    endpoint.connected = false
    const error = await rejectionOf(channel.request({ type: 'stats-request', v: 1 }))
    expect((error as IpcError).code).toBe('CLOSED')
  })

  test('throws for a message type that has no reply', () => {
    const { channel } = setUp()
    const notARequest = { type: 'log-reopen', v: 1 } as unknown as Parameters<typeof channel.request>[0]
    expect(() => channel.request(notARequest)).toThrow(TypeError)
  })

  test.each([0, -1, Number.NaN, 2 ** 31])('throws for timeoutMs %s', (timeoutMs) => {
    const { channel } = setUp()
    expect(() => channel.request({ type: 'stats-request', v: 1 }, { timeoutMs })).toThrow(RangeError)
  })
})

describe('connecting', () => {
  test('to a child without an IPC channel throws NO_IPC_CHANNEL', () => {
    const child = new EventEmitter() as unknown as ChildProcess
    expect(() => connectToWorker(child)).toThrow(expect.objectContaining({ code: 'NO_IPC_CHANNEL' }))
  })

  test('from a process that was not forked throws NO_IPC_CHANNEL', () => {
    const proc = new EventEmitter() as unknown as NodeJS.Process
    expect(() => connectToSupervisor(proc)).toThrow(expect.objectContaining({ code: 'NO_IPC_CHANNEL' }))
  })

  test('to an already disconnected child gives a closed channel that attaches no listener', () => {
    const endpoint = new FakeEndpoint()
    endpoint.connected = false
    const channel = connectToWorker(endpoint as unknown as ChildProcess)
    expect(channel.send({ type: 'log-reopen', v: 1 })).toBe(false)
    expect(endpoint.listenerCount('message')).toBe(0)
  })

  test('close() detaches from the process', () => {
    const { endpoint, channel } = setUp()
    expect(endpoint.listenerCount('message')).toBe(1)
    channel.close()
    channel.close()
    expect(endpoint.listenerCount('message')).toBe(0)
    expect(endpoint.listenerCount('disconnect')).toBe(0)
  })
})
