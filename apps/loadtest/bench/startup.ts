import type { ChildProcess } from 'node:child_process'
import { rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { type BenchKit, sleep } from './kit.js'

// Start-up: from the instant the supervisor is spawned, how long until the port
// accepts, until ThreadServe prints its "listening" line (all workers up), and until the first
// 200. The port is chosen beforehand; a poller opens a new HTTP/1.0 connection every few ms
// (refused ones are expected until the server listens) and keeps each open until it answers,
// since the supervisor may accept before its workers are ready and hand off once they are.

const POLL_INTERVAL_MS = 3
const STARTUP_TIMEOUT_MS = 15_000
export const STARTUP_GOAL_MS = 300

type StartupServer = 'threadserve' | 'threadserve-2w' | 'nginx'

const LABEL: Record<StartupServer, string> = {
  threadserve: 'ThreadServe (5 workers)',
  'threadserve-2w': 'ThreadServe (--workers 2)',
  nginx: 'nginx (2 workers)',
}

export interface StartupRow {
  readonly server: StartupServer
  readonly label: string
  /** spawn -> first accepted TCP connection */
  readonly acceptMs: number[]
  /** spawn -> "listening on" line on stdout (ThreadServe only) */
  readonly lineMs: number[]
  /** spawn -> first 200 to GET /1k.bin */
  readonly firstOkMs: number[]
  readonly attempts: number[]
}

interface Poll {
  readonly acceptMs: number
  readonly firstOkMs: number
  readonly attempts: number
}

/** Opens a connection every POLL_INTERVAL_MS until one answers 200; times are ms after t0. */
function pollUntilOk(port: number, t0: number, child: ChildProcess): Promise<Poll> {
  return new Promise((resolve, reject) => {
    const open = new Set<net.Socket>()
    let acceptMs = Number.NaN
    let attempts = 0
    let done = false
    const finish = (error: Error | null, okMs = 0): void => {
      if (done) return
      done = true
      clearInterval(timer)
      clearTimeout(deadline)
      child.off('exit', onExit)
      for (const socket of open) socket.destroy()
      if (error !== null) reject(error)
      else resolve({ acceptMs, firstOkMs: okMs, attempts })
    }
    const onExit = (code: number | null): void => finish(new Error(`server exited (${code}) before its first 200`))
    child.once('exit', onExit)
    const attempt = (): void => {
      attempts++
      const socket = net.connect({ port, host: '127.0.0.1' })
      open.add(socket)
      let head = ''
      socket.once('connect', () => {
        if (Number.isNaN(acceptMs)) acceptMs = performance.now() - t0
        socket.write('GET /1k.bin HTTP/1.0\r\n\r\n')
      })
      socket.on('data', (chunk: Buffer) => {
        if (head.includes('\r\n')) return
        head += chunk.toString('latin1')
        if (!head.includes('\r\n')) return
        if (/^HTTP\/1\.\d 200 /.test(head)) finish(null, performance.now() - t0)
        else socket.destroy()
      })
      socket.on('error', () => {}) // ECONNREFUSED until it listens; resets are retried too
      socket.once('close', () => open.delete(socket))
    }
    const timer = setInterval(attempt, POLL_INTERVAL_MS)
    const deadline = setTimeout(() => finish(new Error(`no 200 within ${STARTUP_TIMEOUT_MS} ms`)), STARTUP_TIMEOUT_MS)
    attempt()
  })
}

async function measureOnce(
  kit: BenchKit,
  server: StartupServer,
  dir: string,
  root: string,
): Promise<Poll & { lineMs: number }> {
  const uploads = await kit.makeRunDir(dir)
  const port = await kit.freePort()
  let command: string
  let args: string[]
  if (server === 'nginx') {
    const conf = path.join(dir, 'nginx.conf')
    await writeFile(conf, kit.nginxConfig(dir, root, port, uploads))
    command = 'nginx'
    args = ['-c', conf, '-e', path.join(dir, 'nginx-error.log')]
  } else {
    command = process.execPath
    args = [kit.threadserve, '--port', String(port), '--root', root, '--upload-dir', uploads]
    args.push('--log', path.join(dir, 'server.log'), '--workers', server === 'threadserve' ? '5' : '2')
  }
  const t0 = performance.now()
  const child = kit.launch(command, args, dir)
  try {
    let lineMs = Number.NaN
    const line = new Promise<void>((resolve) => {
      let text = ''
      const onData = (chunk: Buffer): void => {
        text += chunk.toString()
        if (!/ listening on http:\/\//.test(text)) return
        lineMs = performance.now() - t0
        child.stdout?.off('data', onData)
        resolve()
      }
      child.stdout?.on('data', onData)
    })
    const poll = await pollUntilOk(port, t0, child)
    // The supervisor may hand off (and so answer) before the line: give the line a moment more.
    if (server !== 'nginx') {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([line, new Promise((resolve) => (timer = setTimeout(resolve, 5_000)))])
      clearTimeout(timer)
    }
    return { ...poll, lineMs }
  } finally {
    await kit.stop(child)
    await rm(dir, { recursive: true, force: true })
  }
}

/** R repetitions of each server's cold start, servers alternated between repetitions. */
export async function measureStartup(kit: BenchKit, base: string, root: string): Promise<StartupRow[]> {
  const servers: StartupServer[] = ['threadserve', 'threadserve-2w']
  if (kit.hasNginx) servers.push('nginx')
  const rows = servers.map(
    (server): StartupRow => ({ server, label: LABEL[server], acceptMs: [], lineMs: [], firstOkMs: [], attempts: [] }),
  )
  for (let rep = 0; rep < kit.repetitions; rep++) {
    const order = [...rows]
    for (let k = 0; k < rep; k++) order.push(order.shift() as StartupRow)
    for (const row of order) {
      await sleep(200) // let the previous server's exit settle
      const result = await measureOnce(kit, row.server, path.join(base, `startup-${rep}-${row.server}`), root)
      row.acceptMs.push(result.acceptMs)
      if (!Number.isNaN(result.lineMs)) row.lineMs.push(result.lineMs)
      row.firstOkMs.push(result.firstOkMs)
      row.attempts.push(result.attempts)
      kit.log(
        `rep ${rep + 1} startup  ${row.server.padEnd(15)} accepts ${kit.fmt(result.acceptMs, 1)} ms  listening line ${Number.isNaN(result.lineMs) ? '-' : kit.fmt(result.lineMs, 1)} ms  first 200 ${kit.fmt(result.firstOkMs, 1)} ms  (${result.attempts} connections)`,
      )
    }
  }
  return rows
}

export function renderStartup(kit: BenchKit, rows: readonly StartupRow[]): string[] {
  const cell = (values: readonly number[]): string => (values.length === 0 ? 'n/a' : kit.spread(values, 1))
  const lines = [
    '## Start-up',
    '',
    `Goal: the first 200 within ${STARTUP_GOAL_MS} ms of spawning the supervisor with 5 workers. The port is`,
    `chosen beforehand; from the spawn a poller opens a new HTTP/1.0 connection for \`GET /1k.bin\` every ${POLL_INTERVAL_MS} ms`,
    '(refused until the server listens) and keeps each open until it answers. "listening" line: ThreadServe\'s stdout',
    `line, printed once every worker is up. Median of ${kit.repetitions} cold starts, min-max in brackets.`,
    '',
    '| server | spawn → port accepts, ms | spawn → "listening" line, ms | spawn → first 200, ms | goal |',
    '| --- | ---: | ---: | ---: | --- |',
  ]
  for (const row of rows) {
    const median = kit.median(row.firstOkMs)
    const goal =
      row.server === 'threadserve' ? `≤ ${STARTUP_GOAL_MS} ms: ${median <= STARTUP_GOAL_MS ? 'met' : 'missed'}` : ''
    lines.push(`| ${row.label} | ${cell(row.acceptMs)} | ${cell(row.lineMs)} | ${cell(row.firstOkMs)} | ${goal} |`)
  }
  lines.push('')
  return lines
}
