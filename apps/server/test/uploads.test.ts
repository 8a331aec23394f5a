import { createHash, randomBytes } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { exchange } from './helpers/raw-exchange.js'
import { childPids, type RunningServer, rssBytesOf, startServer, waitFor } from './helpers/server-process.js'

// Uploads: unique names, never overwritten, durable before 201, nothing left behind by a client
// that gives up, flat memory whatever the size.

let server: RunningServer

beforeAll(async () => {
  server = await startServer({ args: ['--max-posts', '64', '--max-body', '2GiB', '--body-timeout', '1s'] })
})
afterAll(async () => {
  await server?.stop()
})

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex')
const uploadsDir = (): string => path.join(server.root, 'uploads')

describe('uploads', () => {
  test('50 concurrent uploads give 50 distinct byte-exact files', async () => {
    const bodies = Array.from({ length: 50 }, (_, i) => randomBytes(1000 + i * 997))
    const responses = await Promise.all(
      bodies.map((body) =>
        fetch(`${server.url}/upload`, { method: 'POST', body, headers: { 'Content-Type': 'image/png' } }),
      ),
    )
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(201))
    const stored = (await Promise.all(responses.map((r) => r.json()))) as { name: string; sha256: string }[]
    expect(new Set(stored.map((s) => s.name)).size).toBe(50)
    for (const [i, entry] of stored.entries()) {
      expect(entry.name.endsWith('.png')).toBe(true)
      expect(entry.sha256).toBe(sha256(bodies[i] as Buffer))
      expect(sha256(await readFile(path.join(uploadsDir(), entry.name)))).toBe(entry.sha256)
    }
  })

  test('the extension comes from a filename hint, sanitised', async () => {
    const response = await fetch(`${server.url}/upload`, {
      method: 'POST',
      body: 'x',
      headers: { 'X-File-Name': '../../etc/passwd.CSV' },
    })
    const { name } = (await response.json()) as { name: string }
    expect(name).toMatch(/^[0-9TZ-]+-[0-9a-f]{8}\.csv$/)
  })

  test('a client that aborts mid-body leaves no file and no temp file', async () => {
    const before = await readdir(uploadsDir())
    const socket = net.connect(server.port, '127.0.0.1')
    await new Promise((resolve) => socket.once('connect', resolve))
    socket.write('POST /upload HTTP/1.0\r\nContent-Length: 100000\r\n\r\n')
    socket.write(randomBytes(50_000))
    await waitFor(async () => ((await readdir(uploadsDir())).some((n) => n.startsWith('.upload-')) ? true : undefined))
    socket.destroy()
    const after = await waitFor(async () => {
      const names = await readdir(uploadsDir())
      return names.some((n) => n.startsWith('.')) ? undefined : names
    })
    expect(after.sort()).toEqual(before.sort())
  })

  test('a client that stalls mid-body gets 408 and leaves nothing behind', async () => {
    const before = await readdir(uploadsDir())
    const response = await exchange(server.port, ['POST /upload HTTP/1.0\r\nContent-Length: 10\r\n\r\n', 'abc'])
    expect(response.status).toBe(408)
    const after = await waitFor(async () => {
      const names = await readdir(uploadsDir())
      return names.some((n) => n.startsWith('.')) ? undefined : names
    })
    expect(after.sort()).toEqual(before.sort())
  })

  test('a 1 GiB upload keeps worker memory flat', async () => {
    const total = 1024 ** 3
    const chunk = randomBytes(1024 * 1024)
    const workers = await childPids(server.pid)
    const baseline = Math.max(...(await Promise.all(workers.map(rssBytesOf))))
    let peak = baseline
    const sampler = setInterval(async () => {
      for (const pid of workers) peak = Math.max(peak, await rssBytesOf(pid).catch(() => 0))
    }, 100)
    const hash = createHash('sha256')
    for (let sent = 0; sent < total; sent += chunk.length) hash.update(chunk)
    const head = `POST /upload HTTP/1.0\r\nContent-Type: application/octet-stream\r\nContent-Length: ${total}\r\n\r\n`
    // The same 1 MiB buffer 1024 times, each written once the socket drains: 1 MiB in the client.
    const pieces = [head, ...Array.from({ length: total / chunk.length }, () => chunk)]
    const reply = await exchange(server.port, pieces, { timeoutMs: 170_000 })
    clearInterval(sampler)
    expect(reply.status).toBe(201)
    const body = JSON.parse(reply.body.toString()) as { size: number; sha256: string; name: string }
    expect(body.size).toBe(total)
    expect(body.sha256).toBe(hash.digest('hex'))
    const growth = peak - baseline
    console.log(
      `1 GiB upload: worker RSS baseline ${(baseline / 2 ** 20).toFixed(1)} MiB, peak ${(peak / 2 ** 20).toFixed(1)} MiB, growth ${(growth / 2 ** 20).toFixed(1)} MiB`,
    )
    expect(growth).toBeLessThan(64 * 1024 * 1024)
  }, 180_000)
})
