import { randomBytes } from 'node:crypto'
import { utimes, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { exchange, type RawExchange } from './helpers/raw-exchange.js'
import { type RunningServer, startServer } from './helpers/server-process.js'

// Range (RFC 9110 §14), its validators (ETag, Last-Modified, §8.8) and the conditional requests
// that use them (§13), end to end on the real server, with raw requests whose bytes are exactly
// the ones written here, and with fetch. Small files are served from the worker's memory cache
// and large ones (over its 256 KiB limit) streamed from disk: every range case runs on both.

const SMALL = randomBytes(10_000)
const LARGE = randomBytes(300 * 1024 + 77)
const MTIME = new Date('2025-03-04T05:06:07Z')
const MTIME_HTTP = 'Tue, 04 Mar 2025 05:06:07 GMT'

let server: RunningServer

beforeAll(async () => {
  server = await startServer({ files: { 'small.bin': SMALL, 'large.bin': LARGE, 'rewritten.txt': 'first\n' } })
  for (const name of ['small.bin', 'large.bin']) await utimes(path.join(server.root, name), MTIME, MTIME)
})
afterAll(async () => {
  await server?.stop()
})

/** A raw HTTP/1.0 request with these header lines. */
function request(target: string, fields: readonly string[] = [], method = 'GET'): Promise<RawExchange> {
  const head = `${method} ${target} HTTP/1.0\r\n${fields.map((field) => `${field}\r\n`).join('')}\r\n`
  return exchange(server.port, head, method === 'HEAD' ? { headResponses: true } : {})
}

/** The ETag the server gives a file now. */
async function etagOf(target: string): Promise<string> {
  const answer = await request(target, [], 'HEAD')
  return answer.headers.get('etag') ?? ''
}

describe.each([
  { file: 'a cached small file', target: '/small.bin', bytes: SMALL },
  { file: 'a streamed large file', target: '/large.bin', bytes: LARGE },
])('Range on $file', ({ target, bytes }) => {
  const size = bytes.length

  test.each(
    [
      { name: 'a first-last range', range: 'bytes=10-109', start: 10, end: 109 },
      { name: 'a one-byte range', range: 'bytes=0-0', start: 0, end: 0 },
      { name: 'an open-ended range', range: `bytes=${size - 100}-`, start: size - 100, end: size - 1 },
      { name: 'a suffix range', range: 'bytes=-100', start: size - 100, end: size - 1 },
      { name: 'a range across the 64 KiB read size', range: 'bytes=65000-70000', start: 65000, end: 70000 },
      {
        name: 'a last-pos past the end, clipped',
        range: `bytes=${size - 5}-${size + 999}`,
        start: size - 5,
        end: size - 1,
      },
      { name: 'a suffix longer than the file, clipped', range: `bytes=-${size + 1}`, start: 0, end: size - 1 },
      { name: 'a satisfiable range beside one past the end', range: `bytes=0-9,${size + 10}-`, start: 0, end: 9 },
    ].filter(({ end }) => end < size),
  )('$name -> 206 with exactly those bytes', async ({ range, start, end }) => {
    const answer = await request(target, [`Range: ${range}`])
    expect(answer.status).toBe(206)
    expect(answer.exact).toBe(true)
    expect(answer.headers.get('content-range')).toBe(`bytes ${start}-${end}/${size}`)
    expect(answer.headers.get('content-length')).toBe(String(end - start + 1))
    expect(answer.body.equals(bytes.subarray(start, end + 1))).toBe(true)
  })

  test.each([
    { name: 'a first-pos at the end', range: `bytes=${size}-` },
    { name: 'a range wholly past the end', range: `bytes=${size + 1}-${size + 9}` },
    { name: 'a suffix of zero bytes', range: 'bytes=-0' },
    { name: 'two ranges, both past the end', range: `bytes=${size}-,${size + 5}-${size + 6}` },
  ])('$name -> 416 with Content-Range bytes */size', async ({ range }) => {
    const answer = await request(target, [`Range: ${range}`])
    expect(answer.status).toBe(416)
    expect(answer.headers.get('content-range')).toBe(`bytes */${size}`)
  })

  test.each([
    { name: 'no "=" after the unit', range: 'bytes 0-1' },
    { name: 'a number that is not one', range: 'bytes=abc-' },
    { name: 'last-pos before first-pos', range: 'bytes=5-1' },
    { name: 'a stray character after a range', range: 'bytes=0-1x' },
    { name: 'nothing after "="', range: 'bytes=' },
    { name: 'another unit', range: 'items=0-1' },
    { name: 'a number of 16 digits', range: 'bytes=0-1234567890123456' },
  ])('an invalid Range ($name) is ignored: 200 with the whole file', async ({ range }) => {
    const answer = await request(target, [`Range: ${range}`])
    expect(answer.status).toBe(200)
    expect(answer.headers.get('content-range')).toBeUndefined()
    expect(answer.body.equals(bytes)).toBe(true)
  })

  test('two satisfiable ranges -> 200 with the whole file', async () => {
    const answer = await request(target, ['Range: bytes=0-9,20-29'])
    expect(answer.status).toBe(200)
    expect(answer.headers.get('content-range')).toBeUndefined()
    expect(answer.body.equals(bytes)).toBe(true)
  })

  test('HEAD with a Range gets the head GET gets: 206, the range length, and no body', async () => {
    const fields = ['Range: bytes=100-199']
    const got = await request(target, fields)
    const headed = await request(target, fields, 'HEAD')
    expect(headed.status).toBe(206)
    expect(headed.exact).toBe(true)
    expect(headed.raw.toString('latin1').endsWith('\r\n\r\n')).toBe(true)
    const fieldsOf = (answer: RawExchange): (readonly [string, string])[] =>
      answer.responses[0]?.headers.headers.filter(([name]) => name.toLowerCase() !== 'date') ?? []
    expect(fieldsOf(headed)).toEqual(fieldsOf(got))
    expect(headed.headers.get('content-length')).toBe('100')
  })

  test('fetch reads a range as a 206 of exactly those bytes', async () => {
    const response = await fetch(`${server.url}${target}`, { headers: { Range: 'bytes=1000-1999' } })
    expect(response.status).toBe(206)
    expect(response.headers.get('content-range')).toBe(`bytes 1000-1999/${size}`)
    expect(Buffer.from(await response.arrayBuffer()).equals(bytes.subarray(1000, 2000))).toBe(true)
  })
})

describe('If-Range', () => {
  test('the current ETag -> 206', async () => {
    const answer = await request('/small.bin', ['Range: bytes=0-9', `If-Range: ${await etagOf('/small.bin')}`])
    expect(answer.status).toBe(206)
    expect(answer.body.equals(SMALL.subarray(0, 10))).toBe(true)
  })

  test('an old ETag -> 200 with the whole file', async () => {
    const answer = await request('/small.bin', ['Range: bytes=0-9', 'If-Range: "1-2"'])
    expect(answer.status).toBe(200)
    expect(answer.body.equals(SMALL)).toBe(true)
  })

  test('the current ETag made weak -> 200 (If-Range compares strongly)', async () => {
    const answer = await request('/small.bin', ['Range: bytes=0-9', `If-Range: W/${await etagOf('/small.bin')}`])
    expect(answer.status).toBe(200)
    expect(answer.body.equals(SMALL)).toBe(true)
  })

  test('the exact Last-Modified date -> 206', async () => {
    const answer = await request('/large.bin', ['Range: bytes=0-9', `If-Range: ${MTIME_HTTP}`])
    expect(answer.status).toBe(206)
    expect(answer.body.equals(LARGE.subarray(0, 10))).toBe(true)
  })

  test('a date one second later than Last-Modified -> 200 (only an exact date holds)', async () => {
    const answer = await request('/large.bin', ['Range: bytes=0-9', 'If-Range: Tue, 04 Mar 2025 05:06:08 GMT'])
    expect(answer.status).toBe(200)
    expect(answer.body.equals(LARGE)).toBe(true)
  })

  test('fetch with If-Range and the ETag of a first response gets the rest of the file', async () => {
    const first = await fetch(`${server.url}/large.bin`, { headers: { Range: 'bytes=0-99999' } })
    const etag = first.headers.get('etag') ?? ''
    await first.arrayBuffer()
    const rest = await fetch(`${server.url}/large.bin`, { headers: { Range: 'bytes=100000-', 'If-Range': etag } })
    expect(rest.status).toBe(206)
    expect(Buffer.from(await rest.arrayBuffer()).equals(LARGE.subarray(100_000))).toBe(true)
  })
})

describe('validators', () => {
  test.each([
    { name: '200', fields: [] as string[], status: 200 },
    { name: '206', fields: ['Range: bytes=0-0'], status: 206 },
    { name: '304', fields: ['If-Modified-Since: Tue, 04 Mar 2025 05:06:07 GMT'], status: 304 },
  ])('a $name answer carries Accept-Ranges and the ETag', async ({ fields, status }) => {
    const answer = await request('/small.bin', fields)
    expect(answer.status).toBe(status)
    expect(answer.headers.get('accept-ranges')).toBe('bytes')
    expect(answer.headers.get('etag')).toBe(await etagOf('/small.bin'))
  })

  test("the ETag is nginx's shape: mtime seconds and size in hex", async () => {
    const seconds = (MTIME.getTime() / 1000).toString(16)
    expect(await etagOf('/small.bin')).toBe(`"${seconds}-${SMALL.length.toString(16)}"`)
  })

  test('a file rewritten between two requests gets a new ETag', async () => {
    const before = await etagOf('/rewritten.txt')
    await writeFile(path.join(server.root, 'rewritten.txt'), 'second, longer\n')
    const after = await etagOf('/rewritten.txt')
    expect(after).not.toBe(before)
    const stale = await request('/rewritten.txt', [`If-None-Match: ${before}`])
    expect(stale.status).toBe(200)
    expect(stale.body.toString()).toBe('second, longer\n')
  })

  test('a file rewritten with the same size and a later mtime gets a new ETag', async () => {
    const file = path.join(server.root, 'rewritten.txt')
    await writeFile(file, 'same size: one\n')
    await utimes(file, new Date('2025-01-01T00:00:00Z'), new Date('2025-01-01T00:00:00Z'))
    const before = await etagOf('/rewritten.txt')
    await writeFile(file, 'same size: two\n')
    await utimes(file, new Date('2025-01-01T00:00:01Z'), new Date('2025-01-01T00:00:01Z'))
    expect(await etagOf('/rewritten.txt')).not.toBe(before)
  })
})

describe('If-None-Match and If-Modified-Since', () => {
  test.each([
    { name: 'the current ETag', value: (etag: string) => etag },
    { name: 'a list holding the current ETag', value: (etag: string) => `"old-1", ${etag} , "old-2"` },
    { name: '*', value: () => '*' },
    { name: 'the current ETag made weak (a weak comparison)', value: (etag: string) => `W/${etag}` },
  ])('If-None-Match with $name -> 304 with ETag, Last-Modified, Date and no body', async ({ value }) => {
    const etag = await etagOf('/small.bin')
    const answer = await exchange(server.port, `GET /small.bin HTTP/1.0\r\nIf-None-Match: ${value(etag)}\r\n\r\n`)
    expect(answer.status).toBe(304)
    expect(answer.headers.get('etag')).toBe(etag)
    expect(answer.headers.get('last-modified')).toBe(MTIME_HTTP)
    expect(answer.headers.get('date')).toMatch(/^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$/)
    expect(answer.exact).toBe(true)
    expect(answer.body.length).toBe(0)
  })

  test('a 304 announces the Content-Length of the 200 it stands for, not 0 (RFC 9110 §8.6)', async () => {
    const answer = await request('/large.bin', [`If-None-Match: ${await etagOf('/large.bin')}`])
    expect(answer.status).toBe(304)
    expect(answer.headers.get('content-length')).toBe(String(LARGE.length))
    expect(answer.exact).toBe(true)
    expect(answer.body.length).toBe(0)
  })

  test('If-None-Match with only other tags -> 200', async () => {
    const answer = await request('/small.bin', ['If-None-Match: "1-2", W/"3-4"'])
    expect(answer.status).toBe(200)
    expect(answer.body.equals(SMALL)).toBe(true)
  })

  test('If-None-Match that does not match wins over an If-Modified-Since that would give 304', async () => {
    const answer = await request('/small.bin', ['If-None-Match: "1-2"', `If-Modified-Since: ${MTIME_HTTP}`])
    expect(answer.status).toBe(200)
  })

  test('If-None-Match that matches wins over an If-Modified-Since that would give 200', async () => {
    const etag = await etagOf('/small.bin')
    const answer = await request('/small.bin', [
      `If-None-Match: ${etag}`,
      'If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT',
    ])
    expect(answer.status).toBe(304)
  })

  test.each([
    { name: 'the exact Last-Modified date', since: MTIME_HTTP, status: 304 },
    { name: 'a later date', since: 'Wed, 05 Mar 2025 00:00:00 GMT', status: 304 },
    { name: 'an earlier date', since: 'Mon, 03 Mar 2025 00:00:00 GMT', status: 200 },
    { name: 'the obsolete RFC 850 form of the exact date', since: 'Tuesday, 04-Mar-25 05:06:07 GMT', status: 304 },
    { name: 'a bare year (not an HTTP-date)', since: '2099', status: 200 },
    { name: 'a date in another zone', since: 'Tue, 04 Mar 2025 05:06:07 +0000', status: 200 },
  ])('If-Modified-Since with $name -> $status', async ({ since, status }) => {
    const answer = await request('/small.bin', [`If-Modified-Since: ${since}`])
    expect(answer.status).toBe(status)
  })

  test('a Range with an If-None-Match that matches -> 304, not 206', async () => {
    const answer = await request('/large.bin', ['Range: bytes=0-9', `If-None-Match: ${await etagOf('/large.bin')}`])
    expect(answer.status).toBe(304)
    expect(answer.body.length).toBe(0)
  })
})

describe('uploads', () => {
  test('a range of an upload under /uploads/ -> 206 with those bytes and the upload safety headers', async () => {
    const body = randomBytes(5000)
    const stored = await fetch(`${server.url}/upload`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/octet-stream' },
      body,
    })
    expect(stored.status).toBe(201)
    const location = stored.headers.get('location') ?? ''
    expect(location).toMatch(/^\/uploads\//)
    const answer = await request(location, ['Range: bytes=-1000'])
    expect(answer.status).toBe(206)
    expect(answer.headers.get('content-range')).toBe('bytes 4000-4999/5000')
    expect(answer.body.equals(body.subarray(4000))).toBe(true)
    expect(answer.headers.get('x-content-type-options')).toBe('nosniff')
    expect(answer.headers.get('content-security-policy')).toMatch(/^sandbox;/)
  })
})
