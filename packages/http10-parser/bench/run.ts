// Requests parsed per second: this parser against Node's own llhttp, driven the way node's
// benchmark/http/bench-parser.js drives it (HTTPParser: execute, then initialize for the next).
// Run: pnpm --filter http10-parser bench   (prints a table; no assertions: speed is measured, never asserted)
import { RequestParser } from '../src/index.js'
import { HTTPParser } from '../test/llhttp.js'

const CASES: ReadonlyArray<{ name: string; raw: Buffer }> = [
  {
    name: 'curl GET',
    raw: Buffer.from(
      'GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n',
    ),
  },
  {
    name: 'browser GET, 13 headers',
    raw: Buffer.from(
      [
        'GET /assets/app.js?v=3 HTTP/1.1',
        'Host: localhost:8080',
        'Connection: keep-alive',
        'sec-ch-ua: "Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"',
        'sec-ch-ua-mobile: ?0',
        'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
        'sec-ch-ua-platform: "Linux"',
        'Accept: */*',
        'Sec-Fetch-Site: same-origin',
        'Sec-Fetch-Mode: no-cors',
        'Sec-Fetch-Dest: script',
        'Referer: http://localhost:8080/',
        'Accept-Encoding: gzip, deflate, br, zstd',
        'Accept-Language: en-US,en;q=0.9',
        '',
        '',
      ].join('\r\n'),
    ),
  },
  {
    name: 'POST, 1 KiB body',
    raw: Buffer.concat([
      Buffer.from(
        'POST /upload HTTP/1.0\r\nHost: 127.0.0.1:8080\r\nUser-Agent: loadtest/0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: 1024\r\n\r\n',
      ),
      Buffer.alloc(1024, 0x61),
    ]),
  },
]

const WARMUP_MS = 300
const RUN_MS = 1500
const REPEATS = 3

let sink = 0 // consumed results, so the work cannot be optimized away

/** Iterations per second over about `durationMs`. */
function rate(iteration: (raw: Buffer) => void, raw: Buffer, durationMs: number): number {
  let count = 0
  const start = process.hrtime.bigint()
  const deadline = start + BigInt(durationMs * 1e6)
  let now = start
  while (now < deadline) {
    for (let i = 0; i < 1000; i++) iteration(raw)
    count += 1000
    now = process.hrtime.bigint()
  }
  return count / (Number(now - start) / 1e9)
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}

/**
 * Medians for both parsers. Runs alternate (ours, llhttp, ours, ...) so that noise from other
 * processes on a shared machine hits both alike: compare the ratio, not the absolute numbers.
 */
function compare(raw: Buffer): { ours: number; llhttp: number } {
  rate(parseWithOurs, raw, WARMUP_MS)
  rate(parseWithLlhttp, raw, WARMUP_MS)
  const ours: number[] = []
  const theirs: number[] = []
  for (let run = 0; run < REPEATS; run++) {
    ours.push(rate(parseWithOurs, raw, RUN_MS))
    theirs.push(rate(parseWithLlhttp, raw, RUN_MS))
  }
  return { ours: median(ours), llhttp: median(theirs) }
}

const ours = new RequestParser()
function parseWithOurs(raw: Buffer): void {
  ours.reset()
  const step = ours.push(raw)
  sink += step.head === null ? 0 : step.head.headers.length + (step.body === null ? 0 : step.body.length)
}

const llhttp = new HTTPParser()
llhttp.initialize(HTTPParser.REQUEST, {})
llhttp[HTTPParser.kOnHeaders] = () => {}
llhttp[HTTPParser.kOnHeadersComplete] = (_major: number, _minor: number, headers: string[]) => {
  sink += headers.length
}
llhttp[HTTPParser.kOnBody] = (body: Buffer) => {
  sink += body.length
}
llhttp[HTTPParser.kOnMessageComplete] = () => {}
function parseWithLlhttp(raw: Buffer): void {
  llhttp.initialize(HTTPParser.REQUEST, {})
  const parsed = llhttp.execute(raw, 0, raw.length)
  if (typeof parsed !== 'number') throw parsed
}

const rows: { case: string; 'http10-parser req/s': string; 'llhttp req/s': string; ratio: string }[] = []
for (const { name, raw } of CASES) {
  const { ours: oursRate, llhttp: llhttpRate } = compare(raw)
  rows.push({
    case: name,
    'http10-parser req/s': Math.round(oursRate).toLocaleString('en-US'),
    'llhttp req/s': Math.round(llhttpRate).toLocaleString('en-US'),
    ratio: `${(oursRate / llhttpRate).toFixed(2)}x`,
  })
}
console.log(`node ${process.version}, median of ${REPEATS} runs of ${RUN_MS} ms after ${WARMUP_MS} ms warm-up`)
console.table(rows)
if (sink === 0) console.log('nothing parsed?')
