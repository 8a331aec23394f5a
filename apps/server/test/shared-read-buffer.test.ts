import { createHash, randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { exchange, openExchange, type RawExchange } from './helpers/raw-exchange.js'
import { type RunningServer, startServer } from './helpers/server-process.js'

// A worker reads every connection into one shared buffer (src/transport/read-buffer.ts): a chunk is
// valid only until the next read of any socket, so anything kept past it must be a copy. One
// worker, many connections whose reads interleave: uploads written in odd-sized pieces, a
// multipart form, and pipelined keep-alive GETs. A byte kept without a copy would show up as
// another client's bytes.

const FILE = randomBytes(48 * 1024) // served from the cache: 48 KiB bodies in between
let server: RunningServer

beforeAll(async () => {
  server = await startServer({
    args: ['--workers', '1', '--keep-alive', '--max-posts', '8'],
    files: { 'file.bin': FILE },
  })
})
afterAll(async () => {
  await server?.stop()
})

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex')

/** Sends the head, then `body` in pieces of 1 B to 96 KiB with a turn of the event loop between them. */
function uploadInPieces(body: Buffer): Promise<RawExchange> {
  const pieces: Buffer[] = [Buffer.from(`POST /upload HTTP/1.0\r\nContent-Length: ${body.length}\r\n\r\n`)]
  for (let offset = 0; offset < body.length; ) {
    const size = 1 + Math.floor(Math.random() ** 3 * 96 * 1024)
    pieces.push(body.subarray(offset, offset + size))
    offset += size
  }
  return exchange(server.port, pieces, { pieceGapMs: 0 })
}

/** Three pipelined GETs per write on one persistent connection, `rounds` times; returns the bodies. */
async function pipelinedGets(rounds: number): Promise<Buffer[]> {
  const request = 'GET /file.bin HTTP/1.1\r\nHost: localhost\r\n\r\n'
  const last = request.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n')
  const connection = openExchange(server.port)
  for (let round = 1; round <= rounds; round++) {
    await connection.write(request.repeat(2) + (round === rounds ? last : request))
    await connection.response(round * 3 - 1) // the next round goes out once this one is answered
  }
  const { responses } = await connection.result
  return responses.filter((response) => response.complete).map((response) => response.body)
}

test('interleaved uploads, a form and pipelined GETs on one worker keep every byte their own', async () => {
  const raw = Array.from({ length: 5 }, (_, i) => randomBytes(1024 * 1024 + i * 12_345))
  const formFile = randomBytes(700 * 1024)
  const form = new FormData()
  form.append('file', new Blob([formFile]), 'form.bin')

  const [uploads, formReply, gets] = await Promise.all([
    Promise.all(raw.map(uploadInPieces)),
    fetch(`${server.url}/upload`, { method: 'POST', body: form, headers: { Accept: 'application/json' } }),
    Promise.all([pipelinedGets(20), pipelinedGets(20)]),
  ])

  for (const [i, reply] of uploads.entries()) {
    expect(reply.status).toBe(201)
    const { name, sha256: digest } = JSON.parse(reply.body.toString()) as { name: string; sha256: string }
    expect(digest).toBe(sha256(raw[i] as Buffer))
    expect(sha256(await readFile(path.join(server.root, 'uploads', name)))).toBe(digest)
  }
  expect(formReply.status).toBe(201)
  const { files } = (await formReply.json()) as { files: { name: string; sha256: string }[] }
  expect(files.map((file) => file.sha256)).toEqual([sha256(formFile)])
  expect(sha256(await readFile(path.join(server.root, 'uploads', files[0]?.name ?? '')))).toBe(sha256(formFile))

  const all = gets.flat()
  expect(all).toHaveLength(120)
  for (const body of all) expect(body.equals(FILE)).toBe(true)
})
