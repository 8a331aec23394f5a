import { rename, utimes, writeFile } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { ResponseParser } from '@threadserve/http10-parser'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { type RunningServer, startServer } from '../test/helpers/server-process.js'
import { bodyOfBuffer, exchange, sleep } from './helpers/reliability.js'

// Issue 7: small files are served from a per-worker cache, and a file that changes under load is
// never served stale once the change is visible to stat. Clients read `visible` (the last version
// whose rename has returned) before sending; any answer older than that is a stale read. Every
// version has the same size and the same mtime, so only the inode tells them apart.

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

/** One persistent connection, one request at a time; resolves with each body in turn. */
function keepAliveClient(port: number): { get(target: string): Promise<string>; close(): void } {
  const socket = net.connect(port, '127.0.0.1')
  const parser = new ResponseParser()
  let body: Buffer[] = []
  let waiting: ((text: string) => void) | null = null
  socket.on('data', (chunk: Buffer) => {
    const step = parser.push(chunk)
    if (step.body !== null) body.push(step.body)
    if (step.done) {
      const text = Buffer.concat(body).toString()
      body = []
      parser.reset()
      waiting?.(text)
    }
  })
  return {
    get(target) {
      return new Promise((resolve) => {
        waiting = resolve
        socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`)
      })
    },
    close: () => socket.destroy(),
  }
}

test('a file replaced under load is never served stale once the change is visible to stat', async () => {
  const file = path.join(server.root, 'hot.txt')
  let visible = 0
  let done = false
  const stale: string[] = []
  let requests = 0
  const check = (floor: number, body: string): void => {
    requests++
    const version = versionOf(body)
    if (!(version >= floor)) stale.push(`sent after version ${floor} was visible, got ${JSON.stringify(body)}`)
  }
  const lanes = Array.from({ length: LANES }, async (_, lane) => {
    if (lane % 2 === 0) {
      // one request per connection
      while (!done) {
        const floor = visible
        const answer = await exchange(server.port, 'GET /hot.txt HTTP/1.0\r\n\r\n', { timeoutMs: 5000 })
        check(floor, bodyOfBuffer(answer.response).toString())
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
          check(floor, await client.get('/hot.txt'))
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
    await sleep(version % 3 === 0 ? 0 : 20)
  }
  await sleep(50)
  done = true
  await Promise.all(lanes)
  console.log(`[freshness] ${VERSIONS} replacements, ${requests} requests, ${stale.length} stale`)
  expect(stale.slice(0, 5)).toEqual([])
  expect(requests).toBeGreaterThan(VERSIONS * LANES) // the readers really ran throughout
})
