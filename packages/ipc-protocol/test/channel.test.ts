import type { ChildProcess } from 'node:child_process'
import type { Socket } from 'node:net'
import { describe, expect, test, vi } from 'vitest'
import { connectToSupervisor, connectToWorker, IpcError, type SupervisorMessage } from '../src/index.js'
import { FakeEndpoint, FakeHandle, READY, setUp, tick } from './channel-fakes.js'

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
