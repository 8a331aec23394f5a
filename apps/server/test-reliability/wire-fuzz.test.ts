import { afterAll, expect, test } from 'vitest'
import { exchange } from '../test/helpers/raw-exchange.js'
import { type RunningServer, startServer } from '../test/helpers/server-process.js'
import { createRandom, type Random, seedFor, waitForHealthy } from './helpers/reliability.js'
import { WIRE_REGRESSIONS } from './regressions.js'

// Wire fuzzing (docs/reliability.md, promise 5): at least 100,000 generated and mutated requests
// over real sockets, 64 at a time. Generated from a grammar of request lines and header fields,
// and mutated from a corpus of valid requests (bit flips, byte edits, truncations, splices, huge
// fields). Every answer must be a non-5xx (501 and 505 are the protocol answers to unknown
// methods, Transfer-Encoding and HTTP/2+, and allowed), no worker may die, no exchange may hang,
// and a normal GET must still be answered at the end. The seed is printed; failing inputs are
// printed as JSON rows for regressions.ts.

const COUNT = Math.max(100_000, Number(process.env.THREADSERVE_FUZZ_COUNT ?? 0))
const CONCURRENCY = 64
const WORKERS = 2
const HEADER_TIMEOUT_MS = 1000
const BODY_TIMEOUT_MS = 1000
// A request that is never half-closed waits for the header or body timeout, then the server
// closes it. An exchange still open 10 s after those timeouts is one the server forgot: a hang.
// The 10 s only bound how long we wait for it; a slow machine must not turn late into hung.
const HANG_MS = Math.max(HEADER_TIMEOUT_MS, BODY_TIMEOUT_MS) + 10_000
const ALLOWED_5XX = new Set([501, 505])
const KEEP_OPEN_SHARE = 0.03 // these are not half-closed: the timeouts must end them

const CORPUS = [
  'GET / HTTP/1.0\r\n\r\n',
  'GET /test.txt HTTP/1.0\r\nHost: 127.0.0.1\r\nUser-Agent: fuzz/1\r\nAccept: */*\r\n\r\n',
  'HEAD /test.txt HTTP/1.0\r\n\r\n',
  'GET /dir/ HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n',
  'GET /dir HTTP/1.0\r\n\r\n',
  'GET /test.txt HTTP/1.0\r\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n',
  'GET /test.txt?x=1&y=%20 HTTP/1.0\r\n\r\n',
  'GET http://127.0.0.1/test.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
  'GET /test.txt\r\n',
  'POST /upload HTTP/1.0\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello',
  'POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nX-File-Name: a.json\r\nContent-Length: 13\r\n\r\n{"a":[1,2,3]}',
  'POST /upload HTTP/1.0\r\nContent-Disposition: attachment; filename="r.txt"\r\nContent-Length: 3\r\n\r\nabc',
  'DELETE /test.txt HTTP/1.0\r\n\r\n',
  'OPTIONS * HTTP/1.0\r\n\r\n',
]

const METHODS = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'OPTIONS',
  'TRACE',
  'CONNECT',
  'BREW',
  'get',
  'G\x00T',
  '',
  'GETT',
  'P OST',
]
const TARGETS = [
  '/',
  '/test.txt',
  '/dir/',
  '/dir',
  '/upload',
  '/nope',
  '*',
  '/%2e%2e/etc/passwd',
  '/..%2f..%2f',
  '/%00',
  '/%',
  '/%zz',
  '/a%2fb',
  '/\\..\\x',
  'http://h/test.txt',
  'https://h:99999/x',
  '//x',
  '/test.txt#frag',
  '/?',
  '/é',
  '/%C0%AE%C0%AE/',
  '/.hidden',
  '/uploads/',
  '',
]
const VERSIONS = [
  'HTTP/1.0',
  'HTTP/1.1',
  'HTTP/0.9',
  'HTTP/2.0',
  'HTTP/9.9',
  'HTTP/1.10',
  'http/1.0',
  'HTTP/1',
  'HTTP/a.b',
  'HTTP/',
  'HTTP/1.0 extra',
  '',
]
const EOLS = ['\r\n', '\r\n', '\r\n', '\n', '\r', '\n\r', '']
const HEADERS = [
  'Host: 127.0.0.1',
  'Accept: */*',
  'Content-Type: text/plain',
  'Content-Length: 0',
  'Content-Length: 5',
  'Content-Length: 5',
  'Content-Length: -1',
  'Content-Length: 1e3',
  'Content-Length: 0x10',
  'Content-Length: 99999999999999999999',
  'Content-Length: 5, 5',
  'Content-Length:',
  'Content-Length:  7 ',
  'Transfer-Encoding: chunked',
  'Transfer-Encoding: identity',
  'Host : x',
  ' Host: x',
  '\tfolded',
  'X-Nul: a\x00b',
  'X-Ctl: \x01\x7f',
  'NoColon',
  ': empty-name',
  `X-Long: ${'a'.repeat(9000)}`,
  'If-Modified-Since: garbage',
  'If-Modified-Since: Sun, 06 Nov 2094 08:49:37 GMT',
  'X-File-Name: ../../etc/passwd',
  'Content-Disposition: attachment; filename="../x.sh"',
  'X-\xff: \xfe',
  'Connection: close, Upgrade',
  'Expect: 100-continue',
]

