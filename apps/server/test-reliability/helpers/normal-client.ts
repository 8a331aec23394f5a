import { readFile } from 'node:fs/promises'
import { exchange } from '../../test/helpers/raw-exchange.js'
import { percentile } from './reliability.js'

// The "normal client" of the attack tests: one GET at a time (a new connection each, HTTP/1.0),
// for a fixed time, counting answers that are not a 200 with exactly the expected bytes, and
// timing each exchange from connect to close. It measures before an attack (the baseline) and
// during it, in the same run, so that the two figures come from the same machine and moment.

/** A GET the normal client repeats: its target, extra header lines, and the body it must get. */
export interface NormalRequest {
  readonly path: string
  readonly body: Buffer
  /** Extra header fields, e.g. { Authorization: 'Basic ...' }. */
  readonly headers?: Readonly<Record<string, string>>
}

export interface NormalClientRun {
  readonly latenciesMs: readonly number[]
  /** One entry per failed exchange: status (0: none) and error, e.g. '503' or '0 ECONNRESET'. */
  readonly failures: readonly string[]
}

/** Our own deadline for one exchange: far past any timeout of the server, so only a hang trips it. */
const EXCHANGE_TIMEOUT_MS = 60_000
export const NORMAL_USER_AGENT = 'normal-client'

/** Repeats `request` one at a time for `durationMs` (bounded: it never starts one after that). */
export async function runNormalClient(
  port: number,
  request: NormalRequest,
  durationMs: number,
): Promise<NormalClientRun> {
  const fields = Object.entries(request.headers ?? {})
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')
  const raw = `GET ${request.path} HTTP/1.0\r\nHost: 127.0.0.1:${port}\r\nUser-Agent: ${NORMAL_USER_AGENT}\r\n${fields}\r\n`
  const latenciesMs: number[] = []
  const failures: string[] = []
  const until = Date.now() + durationMs
  while (Date.now() < until) {
    const started = performance.now()
    const result = await exchange(port, raw, { timeoutMs: EXCHANGE_TIMEOUT_MS })
    latenciesMs.push(performance.now() - started)
    if (result.status !== 200 || !result.body.equals(request.body)) {
      failures.push(`${result.status}${result.error === null ? '' : ` ${result.error}`}`)
    }
  }
  return { latenciesMs, failures }
}

const ms = (value: number): string => (value < 10 ? value.toFixed(2) : value.toFixed(1))

/** "n requests, k failed, p50 x ms, p99 y ms" */
export function describeRun(run: NormalClientRun): string {
  const { latenciesMs, failures } = run
  return (
    `${latenciesMs.length} requests, ${failures.length} failed, ` +
    `p50 ${ms(percentile(latenciesMs, 50))} ms, p99 ${ms(percentile(latenciesMs, 99))} ms`
  )
}

/** "no attack p99 1.20 ms, under attack p99 2.04 ms (1.7x)" */
export function compareP99(quiet: NormalClientRun, loaded: NormalClientRun, what = 'attack'): string {
  const before = percentile(quiet.latenciesMs, 99)
  const during = percentile(loaded.latenciesMs, 99)
  return `no ${what} p99 ${ms(before)} ms, under ${what} p99 ${ms(during)} ms (${(during / before).toFixed(1)}x)`
}

/** How many failures of each kind, e.g. "503 x 12, 0 ECONNRESET x 1" ("none" when there are none). */
export function tallyFailures(failures: readonly string[]): string {
  const counts = new Map<string, number>()
  for (const failure of failures) counts.set(failure, (counts.get(failure) ?? 0) + 1)
  if (counts.size === 0) return 'none'
  return [...counts.entries()].map(([kind, n]) => `${kind} x ${n}`).join(', ')
}

/**
 * Connections to `port` the kernel holds ESTABLISHED on the server's side (/proc/net/tcp, IPv4):
 * what an attack keeps open at a moment, whoever serves it.
 */
export async function establishedAt(port: number): Promise<number> {
  const table = await readFile('/proc/net/tcp', 'utf8')
  const localPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`
  let count = 0
  for (const line of table.split('\n')) {
    // "sl local_address rem_address st ...": addresses are HEXIP:HEXPORT, ESTABLISHED is 01.
    const fields = line.trim().split(/\s+/)
    if (fields[3] === '01' && fields[1]?.endsWith(localPort)) count++
  }
  return count
}

const PAGE_BYTES = 4096

/** The kernel's TCP buffer memory in use (/proc/net/sockstat, "TCP: ... mem N", in pages), in bytes. */
export async function kernelTcpMemoryBytes(): Promise<number> {
  const match = /^TCP:.* mem (\d+)/m.exec(await readFile('/proc/net/sockstat', 'utf8'))
  return Number(match?.[1] ?? 0) * PAGE_BYTES
}

/**
 * tcp_mem's pressure and hard limits in bytes: past the first the kernel shrinks socket buffers,
 * at the second it refuses them, and every TCP connection on the machine stalls and retransmits.
 */
export async function kernelTcpLimitsBytes(): Promise<{ pressure: number; limit: number }> {
  const [, pressure = 0, limit = 0] = (await readFile('/proc/sys/net/ipv4/tcp_mem', 'utf8'))
    .trim()
    .split(/\s+/)
    .map(Number)
  return { pressure: pressure * PAGE_BYTES, limit: limit * PAGE_BYTES }
}
