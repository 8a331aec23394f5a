import { createHash, randomBytes } from 'node:crypto'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { exchange, type RawExchange } from './helpers/raw-exchange.js'
import { type RunningServer, startServer, waitFor } from './helpers/server-process.js'

// Connections run on the raw TCP handle by default and on net.Socket when a Node release lacks
// the internals (src/common/node-internals.ts; THREADSERVE_NET_SOCKET=1 forces it). A new Node
// may only cost speed, never change an answer: the same requests go to a server of each kind
// and must get the same bytes back, but for the Date, file versions and stored uploads' names.

const BIG = randomBytes(1024 * 1024 + 17) // past the cache's 256 KiB: streamed from the file
const SMALL = 'x'.repeat(1024)
const files = { 'small.txt': SMALL, 'big.bin': BIG, 'dir/index.html': '<p>hi</p>' }
const args = ['--workers', '1', '--keep-alive', '--max-body', '1MiB']
let raw: RunningServer
let socket: RunningServer

beforeAll(async () => {
  ;[raw, socket] = await Promise.all([
    startServer({ args, files }),
    startServer({ args, files, env: { THREADSERVE_NET_SOCKET: '1' } }),
  ])
})
afterAll(async () => {
  await Promise.all([raw?.stop(), socket?.stop()])
})

// Date moves; ETag and Last-Modified differ between the two servers' copies of the files.
const IGNORED = new Set(['date', 'etag', 'last-modified'])

const digest = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex')

/** What must match: every response's status line, its fields but IGNORED ones, and its body. */
function answer(result: RawExchange): unknown {
  return {
    closedBy: result.closedBy,
    parseError: result.parseError,
    // An HTTP/0.9 answer is a bare body: compared whole.
    raw: result.parseError === null ? null : digest(result.raw),
    responses: result.responses.map((response) => ({
      status: response.status,
      version: response.version,
      headers: response.headers.headers.filter(([name]) => !IGNORED.has(name.toLowerCase())),
      body: digest(response.body),
    })),
  }
}

const cases: Record<string, string | string[]> = {
  'GET cached': 'GET /small.txt HTTP/1.0\r\n\r\n',
  'HEAD cached': 'HEAD /small.txt HTTP/1.0\r\n\r\n',
  'GET streamed': 'GET /big.bin HTTP/1.0\r\n\r\n',
  'GET range of a streamed file': 'GET /big.bin HTTP/1.0\r\nRange: bytes=1000-300000\r\n\r\n',
  'GET missing': 'GET /nope HTTP/1.0\r\n\r\n',
  'GET traversal': 'GET /../../etc/passwd HTTP/1.0\r\n\r\n',
  'bad request line': 'BOGUS\r\n\r\n',
  'HTTP/0.9': 'GET /small.txt\r\n',
  'directory index': 'GET /dir/ HTTP/1.0\r\n\r\n',
  'pipelined keep-alive': [
    'GET /small.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nHEAD /big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
    'GET /small.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
  ],
  'request body too large': 'POST /upload HTTP/1.0\r\nContent-Length: 99999999\r\n\r\n',
  upload: `POST /upload HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello`,
  'body ends early': ['POST /upload HTTP/1.0\r\nContent-Length: 50\r\n\r\nabc'],
}

test.each(Object.entries(cases))('%s: the same answer on both transports', async (name, request) => {
  const halfClose = name === 'body ends early'
  const options = name.startsWith('HEAD')
    ? { headResponses: true as const }
    : name === 'pipelined keep-alive'
      ? { headResponses: new Set([1]) }
      : { halfClose }
  const [fromRaw, fromSocket] = await Promise.all([
    exchange(raw.port, request, options),
    exchange(socket.port, request, options),
  ])
  expect(fromRaw.raw.length, 'an answer').toBeGreaterThan(0)
  if (name === 'upload') {
    // Stored under different names: the JSON answers differ in those alone, and each stored the bytes.
    expect([fromRaw.status, fromSocket.status]).toEqual([201, 201])
    const unnamed = (result: RawExchange): unknown => ({ ...JSON.parse(result.body.toString()), name: '-' })
    expect(unnamed(fromRaw)).toEqual(unnamed(fromSocket))
    for (const [server, result] of [
      [raw, fromRaw],
      [socket, fromSocket],
    ] as const) {
      const stored = await fetch(`${server.url}${result.headers.get('location')}`)
      expect(await stored.text()).toBe('hello')
    }
    return
  }
  expect(answer(fromRaw)).toEqual(answer(fromSocket))
})

test('both access logs have a line per request with the same statuses and sizes', async () => {
  const lines = async (server: RunningServer): Promise<string[]> => {
    const { readFile } = await import('node:fs/promises')
    const text = await readFile(server.logPath, 'utf8')
    return text
      .trim()
      .split('\n')
      .map((line) =>
        line
          .replace(/^\S+ \S+ /, '')
          .replace(/\s+\S+ms.*$/, '')
          .replace(/\/uploads\/\S+/, '/uploads/<stored>'),
      )
      .sort()
  }
  // The log is written behind, some lines only when their connection closes: wait (bounded) until
  // both have a line per case at least and agree; if they never agree, the diff below shows how.
  const count = Object.keys(cases).length + 1 // and the stored upload's GET
  const both = async (): Promise<string[][]> => Promise.all([lines(raw), lines(socket)])
  const agreed = await waitFor(async () => {
    const [a, b] = await both()
    return a !== undefined && a.length >= count && JSON.stringify(a) === JSON.stringify(b) ? [a, b] : undefined
  }, 5000).catch(() => null)
  const [fromRaw, fromSocket] = agreed ?? (await both())
  expect(fromRaw?.length).toBeGreaterThanOrEqual(count)
  expect(fromRaw).toEqual(fromSocket)
})