function generate(random: Random): string {
  const method = random.pick(METHODS)
  const target = random.pick(TARGETS)
  const version = random.pick(VERSIONS)
  const sp = () => random.pick([' ', ' ', ' ', '  ', '\t', ''])
  const eol = random.pick(EOLS)
  let text = `${method}${sp()}${target}${version === '' ? '' : sp()}${version}${eol}`
  const headerCount = random.int(6)
  for (let i = 0; i < headerCount; i++) text += `${random.pick(HEADERS)}${random.pick(EOLS)}`
  text += random.pick(['\r\n', '\r\n', '\n', ''])
  if (random.next() < 0.3) text += random.pick(['hello', 'x'.repeat(random.int(100)), 'GET / HTTP/1.0\r\n\r\n'])
  return text
}

function mutate(random: Random, base: Buffer): Buffer {
  let data = Buffer.from(base)
  const edits = 1 + random.int(4)
  for (let e = 0; e < edits; e++) {
    const at = random.int(data.length + 1)
    switch (random.int(9)) {
      case 0: // bit flips
        if (data.length > 0)
          for (let b = 1 + random.int(8); b > 0; b--) data[random.int(data.length)]! ^= 1 << random.int(8)
        break
      case 1: // truncation
        data = data.subarray(0, at)
        break
      case 2: // splice with another corpus entry
        data = Buffer.concat([
          data.subarray(0, at),
          Buffer.from(random.pick(CORPUS), 'latin1').subarray(random.int(20)),
        ])
        break
      case 3: // insert random bytes
        data = Buffer.concat([data.subarray(0, at), random.bytes(1 + random.int(16)), data.subarray(at)])
        break
      case 4: // delete a run
        data = Buffer.concat([data.subarray(0, at), data.subarray(at + 1 + random.int(8))])
        break
      case 5: // huge field: a long header value, name or target (past the 8 KiB / 16 KiB limits or just under)
        data = Buffer.concat([
          data.subarray(0, at),
          Buffer.from(random.pick(['X-Huge: ', '', '/']), 'latin1'),
          Buffer.alloc(
            random.pick([100, 8 * 1024 - 20, 8 * 1024 + 1, 16 * 1024, 40 * 1024]),
            random.pick(['a', '/', '%', ' ', '\r']),
          ),
          data.subarray(at),
        ])
        break
      case 6: // many header fields (the limit is 100)
        data = Buffer.concat([
          data.subarray(0, at),
          Buffer.from('X-A: b\r\n'.repeat(50 + random.int(100)), 'latin1'),
          data.subarray(at),
        ])
        break
      case 7: // rewrite a Content-Length to something odd
        data = Buffer.from(
          data
            .toString('latin1')
            .replace(
              /Content-Length: *\d*/i,
              `Content-Length: ${random.pick(['0', '1', '4', '6', '1000', '67108865', '007', '+5', ' 5'])}`,
            ),
          'latin1',
        )
        break
      default: // duplicate a region
        data = Buffer.concat([data.subarray(0, at), data.subarray(random.int(at + 1)), data.subarray(at)])
    }
  }
  return data
}

/**
 * Inputs that may be closed without a single byte back: nothing but line ends (RFC 9112 §2.2 lets
 * a server ignore them), or a HEAD naming HTTP/0.x (answered HTTP/0.9 style: no head, and HEAD
 * has no body, so the answer is empty).
 */
function mayGetNoAnswer(input: Buffer): boolean {
  const firstLine = input.toString('latin1', 0, Math.min(input.length, 200)).split('\n', 1)[0] ?? ''
  if (/^HEAD\s.*HTTP\/0\./.test(firstLine)) return true
  for (const byte of input) if (byte !== 0x0d && byte !== 0x0a) return false
  return true
}

