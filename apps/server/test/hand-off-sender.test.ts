import net from 'node:net'
import { afterEach, expect, test } from 'vitest'
import { createHandOffPair } from '../src/common/hand-off-pair.js'
import { loadPipes, type PipeInternals } from '../src/common/node-internals.js'
import { acceptConnections, type TcpHandle } from '../src/common/tcp-handle.js'
import { HandOffSender } from '../src/supervisor/hand-off-sender.js'

// The supervisor's end of a hand-off pipe whose worker stops reading: it fills, says so, and
// gives back the connections still queued when the worker goes.

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup()
})

async function acceptedClients(count: number): Promise<TcpHandle[]> {
  const create = (net as unknown as { _createServerHandle: (a: string, p: number, f: 4) => TcpHandle })
    ._createServerHandle
  const server = create('127.0.0.1', 0, 4)
  cleanups.push(() => server.close())
  const clients: TcpHandle[] = []
  expect(acceptConnections(server, 1024, (client) => clients.push(client), 'test')).toBe(0)
  const address: Record<string, unknown> = {}
  server.getsockname(address)
  for (let i = 0; i < count; i++) {
    const peer = net.connect(Number(address.port), '127.0.0.1')
    peer.on('error', () => {})
    cleanups.push(() => peer.destroy())
  }
  while (clients.length < count) await new Promise((resolve) => setTimeout(resolve, 10))
  return clients
}

test('a worker that stops reading fills its pipe to the bound; on close the queued ones come back', async () => {
  const pipes = loadPipes() as PipeInternals
  const pair = await createHandOffPair(pipes)
  expect(pair).not.toBeNull()
  if (pair === null) return
  // The worker's end stays open and is never read.
  cleanups.push(() => pair.releaseChildEnd())
  const undelivered: TcpHandle[] = []
  const sender = new HandOffSender(pair.sender, pipes, (client) => undelivered.push(client))
  const clients = await acceptedClients(700)
  let sent = 0
  for (const client of clients) {
    if (!sender.hasRoom) break
    expect(sender.send(client, sent, Date.now())).toBe(true)
    sent++
  }
  expect(sender.hasRoom, 'full before all 700: the bound holds').toBe(false)
  expect(sent).toBeLessThan(700)
  await new Promise((resolve) => setTimeout(resolve, 50))
  expect(undelivered).toEqual([])
  sender.close()
  expect(sender.usable).toBe(false)
  await new Promise((resolve) => setTimeout(resolve, 50))
  // Those queued in user space (past the kernel's buffer) were never written: cancelled, given back.
  expect(undelivered.length).toBeGreaterThan(200)
  expect(undelivered.length).toBeLessThan(sent)
  for (const client of [...undelivered, ...clients.slice(sent)]) client.close()
})
