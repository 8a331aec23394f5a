import { readFile } from 'node:fs/promises'
import { formatProxyHeaderV1, formatProxyHeaderV2 } from '@threadserve/http10-parser'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { exchange } from './helpers/raw-exchange.js'
import { type RunningServer, startServer, waitFor } from './helpers/server-process.js'

// --proxy-protocol end to end: the balancer's PROXY header (v1 or v2) comes before the request,
// and its client address is the one the access log shows; a connection without a valid header
// is closed unanswered and counted in SIGUSR2's stats. (test-reliability/haproxy.test.ts runs
// the same behind a real HAProxy.)

let server: RunningServer
beforeAll(async () => {
  server = await startServer({ args: ['--proxy-protocol', '--workers', '1'] })
})
afterAll(async () => {
  await server.stop()
})

async function logLineFor(target: string): Promise<string> {
  return waitFor(async () => (await readFile(server.logPath, 'utf8')).split('\n').find((l) => l.includes(target)))
}

test('a v1 header: the request is served and logged with the header address', async () => {
  const header = formatProxyHeaderV1({
    family: 'TCP4',
    sourceAddress: '203.0.113.7',
    sourcePort: 40000,
    destinationAddress: '127.0.0.1',
    destinationPort: server.port,
  })
  const answer = await exchange(server.port, [header, 'GET /test.txt?v1 HTTP/1.0\r\n\r\n'])
  expect(answer.status).toBe(200)
  expect(await logLineFor('/test.txt?v1')).toContain(' 203.0.113.7 ')
})

test('a v2 header sent in pieces with the request: served, logged with the IPv6 address', async () => {
  const header = formatProxyHeaderV2({
    command: 'PROXY',
    family: 'TCP6',
    sourceAddress: '2001:db8::42',
    sourcePort: 40001,
    destinationAddress: '::1',
    destinationPort: server.port,
  })
  const bytes = Buffer.concat([header, Buffer.from('GET /test.txt?v2 HTTP/1.0\r\n\r\n')])
  const answer = await exchange(server.port, [bytes.subarray(0, 7), bytes.subarray(7, 20), bytes.subarray(20)], {
    pieceGapMs: 0,
  })
  expect(answer.status).toBe(200)
  expect(await logLineFor('/test.txt?v2')).toContain(' 2001:db8::42 ')
})

test('a plain request without a header is closed unanswered, and counted', async () => {
  const answer = await exchange(server.port, 'GET /test.txt HTTP/1.0\r\n\r\n')
  expect(answer.status).toBe(0)
  expect(answer.raw.length).toBe(0)
  const before = server.stdout().length
  process.kill(server.pid, 'SIGUSR2')
  const stats = await waitFor(() => {
    const line = server
      .stdout()
      .slice(before)
      .split('\n')
      .find((l) => l.startsWith('{"permitsInUse"'))
    return line === undefined ? undefined : (JSON.parse(line) as { workers: { proxyHeadersRefused?: number }[] })
  })
  const refused = stats.workers.reduce((sum, worker) => sum + (worker.proxyHeadersRefused ?? 0), 0)
  expect(refused).toBeGreaterThanOrEqual(1)
})