interface Failure {
  readonly input: Buffer
  readonly keepOpen: boolean
  readonly why: string
}

let server: RunningServer | undefined
afterAll(async () => {
  await server?.stop()
})

test(`${COUNT.toLocaleString('en')} generated and mutated requests: no 5xx, no worker crash, no hang; a normal GET still works`, async () => {
  const seed = seedFor('wire-fuzz')
  server = await startServer({
    files: { 'test.txt': 'hello from the test root\n', 'dir/index.html': '<p>index</p>\n', '.hidden': 'secret\n' },
    args: [
      ['--workers', String(WORKERS), '--max-posts', '1000', '--max-body', '1MiB', '--log', '/dev/null'],
      ['--header-timeout', `${HEADER_TIMEOUT_MS}ms`, '--body-timeout', `${BODY_TIMEOUT_MS}ms`],
    ].flat(),
  })
  const running = server
  const before = await waitForHealthy(running, WORKERS)
  const corpus = CORPUS.map((text) => Buffer.from(text, 'latin1'))
  const statusCounts = new Map<number | string, number>()
  const failures: Failure[] = []
  let longestMs = 0
  let sent = 0

  const check = async (input: Buffer, keepOpen: boolean): Promise<void> => {
    const result = await exchange(running.port, input, { halfClose: !keepOpen, timeoutMs: HANG_MS })
    const took = result.endedAt - result.startedAt
    longestMs = Math.max(longestMs, took)
    const key =
      result.status !== 0 ? result.status : result.raw.length > 0 ? '0.9 body' : (result.error ?? 'closed, no answer')
    statusCounts.set(key, (statusCounts.get(key) ?? 0) + 1)
    let why: string | null = null
    if (result.error === 'timeout') why = `no answer and not closed after ${HANG_MS} ms`
    else if (result.status >= 500 && !ALLOWED_5XX.has(result.status)) why = `status ${result.status}`
    else if (result.raw.length === 0 && !mayGetNoAnswer(input))
      why = `closed without an answer (${result.error ?? 'FIN'})`
    if (why !== null && failures.length < 1000) failures.push({ input, keepOpen, why })
  }

  // Known breakers first, then the generated stream.
  await Promise.all(WIRE_REGRESSIONS.map((r) => check(Buffer.from(r.input, 'latin1'), r.keepOpen === true)))
  const random = createRandom(seed)
  const startedAt = Date.now()
  const lane = async (): Promise<void> => {
    while (sent < COUNT) {
      sent++
      const input = random.next() < 0.4 ? Buffer.from(generate(random), 'latin1') : mutate(random, random.pick(corpus))
      await check(input, random.next() < KEEP_OPEN_SHARE)
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, lane))
  const elapsedMs = Date.now() - startedAt

  const after = await waitForHealthy(running, WORKERS)
  const normal = await exchange(running.port, 'GET /test.txt HTTP/1.0\r\n\r\n', { halfClose: true })
  const crashLines = running
    .stderr()
    .split('\n')
    .filter((line) => /worker \d+ .*(exited|killed)|^\s+at /.test(line))
  const counts = [...statusCounts.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}: ${n}`)
  console.log(
    `[wire-fuzz] ${sent} requests in ${(elapsedMs / 1000).toFixed(1)} s (${Math.round(sent / (elapsedMs / 1000))}/s), ` +
      `${CONCURRENCY} at a time, longest exchange ${longestMs} ms; answers: ${counts.join(', ')}; ` +
      `worker restarts ${after.restarts - before.restarts}; failures ${failures.length}`,
  )
  for (const f of failures.slice(0, 20)) {
    console.log(
      `[wire-fuzz] FAILED (${f.why}): ${JSON.stringify({ name: f.why, found: `wire-fuzz seed ${seed}`, input: f.input.toString('latin1'), keepOpen: f.keepOpen })}`,
    )
  }
  expect(sent).toBeGreaterThanOrEqual(100_000)
  expect(failures.map((f) => f.why)).toEqual([])
  expect(after.restarts).toBe(before.restarts)
  expect(after.workers.map((w) => w.pid)).toEqual(before.workers.map((w) => w.pid))
  expect(crashLines).toEqual([])
  expect(normal.status).toBe(200)
  expect(normal.body.toString('latin1')).toContain('hello from the test root')
})
