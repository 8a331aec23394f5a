import { type ChildProcess, spawn } from 'node:child_process'
import { access, rm } from 'node:fs/promises'
import { makeTempDir } from '../../test/helpers/server-process.js'

// Debian's slowhttptest (installed by `pnpm test:setup`) as the attacker of slow-attacks.test.ts:
// one run per attack, always bounded in time (-l) and connections (-c), against 127.0.0.1 only,
// without -g (it writes no files; its working dir is a temp dir all the same, removed at stop).

export const SLOWHTTPTEST = '/usr/bin/slowhttptest'

/** Slow read (-X), slow headers / Slowloris (-H), slow body / R-U-Dead-Yet (-B). */
export type SlowAttackMode = '-X' | '-H' | '-B'

export interface SlowAttack {
  readonly mode: SlowAttackMode
  /** -c: connections to open in all. */
  readonly connections: number
  /** -r: connections opened per second. */
  readonly perSecond: number
  /** -l: the attack's length; slowhttptest stops by itself after it. */
  readonly seconds: number
  /** -u: must be http://127.0.0.1:PORT/... */
  readonly url: string
  /** The mode's own options, e.g. ['-n', '5', '-z', '32'] for slow read. */
  readonly options: readonly string[]
}

/** slowhttptest's last status report: its view of the connections it opened. */
export interface SlowAttackStatus {
  readonly connected: number
  readonly closed: number
  readonly error: number
  readonly pending: number
  /** Its own probe got an answer within -p seconds (printed as "service available: YES"). */
  readonly serviceAvailable: boolean | null
}

export interface RunningAttack {
  readonly pid: number
  readonly child: ChildProcess
  /** The last status report so far (all zeros before the first). */
  status(): SlowAttackStatus
  /** Waits for slowhttptest to end by itself (up to its -l plus `graceMs`), then stops it by pid. */
  finish(graceMs?: number): Promise<SlowAttackStatus>
  /** Stops it now (SIGTERM, then SIGKILL), and removes its temp dir. */
  stop(): Promise<void>
}

// slowhttptest colours its report: ESC [ ... m sequences, and ESC [ H / ESC [ 2 J to clear the screen.
const ANSI_ESCAPES = new RegExp(`${String.fromCharCode(0x1b)}\\[[0-9;]*[A-Za-z]`, 'g')

function lastNumber(text: string, label: string): number {
  const matches = [...text.matchAll(new RegExp(`${label}:\\s+(\\d+)`, 'g'))]
  return Number(matches.at(-1)?.[1] ?? 0)
}

function parseStatus(output: string): SlowAttackStatus {
  const text = output.replace(ANSI_ESCAPES, '')
  const available = [...text.matchAll(/service available:\s+(YES|NO)/g)].at(-1)?.[1]
  return {
    connected: lastNumber(text, 'connected'),
    closed: lastNumber(text, 'closed'),
    error: lastNumber(text, 'error'),
    pending: lastNumber(text, 'pending'),
    serviceAvailable: available === undefined ? null : available === 'YES',
  }
}

/** Starts one attack; rejects a target other than 127.0.0.1 or an unbounded one. */
export async function startSlowAttack(attack: SlowAttack): Promise<RunningAttack> {
  if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(attack.url)) throw new Error(`attack only 127.0.0.1, not ${attack.url}`)
  if (!(attack.seconds > 0 && attack.seconds <= 60 && attack.connections > 0 && attack.connections <= 5000)) {
    throw new Error('an attack is bounded: 1-60 s, 1-5000 connections')
  }
  try {
    await access(SLOWHTTPTEST)
  } catch {
    throw new Error(`${SLOWHTTPTEST} is missing: run \`pnpm test:setup\` (Debian package slowhttptest)`)
  }
  const dir = await makeTempDir('threadserve-slowhttptest-')
  const args = [
    attack.mode,
    '-c',
    String(attack.connections),
    '-r',
    String(attack.perSecond),
    '-l',
    String(attack.seconds),
    '-p',
    '3',
    '-u',
    attack.url,
    ...attack.options,
  ]
  const startedAt = Date.now()
  const child = spawn(SLOWHTTPTEST, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const collect = (chunk: Buffer): void => {
    output += chunk.toString('latin1')
  }
  child.stdout?.on('data', collect)
  child.stderr?.on('data', collect)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const isRunning = (): boolean => child.exitCode === null && child.signalCode === null
  const stop = async (): Promise<void> => {
    if (isRunning()) child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
    await rm(dir, { recursive: true, force: true })
  }
  return {
    pid: child.pid as number,
    child,
    status: () => parseStatus(output),
    async finish(graceMs = 10_000) {
      const deadline = startedAt + attack.seconds * 1000 + graceMs
      const timer = setTimeout(
        () => {
          if (isRunning()) child.kill('SIGTERM')
        },
        Math.max(0, deadline - Date.now()),
      )
      await exited
      clearTimeout(timer)
      await stop()
      return parseStatus(output)
    },
    stop,
  }
}
