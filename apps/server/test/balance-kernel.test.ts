import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { exchange } from './helpers/raw-exchange.js'
import { type RunningServer, startServer, waitFor } from './helpers/server-process.js'

// `--balance kernel`: the workers accept on the supervisor's bound socket themselves. The same
// guarantees hold: every request answered, uploads stored, a killed worker replaced.

let server: RunningServer

beforeAll(async () => {
  // An hour of grace: see 'SIGTERM drains and exits 0' below.
  server = await startServer({ args: ['--balance', 'kernel', '--workers', '2', '--shutdown-grace', '1h'] })
})
afterAll(async () => {
  await server?.stop()
})

describe('--balance kernel', () => {
  test('serves GETs from both workers', async () => {
    // Which worker the kernel wakes is its choice: one fast worker may take a whole burst. Bursts
    // go on (bounded) until the log shows both; every answer must be a 200 meanwhile.
    const { readFile } = await import('node:fs/promises')
    const workersInLog = async (): Promise<Set<string>> =>
      new Set((await readFile(server.logPath, 'utf8')).match(/ w\d /g) ?? [])
    for (let burst = 0; burst < 50 && (await workersInLog()).size < 2; burst++) {
      const responses = await Promise.all(Array.from({ length: 40 }, () => fetch(`${server.url}/test.txt`)))
      expect(responses.map((r) => r.status)).toEqual(Array(40).fill(200))
      await Promise.all(responses.map((r) => r.arrayBuffer()))
      await new Promise((resolve) => setTimeout(resolve, 20 * burst)) // the log is written behind
    }
    expect(await workersInLog()).toEqual(new Set([' w1 ', ' w2 ']))
  })

  test('workers accept themselves: with the supervisor stopped, GETs are still answered', async () => {
    // With the default hand-off a stopped supervisor accepts nothing, and this would time out.
    process.kill(server.pid, 'SIGSTOP')
    try {
      const statuses = []
      for (let i = 0; i < 5; i++)
        statuses.push((await exchange(server.port, 'GET /test.txt HTTP/1.0\r\n\r\n', { timeoutMs: 5000 })).status)
      expect(statuses).toEqual(Array(5).fill(200))
    } finally {
      process.kill(server.pid, 'SIGCONT')
    }
  })

  test('stores an upload', async () => {
    const response = await fetch(`${server.url}/upload`, { method: 'POST', body: 'kernel balanced' })
    expect(response.status).toBe(201)
    const location = response.headers.get('location')
    expect(await (await fetch(`${server.url}${location}`)).text()).toBe('kernel balanced')
  })

  test('a killed worker is replaced and the other keeps accepting meanwhile', async () => {
    const [victim, survivor] = await server.workerPids()
    process.kill(victim as number, 'SIGKILL')
    const statuses: number[] = []
    for (let i = 0; i < 20; i++) statuses.push((await exchange(server.port, 'GET /test.txt HTTP/1.0\r\n\r\n')).status)
    expect(statuses).toEqual(Array(20).fill(200))
    const pids = await waitFor(
      async () => {
        const now = await server.workerPids()
        return now.length === 2 && !now.includes(victim as number) ? now : undefined
      },
      10_000,
      'replacement worker',
    )
    expect(pids).toContain(survivor)
  })

  test('SIGTERM drains and exits 0', async () => {
    // Nothing is in flight, so the server must not wait for its grace period (an hour here).
    // stop() sends SIGKILL if the server is still running 15 s after SIGTERM, and a killed
    // server has no exit code: 0 shows it left on its own, with no bound on how fast.
    expect(await server.stop('SIGTERM')).toBe(0)
  })
})
