// Compile-time checks of the public types: `pnpm typecheck` fails if one of these lines stops
// compiling, or if a line marked @ts-expect-error starts to. Never run; vitest only picks up *.test.ts.
import type { Socket } from 'node:net'
import type { Channel, ReceivedHandle, SupervisorMessage, WorkerMessage } from '../src/index.js'

declare const worker: Channel<SupervisorMessage, WorkerMessage>
declare const supervisor: Channel<WorkerMessage, SupervisorMessage>
declare const socket: Socket

export async function requestsAreTypedByTheirReplies(): Promise<void> {
  const permit = await worker.request({ type: 'permit-request', v: 1 })
  if (permit.type === 'permit-grant') permit.permitId satisfies string
  else permit.retryAfterSeconds satisfies number
  const stats = await supervisor.request({ type: 'stats-request', v: 1 }, { timeoutMs: 1000 })
  stats.rssBytes satisfies number
  const health = await worker.request({ type: 'health-request', v: 1 }, { timeoutMs: 1000 })
  health.status satisfies 'ok' | 'starting' | 'draining' | 'no-workers'
  // The reply is still assignable to the channel's incoming union.
  ;(await worker.request({ type: 'permit-request', v: 1 })) satisfies SupervisorMessage
}

export async function onlyRequestsCanBeRequested(): Promise<void> {
  // @ts-expect-error 'ready' has no reply
  await worker.request({ type: 'ready', v: 1 })
  // @ts-expect-error 'stats' is a reply, not a request
  await worker.request({ type: 'stats', v: 1, inFlight: 0, queued: 0, served: 0, rssBytes: 0 })
  // @ts-expect-error the channel assigns requestId
  await worker.request({ type: 'permit-request', v: 1, requestId: 1 })
  // @ts-expect-error v is the protocol version
  await worker.request({ type: 'permit-request', v: 2 })
  // @ts-expect-error the worker does not send stats requests
  await worker.request({ type: 'stats-request', v: 1 })
}

export function messagesGoOneWay(): void {
  worker.send({ type: 'ready', v: 1, workerId: 1, pid: 2 })
  supervisor.send({ type: 'connection', v: 1, id: 1, acceptedAt: 0 }, socket)
  // @ts-expect-error a worker does not send 'connection'
  worker.send({ type: 'connection', v: 1, id: 1, acceptedAt: 0 })
  // @ts-expect-error a missing field
  supervisor.send({ type: 'shutdown', v: 1 })
  // @ts-expect-error the supervisor does not receive 'shutdown'
  supervisor.on('shutdown', () => {})
}

export function handlersGetTheNarrowedMessage(): void {
  worker.on('connection', (message, handle) => {
    message.acceptedAt satisfies number
    handle satisfies ReceivedHandle | undefined
  })
  const off = supervisor.on('stats', ({ served }) => served satisfies number)
  off satisfies () => void
}
