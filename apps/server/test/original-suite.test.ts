import { createHash, randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { exchange, openExchange } from './helpers/raw-exchange.js'
import { type RunningServer, startServer, waitFor } from './helpers/server-process.js'

// The behaviours the original PyThreadServe test suite checked, against the real supervisor and
// workers, with real clients (fetch for ordinary use, raw sockets where exact bytes matter).

let server: RunningServer

beforeAll(async () => {
  server = await startServer({ files: { 'test.txt': 'This is a test file.\n', 'index.html': '<h1>home</h1>\n' } })
})
afterAll(async () => {
  await server?.stop()
})

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex')
}

async function permitsInUse(): Promise<number> {
  const before = server.stdout().length
  process.kill(server.pid, 'SIGUSR2')
  const line = await waitFor(() => {
    const text = server.stdout().slice(before)
    return text.includes('\n') ? text.slice(0, text.indexOf('\n')) : undefined
  })
  return (JSON.parse(line) as { permitsInUse: number }).permitsInUse
}

describe('the original test suite', () => {
  test('GET of an existing file returns its exact content with the standard headers', async () => {
    const response = await fetch(`${server.url}/test.txt`)
    expect(response.status).toBe(200)
    expect(await response.text()).toBe('This is a test file.\n')
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8')
    expect(response.headers.get('content-length')).toBe('21')
    expect(response.headers.get('connection')).toBe('close')
    expect(response.headers.get('server')).toMatch(/^ThreadServe\/\d+\.\d+\.\d+$/)
    expect(Date.parse(response.headers.get('date') ?? '')).not.toBeNaN()
    expect(Date.parse(response.headers.get('last-modified') ?? '')).not.toBeNaN()
  })

  test('GET of a missing file is 404 with a short text body', async () => {
    const response = await fetch(`${server.url}/no-such-file.txt`)
    expect(response.status).toBe(404)
    expect(await response.text()).toBe('404 Not Found\n')
  })

  test('POST of content is stored and retrievable at its Location', async () => {
    const response = await fetch(`${server.url}/upload`, {
      method: 'POST',
      body: 'uploaded content',
      headers: { 'Content-Type': 'text/plain' },
    })
    expect(response.status).toBe(201)
    const stored = (await response.json()) as { name: string; size: number; sha256: string }
    expect(stored.size).toBe(16)
    expect(stored.sha256).toBe(sha256('uploaded content'))
    expect(stored.name).toMatch(/^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z-[0-9a-f]{8}\.txt$/)
    const location = response.headers.get('location')
    expect(location).toBe(`/uploads/${stored.name}`)
    const fetched = await fetch(`${server.url}${location}`)
    expect(await fetched.text()).toBe('uploaded content')
  })

  test('an empty POST is 400', async () => {
    const response = await fetch(`${server.url}/upload`, { method: 'POST', body: '' })
    expect(response.status).toBe(400)
  })

  test('eight concurrent POSTs with a limit of five: exactly five 201s and three 503s', async () => {
    // Five uploaders send their head and half their body, then hold the connection open: they
    // hold the five permits for as long as the test needs, whatever the timing. Each comes from
    // its own loopback address, as one address may hold only four (--max-posts-per-client).
    const body = randomBytes(2000)
    const slow = Array.from({ length: 5 }, (_, i) => openExchange(server.port, { localAddress: `127.0.0.${i + 2}` }))
    for (const upload of slow) {
      await upload.write(`POST /upload HTTP/1.0\r\nContent-Length: ${body.length}\r\n\r\n`)
      await upload.write(body.subarray(0, 1000))
    }
    await waitFor(async () => ((await permitsInUse()) === 5 ? true : undefined))

    const rejected = await Promise.all(
      Array.from({ length: 3 }, () => fetch(`${server.url}/upload`, { method: 'POST', body: 'one too many' })),
    )
    expect(rejected.map((r) => r.status)).toEqual([503, 503, 503])
    expect(rejected.map((r) => r.headers.get('retry-after'))).toEqual(['1', '1', '1'])

    for (const upload of slow) upload.end(body.subarray(1000))
    const answers = await Promise.all(slow.map((upload) => upload.result))
    expect(answers.map((answer) => answer.status)).toEqual([201, 201, 201, 201, 201])
    await waitFor(async () => ((await permitsInUse()) === 0 ? true : undefined))
  })

  test('a traversal attempt to /../server.log is 404', async () => {
    const response = await exchange(server.port, 'GET /../server.log HTTP/1.0\r\n\r\n')
    expect(response.status).toBe(404)
    expect(response.raw.toString('latin1')).not.toContain('GET /') // no line of the log, anywhere in the answer
  })

  test('PUT is 405 with Allow', async () => {
    const response = await fetch(`${server.url}/test.txt`, { method: 'PUT', body: 'x' })
    expect(response.status).toBe(405)
    expect(response.headers.get('allow')).toBe('GET, HEAD')
  })

  test('a 1 MiB POST is stored byte-exact', async () => {
    const body = randomBytes(1024 * 1024)
    const response = await fetch(`${server.url}/upload`, { method: 'POST', body })
    expect(response.status).toBe(201)
    const stored = (await response.json()) as { name: string; sha256: string }
    expect(stored.sha256).toBe(sha256(body))
    const onDisk = await readFile(`${server.root}/uploads/${stored.name}`)
    expect(sha256(onDisk)).toBe(sha256(body))
    const fetched = Buffer.from(await (await fetch(`${server.url}/uploads/${stored.name}`)).arrayBuffer())
    expect(fetched.equals(body)).toBe(true)
  })

  test('twenty rapid GETs all succeed', async () => {
    const responses = await Promise.all(Array.from({ length: 20 }, () => fetch(`${server.url}/test.txt`)))
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200))
    expect(new Set(await Promise.all(responses.map((r) => r.text())))).toEqual(new Set(['This is a test file.\n']))
  })

  test('the access log has a line for the GETs and the POSTs', async () => {
    const log = await waitFor(async () => {
      const text = await readFile(server.logPath, 'utf8')
      return text.includes('"POST /upload HTTP/1.1" 201') ? text : undefined
    })
    expect(log).toMatch(/"GET \/test\.txt HTTP\/1\.1" 200/)
    expect(log).toMatch(/"POST \/upload HTTP\/1\.0" 503|"POST \/upload HTTP\/1\.1" 503/)
  })
})
