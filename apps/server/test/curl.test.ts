import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { brotliCompressSync, gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { makeTempDir, type RunningServer, startServer } from './helpers/server-process.js'

// curl, a real client, against the real server: resuming a download (`-C -` sends a Range from
// the size of the partial file), decoding precompressed siblings (`--compressed`), and
// revalidating with the ETag it was given. `pnpm test:setup` (scripts/test-setup.mjs) installs
// curl; without it this suite fails, not skips.

const execFileAsync = promisify(execFile)
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex')
const PAGE = Buffer.from(
  Array.from({ length: 400 }, (_, i) => `<p>line ${i}: the same words again and again</p>\n`).join(''),
)
const GZIPPED = gzipSync(PAGE)
const BROTLI = brotliCompressSync(PAGE)

let server: RunningServer
let downloads: string

beforeAll(async () => {
  server = await startServer({
    args: ['--precompressed'],
    files: { 'page.html': PAGE, 'page.html.gz': GZIPPED, 'page.html.br': BROTLI },
  })
  downloads = await makeTempDir('threadserve-curl-')
})
afterAll(async () => {
  await server?.stop()
  if (downloads !== undefined) await rm(downloads, { recursive: true, force: true })
})

interface CurlResult {
  /** `-w '%{http_code} %{size_download}'` */
  readonly status: number
  readonly downloadedBytes: number
  /** The response head curl wrote with `-D -`, field names lower-cased. */
  readonly headers: ReadonlyMap<string, string>
}

/** Runs curl with `args` (an argument array, no shell), the head on stdout, the body where `-o` says. */
async function curl(args: readonly string[]): Promise<CurlResult> {
  const { stdout } = await execFileAsync('curl', [
    '--silent',
    '--show-error',
    '--max-time',
    '30',
    '--dump-header',
    '-',
    '--write-out',
    '\n%{http_code} %{size_download}',
    ...args,
  ])
  const lines = stdout.trimEnd().split(/\r?\n/)
  const [status = '0', size = '0'] = (lines.pop() ?? '').split(' ')
  const headers = new Map<string, string>()
  for (const line of lines) {
    const colon = line.indexOf(':')
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim())
  }
  return { status: Number(status), downloadedBytes: Number(size), headers }
}

describe('curl -C -', () => {
  test('resumes an interrupted download of a large upload, byte-exact', async () => {
    const original = randomBytes(4 * 1024 * 1024 + 321)
    const stored = await fetch(`${server.url}/upload`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: original,
    })
    expect(stored.status).toBe(201)
    const location = stored.headers.get('location') ?? ''
    // What an interrupted download leaves behind: the first part of the file.
    const partial = path.join(downloads, 'resumed.bin')
    const already = 1_234_567
    await writeFile(partial, original.subarray(0, already))
    const result = await curl(['--continue-at', '-', '--output', partial, `${server.url}${location}`])
    expect(result.status).toBe(206)
    expect(result.headers.get('content-range')).toBe(`bytes ${already}-${original.length - 1}/${original.length}`)
    expect(result.downloadedBytes).toBe(original.length - already)
    expect(sha256(await readFile(partial))).toBe(sha256(original))
  })

  test('a download that was already complete is left as it is', async () => {
    const file = path.join(downloads, 'complete.html')
    await writeFile(file, PAGE)
    const result = await curl(['--continue-at', '-', '--output', file, `${server.url}/page.html`])
    expect(result.status).toBe(416)
    expect(result.headers.get('content-range')).toBe(`bytes */${PAGE.length}`)
    expect((await readFile(file)).equals(PAGE)).toBe(true)
  })
})

describe('curl --compressed with --precompressed', () => {
  test("with curl's own Accept-Encoding, it gets the brotli sibling and decodes it to the original", async () => {
    const { stdout } = await execFileAsync('curl', ['--version'])
    expect(stdout).toMatch(/^Features:.*\bbrotli\b/m) // Debian's curl is built with brotli
    const out = path.join(downloads, 'default.html')
    const result = await curl(['--compressed', '--output', out, `${server.url}/page.html`])
    expect(result.status).toBe(200)
    expect(result.headers.get('content-encoding')).toBe('br')
    expect(result.downloadedBytes).toBe(BROTLI.length)
    expect((await readFile(out)).equals(PAGE)).toBe(true)
  })

  test('asking for gzip only, it gets the .gz sibling, decoded to the original', async () => {
    const out = path.join(downloads, 'gzip.html')
    const result = await curl([
      '--compressed',
      '--header',
      'Accept-Encoding: gzip',
      '--output',
      out,
      `${server.url}/page.html`,
    ])
    expect(result.status).toBe(200)
    expect(result.headers.get('content-encoding')).toBe('gzip')
    expect(result.headers.get('vary')).toBe('Accept-Encoding')
    expect(result.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(result.downloadedBytes).toBe(GZIPPED.length)
    expect((await readFile(out)).equals(PAGE)).toBe(true)
  })

  test('asking for br only, it gets the .br sibling, decoded to the original', async () => {
    const out = path.join(downloads, 'br.html')
    const result = await curl([
      '--compressed',
      '--header',
      'Accept-Encoding: br',
      '--output',
      out,
      `${server.url}/page.html`,
    ])
    expect(result.status).toBe(200)
    expect(result.headers.get('content-encoding')).toBe('br')
    expect(result.downloadedBytes).toBe(BROTLI.length)
    expect((await readFile(out)).equals(PAGE)).toBe(true)
  })

  test('without --compressed, it gets the file itself, with Vary', async () => {
    const out = path.join(downloads, 'identity.html')
    const result = await curl(['--output', out, `${server.url}/page.html`])
    expect(result.status).toBe(200)
    expect(result.headers.get('content-encoding')).toBeUndefined()
    expect(result.headers.get('vary')).toBe('Accept-Encoding')
    expect((await readFile(out)).equals(PAGE)).toBe(true)
  })

  test('each coding has its own ETag', async () => {
    const url = `${server.url}/page.html`
    const etags = await Promise.all(
      ['identity', 'gzip', 'br'].map(async (coding) => {
        const result = await curl(['--header', `Accept-Encoding: ${coding}`, '--output', '/dev/null', url])
        return result.headers.get('etag')
      }),
    )
    expect(new Set(etags).size).toBe(3)
  })
})

describe('curl and validators', () => {
  test('If-None-Match with the ETag from a first response -> 304', async () => {
    const url = `${server.url}/page.html`
    const first = await curl(['--output', '/dev/null', url])
    const etag = first.headers.get('etag') ?? ''
    expect(etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/)
    const second = await curl(['--header', `If-None-Match: ${etag}`, '--output', '/dev/null', url])
    expect(second.status).toBe(304)
    expect(second.downloadedBytes).toBe(0)
    expect(second.headers.get('etag')).toBe(etag)
  })

  test('--range fetches exactly those bytes', async () => {
    const out = path.join(downloads, 'range.html')
    const result = await curl(['--range', '100-199', '--output', out, `${server.url}/page.html`])
    expect(result.status).toBe(206)
    expect((await readFile(out)).equals(PAGE.subarray(100, 200))).toBe(true)
  })
})
