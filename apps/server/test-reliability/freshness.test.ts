import { rename, utimes, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { exchange, openExchange } from '../test/helpers/raw-exchange.js'
import { type RunningServer, startServer } from '../test/helpers/server-process.js'
import { sleep } from './helpers/reliability.js'

// Small files are served from a per-worker cache, and a file that changes under load is never
// served stale once the change is visible to stat. Clients read `visible` (the last version whose
// rename has returned) before sending; any answer older than that is a stale read. Every version
// has the same size and the same mtime, so only the inode tells them apart.

const VERSIONS = 60
const LANES = 4
const FIXED_MTIME = new Date('2025-06-01T00:00:00Z')
const content = (version: number): string => `version ${String(version).padStart(6, '0')}\n`
const versionOf = (body: string): number => Number(/^version (\d{6})\n$/.exec(body)?.[1] ?? Number.NaN)

let server: RunningServer
beforeAll(async () => {
  server = await startServer({ args: ['--workers', '2', '--keep-alive'], files: { 'hot.txt': content(0) } })
})
afterAll(async () => {
  await server?.stop()
})

/** One persistent connection, one request at a time; each body in turn ('' once the server closed it). */
function keepAliveClient(port: number): { get(target: string): Promise<string>; close(): void } {
  const connection = openExchange(port, { timeoutMs: 120_000 })
  let sent = 0
  return {
    async get(target) {
      await connection.write(`GET ${target} HTTP/1.1\r\nHost: localhost\r\n\r\n`)
      return (await connection.response(sent++))?.body.toString() ?? ''
    },
    close: () => connection.destroy(),
  }
}

test('a file replaced under load is never served stale once the change is visible to stat', async () => {
  const file = path.join(server.root, 'hot.txt')
  let visible = 0
  let done = false
  const stale: string[] = []
  let requests = 0
  // The highest version each lane has checked an answer against, and a wake-up for the writer.
  const checkedUpTo: number[] = Array(LANES).fill(0)
  let onCheck: (() => void) | null = null
  const check = (lane: number, floor: number, body: string): void => {
    requests++
    const version = versionOf(body)
    if (!(version >= floor)) stale.push(`sent after version ${floor} was visible, got ${JSON.stringify(body)}`)
    checkedUpTo[lane] = Math.max(checkedUpTo[lane] as number, floor)
    onCheck?.()
  }
  const lanes = Array.from({ length: LANES }, async (_, lane) => {
    if (lane % 2 === 0) {
      // one request per connection
      while (!done) {
        const floor = visible
        const answer = await exchange(server.port, 'GET /hot.txt HTTP/1.0\r\n\r\n', {
          halfClose: true,
          timeoutMs: 5000,
        })
        // The body alone when the answer is exactly one response; otherwise every byte, which no
        // version matches.
        check(lane, floor, (answer.exact ? answer.body : answer.raw).toString('latin1'))
      }
      return
    }
    // The same worker, cache entry and all, again and again; a fresh connection every 200
    // requests, well under --keep-alive-requests (after which the server closes).
    while (!done) {
      const client = keepAliveClient(server.port)
      try {
        for (let i = 0; i < 200 && !done; i++) {
          const floor = visible
          check(lane, floor, await client.get('/hot.txt'))
        }
      } finally {
        client.close()
      }
    }
  })
  for (let version = 1; version <= VERSIONS; version++) {
    const temp = `${file}.next`
    await writeFile(temp, content(version))
    await utimes(temp, FIXED_MTIME, FIXED_MTIME)
    await rename(temp, file)
    visible = version
    // Every lane checks this version before the next replacement, so the readers run throughout
    // by construction instead of by how many requests fit in the time a slow machine gives them.
    while (checkedUpTo.some((upTo) => upTo < version)) {
      await new Promise<void>((resolve) => {
        onCheck = resolve
      })
    }
    await sleep(version % 3 === 0 ? 0 : 20)
  }
  await sleep(50)
  done = true
  await Promise.all(lanes)
  console.log(`[freshness] ${VERSIONS} replacements, ${requests} requests, ${stale.length} stale`)
  expect(stale.slice(0, 5)).toEqual([])
  expect(checkedUpTo).toEqual(Array(LANES).fill(VERSIONS)) // every lane checked every version
})
