import { readdir, readFile, readlink } from 'node:fs/promises'
import { afterEach, expect, test } from 'vitest'
import { exchange } from './helpers/raw-exchange.js'
import { type RunningServer, startServer, waitFor } from './helpers/server-process.js'

// End to end: connections reach the workers over their hand-off pipes by default, over Node's
// IPC with THREADSERVE_NODE_IPC_HANDOFF=1, and the pipes go with the workers that own them.

// The default path whatever the environment of the test run (the suite also runs with the fallback).
const PIPE = { env: { THREADSERVE_NODE_IPC_HANDOFF: '' } }

const servers: RunningServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()))
})

async function environOf(pid: number): Promise<string[]> {
  return (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0')
}

/** Serves 40 requests and returns the worker ids of the access log's lines. */
async function servedBy(server: RunningServer): Promise<Set<string>> {
  for (let i = 0; i < 40; i++) expect((await exchange(server.port, 'GET /test.txt HTTP/1.0\r\n\r\n')).status).toBe(200)
  const log = await waitFor(async () => {
    const text = await readFile(server.logPath, 'utf8')
    return text.split('\n').filter((line) => line.includes('GET /test.txt')).length === 40 ? text : undefined
  })
  // The text format starts each line with the worker: "w1 ...".
  return new Set(log.split('\n').flatMap((line) => line.match(/\bw(\d+)\b/)?.[1] ?? []))
}

test('by default every worker reads its connections from its hand-off pipe (descriptor 4), round-robin', async () => {
  const server = await startServer(PIPE)
  servers.push(server)
  const pids = await waitFor(async () => {
    const found = await server.workerPids()
    return found.length === 2 ? found : undefined
  })
  for (const pid of pids) {
    expect(await environOf(pid)).toContain('THREADSERVE_HAND_OFF_FD=4')
    expect(await readlink(`/proc/${pid}/fd/4`)).toMatch(/^socket:/)
  }
  expect(await servedBy(server)).toEqual(new Set(['1', '2']))
})

test('THREADSERVE_NODE_IPC_HANDOFF=1 hands connections over Node IPC, with no hand-off pipe', async () => {
  const server = await startServer({ env: { THREADSERVE_NODE_IPC_HANDOFF: '1' } })
  servers.push(server)
  const pids = await waitFor(async () => {
    const found = await server.workerPids()
    return found.length === 2 ? found : undefined
  })
  for (const pid of pids) {
    expect((await environOf(pid)).some((entry) => entry.startsWith('THREADSERVE_HAND_OFF_FD='))).toBe(false)
  }
  expect(await servedBy(server)).toEqual(new Set(['1', '2']))
})

test('a killed worker is replaced with a fresh pipe and connections keep being served', async () => {
  const server = await startServer(PIPE)
  servers.push(server)
  const before = await waitFor(async () => {
    const found = await server.workerPids()
    return found.length === 2 ? found : undefined
  })
  const supervisorFds = async (): Promise<number> => (await readdir(`/proc/${server.pid}/fd`)).length
  const fdsBefore = await supervisorFds()
  process.kill(before[0] as number, 'SIGKILL')
  const after = await waitFor(async () => {
    const found = await server.workerPids()
    return found.length === 2 && !found.includes(before[0] as number) ? found : undefined
  })
  const fresh = after.find((pid) => !before.includes(pid)) as number
  expect(await readlink(`/proc/${fresh}/fd/4`)).toMatch(/^socket:/)
  const statuses: number[] = []
  for (let i = 0; i < 20; i++) statuses.push((await exchange(server.port, 'GET /test.txt HTTP/1.0\r\n\r\n')).status)
  expect(statuses).toEqual(Array(20).fill(200))
  // The dead worker's pipe was closed (libuv closes a handle within a loop turn): the supervisor
  // holds as many descriptors as before.
  await waitFor(async () => ((await supervisorFds()) === fdsBefore ? true : undefined))
})

test('SIGHUP under load: no connection already in the pipe of a retiring worker is lost to its drain', async () => {
  const server = await startServer(PIPE)
  servers.push(server)
  const before = await waitFor(async () => {
    const found = await server.workerPids()
    return found.length === 2 ? found : undefined
  })
  let replaced = false
  const statuses: number[] = []
  // Eight clients in a loop, one request per connection, until both workers have been replaced.
  const clients = Array.from({ length: 8 }, async () => {
    while (!replaced) statuses.push((await exchange(server.port, 'GET /test.txt HTTP/1.0\r\n\r\n')).status)
  })
  await new Promise((resolve) => setTimeout(resolve, 200))
  process.kill(server.pid, 'SIGHUP')
  await waitFor(async () => {
    const pids = await server.workerPids()
    return pids.length === 2 && pids.every((pid) => !before.includes(pid)) ? true : undefined
  })
  await new Promise((resolve) => setTimeout(resolve, 200))
  replaced = true
  await Promise.all(clients)
  expect(statuses.length).toBeGreaterThan(50)
  expect(statuses.filter((status) => status !== 200)).toEqual([])
})
