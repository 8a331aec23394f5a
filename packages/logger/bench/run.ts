// Lines per second for one process appending access records to a temp file: @threadserve/logger
// (text, JSON and nginx's combined) against pino with its default async destination, in the same run.
// Usage: pnpm --filter @threadserve/logger bench [lines]   (default 500000, 3 repetitions, median)
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { createAccessLog, type LogFormat } from '../src/index.js'

const LINES = Number(process.argv[2] ?? 500_000)
const REPETITIONS = 3
const TARGETS = Array.from({ length: 16 }, (_, i) => `/static/file-${i}.txt`)
const USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'

interface Contender {
  name: string
  /** Writes LINES records to `file` and resolves once they are all in the file. */
  run(file: string): Promise<void>
}

function threadserve(format: LogFormat): Contender {
  return {
    name: `@threadserve/logger ${format}`,
    async run(file) {
      const log = createAccessLog({ path: file, format })
      for (let i = 0; i < LINES; i++) {
        log.write({
          time: Date.now(),
          workerId: 1,
          clientAddress: '127.0.0.1',
          method: 'GET',
          target: TARGETS[i & 15] as string,
          version: 'HTTP/1.0',
          status: 200,
          bytes: 1024 + (i & 1023),
          bodyBytes: 900 + (i & 1023),
          durationMs: (i % 1000) / 100,
          userAgent: USER_AGENT,
        })
      }
      await log.close()
    },
  }
}

function pinoWith(sync: boolean): Contender {
  return {
    name: `pino (destination, sync: ${sync})`,
    async run(file) {
      const destination = pino.destination({ dest: file, sync })
      if (!sync) await new Promise((ready) => destination.once('ready', ready))
      const logger = pino(destination)
      for (let i = 0; i < LINES; i++) {
        // The same fields; pino adds its own level, time, pid and hostname.
        logger.info({
          worker: 1,
          client: '127.0.0.1',
          method: 'GET',
          target: TARGETS[i & 15],
          version: 'HTTP/1.0',
          status: 200,
          bytes: 1024 + (i & 1023),
          bodyBytes: 900 + (i & 1023),
          durationMs: (i % 1000) / 100,
          userAgent: USER_AGENT,
        })
      }
      await new Promise((closed) => {
        destination.once('close', closed)
        destination.end()
      })
    },
  }
}

// The reference of the brief: pino's default asynchronous destination. sync: true is shown for context.
const PINO = pinoWith(false)
const CONTENDERS = [threadserve('text'), threadserve('json'), threadserve('combined'), PINO, pinoWith(true)]

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}

async function countLines(file: string): Promise<number> {
  const text = await readFile(file, 'latin1')
  let count = 0
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) count++
  return count
}

const dir = await mkdtemp(join(tmpdir(), 'threadserve-logger-bench-'))
try {
  const rates = new Map<string, number[]>(CONTENDERS.map((c) => [c.name, []]))
  const bytesPerLine = new Map<string, number>()
  for (let rep = 0; rep < REPETITIONS; rep++) {
    // Rotate the order so no contender always runs on a warmer (or more fragmented) heap.
    for (let k = 0; k < CONTENDERS.length; k++) {
      const contender = CONTENDERS[(rep + k) % CONTENDERS.length] as Contender
      const file = join(dir, `${rep}-${k}.log`)
      const started = process.hrtime.bigint()
      await contender.run(file)
      const elapsedS = Number(process.hrtime.bigint() - started) / 1e9
      const written = await countLines(file)
      if (written !== LINES) throw new Error(`${contender.name} wrote ${written} of ${LINES} lines`)
      bytesPerLine.set(contender.name, (await stat(file)).size / LINES)
      rates.get(contender.name)?.push(LINES / elapsedS)
      await rm(file)
    }
  }
  const pinoRate = median(rates.get(PINO.name) ?? [])
  console.log(`${LINES} lines, ${REPETITIONS} repetitions, median; node ${process.version}`)
  console.table(
    CONTENDERS.map(({ name }) => {
      const rate = median(rates.get(name) ?? [])
      return {
        contender: name,
        'lines/s': Math.round(rate),
        'MB/s': Number(((rate * (bytesPerLine.get(name) ?? 0)) / 1e6).toFixed(1)),
        'bytes/line': Math.round(bytesPerLine.get(name) ?? 0),
        [`vs ${PINO.name}`]: `${(rate / pinoRate).toFixed(2)}x`,
      }
    }),
  )
} finally {
  await rm(dir, { recursive: true, force: true })
}
