import type { ChildProcess } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { describe, expect, test } from 'vitest'
import { connectToSupervisor, connectToWorker, IpcError } from '../src/index.js'
import { FakeEndpoint, rejectionOf, STATS, setUp } from './channel-fakes.js'

// The channel's requests and replies, and connecting a channel to a process (channel.test.ts
// has sending, handlers and invalid input).

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
