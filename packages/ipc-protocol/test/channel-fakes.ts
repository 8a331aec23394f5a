import type { ChildProcess } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { type ChannelOptions, connectToWorker, type IpcError, type WorkerMessage } from '../src/index.js'

// Stands in for a ChildProcess (or a forked process): the channel only uses connected, send,
// on/off('message' | 'disconnect') and pid.
export class FakeEndpoint extends EventEmitter {
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

export class FakeHandle {
  destroyed = false
  destroy(): void {
    this.destroyed = true
  }
}

export function setUp(options: ChannelOptions = {}) {
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

export const READY: WorkerMessage = { type: 'ready', v: 1, workerId: 3, pid: 99 }
export const STATS = { type: 'stats', v: 1, inFlight: 1, queued: 2, served: 3, rssBytes: 4 } as const

export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => new Error('resolved instead of rejecting'),
    (error: unknown) => error,
  )
}
