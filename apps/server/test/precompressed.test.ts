import { brotliCompressSync, gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { exchange, type RawExchange } from './helpers/raw-exchange.js'
import { type RunningServer, startServer } from './helpers/server-process.js'

// --precompressed: file.br and file.gz served in place of file to clients that accept them, with
// Ranges and validators on the encoded bytes (one ETag per encoding), as nginx's gzip_static does.

describe('with --precompressed', () => {
  const PAGE = Buffer.from(Array.from({ length: 3000 }, (_, i) => `<p>line ${i}, the same words</p>\n`).join(''))
  const GZIPPED = gzipSync(PAGE)
  const BROTLI = brotliCompressSync(PAGE)
  let precompressed: RunningServer

  beforeAll(async () => {
    precompressed = await startServer({
      args: ['--precompressed'],
      files: { 'page.html': PAGE, 'page.html.gz': GZIPPED, 'page.html.br': BROTLI },
    })
  })
  afterAll(async () => {
    await precompressed?.stop()
  })

  function get(fields: readonly string[], method = 'GET'): Promise<RawExchange> {
    const head = `${method} /page.html HTTP/1.0\r\n${fields.map((field) => `${field}\r\n`).join('')}\r\n`
    return exchange(precompressed.port, head, method === 'HEAD' ? { headResponses: true } : {})
  }

  test('a range of the gzip coding is a range of the .gz bytes', async () => {
    const answer = await get(['Accept-Encoding: gzip', 'Range: bytes=10-109'])
    expect(answer.status).toBe(206)
    expect(answer.headers.get('content-encoding')).toBe('gzip')
    expect(answer.headers.get('content-range')).toBe(`bytes 10-109/${GZIPPED.length}`)
    expect(answer.body.equals(GZIPPED.subarray(10, 110))).toBe(true)
  })

  test('a suffix range of the br coding is the end of the .br bytes', async () => {
    const answer = await get(['Accept-Encoding: br, gzip', 'Range: bytes=-50'])
    expect(answer.status).toBe(206)
    expect(answer.headers.get('content-encoding')).toBe('br')
    expect(answer.body.equals(BROTLI.subarray(BROTLI.length - 50))).toBe(true)
  })

  test('a range past the end of the coding -> 416 with its size and Vary: Accept-Encoding', async () => {
    const answer = await get(['Accept-Encoding: gzip', `Range: bytes=${GZIPPED.length}-`])
    expect(answer.status).toBe(416)
    expect(answer.headers.get('content-range')).toBe(`bytes */${GZIPPED.length}`)
    expect(answer.headers.get('vary')).toBe('Accept-Encoding')
  })

  test('each coding has its own ETag, and the identity one does not validate the gzip one', async () => {
    const identity = (await get([], 'HEAD')).headers.get('etag') ?? ''
    const gzip = (await get(['Accept-Encoding: gzip'], 'HEAD')).headers.get('etag') ?? ''
    expect(new Set([identity, gzip, (await get(['Accept-Encoding: br'], 'HEAD')).headers.get('etag')]).size).toBe(3)
    expect((await get(['Accept-Encoding: gzip', `If-None-Match: ${identity}`])).status).toBe(200)
    expect((await get(['Accept-Encoding: gzip', `If-None-Match: ${gzip}`])).status).toBe(304)
  })

  test('If-Range with the gzip ETag, asking for identity -> 200 with the whole file (another representation)', async () => {
    const gzip = (await get(['Accept-Encoding: gzip'], 'HEAD')).headers.get('etag') ?? ''
    const answer = await get(['Range: bytes=0-9', `If-Range: ${gzip}`])
    expect(answer.status).toBe(200)
    expect(answer.headers.get('content-encoding')).toBeUndefined()
    expect(answer.body.equals(PAGE)).toBe(true)
  })

  test('gzip;q=0 gets the file itself', async () => {
    const answer = await get(['Accept-Encoding: gzip;q=0, deflate'])
    expect(answer.status).toBe(200)
    expect(answer.headers.get('content-encoding')).toBeUndefined()
    expect(answer.headers.get('vary')).toBe('Accept-Encoding')
    expect(answer.body.equals(PAGE)).toBe(true)
  })
})
