// pnpm --filter ipc-protocol bench
// 1. What validation costs per message, in process: the hand-written 'connection' check against
//    zod (plain and z.compile), on JSON round-tripped messages as IPC delivers them.
// 2. permit-request -> permit-grant round trips per second over a real fork, validation on and
//    off on both ends, one request in flight and 32.
// Numbers only, never asserted: on a shared 2-core machine compare rows of the same run.
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'
import {
  ConnectionMessage,
  connectToWorker,
  decodeSupervisorMessage,
  isConnectionMessage,
  SupervisorMessage,
} from '../src/index.js'

const ROUNDS = 5
const MEASURE_MS = 400

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}

function formatRate(perSecond: number): string {
  return `${Math.round(perSecond).toLocaleString('en-US')}/s`
}

function printTable(title: string, rows: { name: string; rate: number }[], baseline: number): void {
  console.log(`\n${title}`)
  const width = Math.max(...rows.map(({ name }) => name.length))
  for (const { name, rate } of rows) {
    console.log(
      `  ${name.padEnd(width)}  ${formatRate(rate).padStart(16)}  ${(rate / baseline).toFixed(2).padStart(6)}x`,
    )
  }
}

// --- 1. in-process validation -----------------------------------------------------------------

const MESSAGES: unknown[] = Array.from({ length: 1024 }, (_, id) =>
  JSON.parse(JSON.stringify({ type: 'connection', v: 1, id, acceptedAt: Date.now() + id })),
)

function messagesPerSecond(check: (raw: unknown) => boolean): number {
  const rates: number[] = []
  let accepted = 0
  for (let round = -1; round < ROUNDS; round++) {
    let count = 0
    const start = process.hrtime.bigint()
    let elapsedNs = 0n
    while (elapsedNs < BigInt(MEASURE_MS) * 1_000_000n) {
      for (const message of MESSAGES) if (check(message)) accepted++
      count += MESSAGES.length
      elapsedNs = process.hrtime.bigint() - start
    }
    if (round >= 0) rates.push(count / (Number(elapsedNs) / 1e9)) // round -1 warms up
  }
  if (accepted === 0) throw new Error('nothing was accepted')
  return median(rates)
}

const compiledConnection = z.compile(ConnectionMessage)
const compiledSupervisor = z.compile(SupervisorMessage)
const validationRows = [
  { name: 'isConnectionMessage (hand-written)', check: isConnectionMessage },
  {
    name: 'decodeSupervisorMessage (channel path)',
    check: (raw: unknown) => !(decodeSupervisorMessage(raw) instanceof Error),
  },
  { name: 'ConnectionMessage.safeParse (zod)', check: (raw: unknown) => ConnectionMessage.safeParse(raw).success },
  { name: 'z.compile(ConnectionMessage)', check: (raw: unknown) => compiledConnection.safeParse(raw).success },
  {
    name: 'SupervisorMessage.safeParse (zod union)',
    check: (raw: unknown) => SupervisorMessage.safeParse(raw).success,
  },
  { name: 'z.compile(SupervisorMessage)', check: (raw: unknown) => compiledSupervisor.safeParse(raw).success },
].map(({ name, check }) => ({ name, rate: messagesPerSecond(check) }))

console.log(`ipc-protocol benchmark: node ${process.version}, ${cpus().length} CPUs, median of ${ROUNDS} rounds`)
printTable(
  "validating 'connection' messages in process (x = vs zod union, the path without the fast check)",
  validationRows,
  validationRows[4]?.rate ?? 1,
)

// --- 2. round trips over a real fork ----------------------------------------------------------

const WORKER = fileURLToPath(new URL('./fixtures/permit-worker.ts', import.meta.url))

async function roundTripsPerSecond(validate: boolean, count: number, lanes: number): Promise<number> {
  const child = fork(WORKER, [validate ? 'on' : 'off', String(count), String(lanes)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  })
  try {
    const channel = connectToWorker(child, { validate })
    channel.on('permit-request', ({ requestId }) => {
      channel.send({ type: 'permit-grant', v: 1, requestId, permitId: 'bench' })
    })
    let output = ''
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk
    })
    const [code] = await once(child, 'exit')
    if (code !== 0) throw new Error(`benchmark worker exited with ${code}`)
    const { seconds } = JSON.parse(output) as { seconds: number }
    return count / seconds
  } finally {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid)
  }
}

const SETUPS = [1, 32].flatMap((lanes) => [true, false].map((validate) => ({ lanes, validate, rates: [] as number[] })))
// Interleaved, so that a noisy neighbour slows every setup alike rather than one of them.
for (let round = 0; round < ROUNDS; round++) {
  for (const setup of SETUPS) setup.rates.push(await roundTripsPerSecond(setup.validate, 20_000, setup.lanes))
}
const roundTripRows = SETUPS.map(({ lanes, validate, rates }) => ({
  name: `${lanes} in flight, validation ${validate ? 'on ' : 'off'}`,
  rate: median(rates),
}))
printTable(
  `permit-request -> permit-grant round trips over fork (median of ${ROUNDS} runs of 20,000; x = vs the first row)`,
  roundTripRows,
  roundTripRows[0]?.rate ?? 1,
)
