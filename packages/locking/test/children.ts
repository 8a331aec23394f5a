import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

export interface Child {
  readonly process: ChildProcess
  readonly pid: number
  readonly events: Record<string, unknown>[]
  /** Resolves with the exit code (or signal name) once the child is gone. */
  readonly exited: Promise<number | string>
  /** Resolves with the first event named `name`, waiting up to `timeoutMs`. */
  waitForEvent(name: string, timeoutMs: number): Promise<Record<string, unknown>>
}

const running = new Set<ChildProcess>()

/** Starts `test/fixtures/<fixture>` under tsx, the way the brief asks. */
export function startFixture(fixture: string, args: readonly string[]): Child {
  const file = fileURLToPath(new URL(`./fixtures/${fixture}`, import.meta.url))
  const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  if (child.pid === undefined) throw new Error(`could not start ${fixture}`)
  running.add(child)
  const events: Record<string, unknown>[] = []
  const waiters = new Set<() => void>()
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  createInterface({ input: child.stdout! }).on('line', (line) => {
    events.push(JSON.parse(line) as Record<string, unknown>)
    for (const wake of waiters) wake()
  })
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => {
      running.delete(child)
      for (const wake of waiters) wake()
      resolve(code ?? signal ?? 'unknown')
    })
  })
  const waitForEvent = (name: string, timeoutMs: number): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = events.find((event) => event.event === name)
        if (found !== undefined) finish(() => resolve(found))
        else if (child.exitCode !== null || child.signalCode !== null) {
          finish(() => reject(new Error(`${fixture} exited before "${name}": ${stderr}`)))
        }
      }
      const timer = setTimeout(
        () => finish(() => reject(new Error(`no "${name}" from ${fixture} in ${timeoutMs} ms: ${stderr}`))),
        timeoutMs,
      )
      const finish = (settle: () => void): void => {
        clearTimeout(timer)
        waiters.delete(check)
        settle()
      }
      waiters.add(check)
      check()
    })
  return { process: child, pid: child.pid, events, exited, waitForEvent }
}

/** Kills, by pid, every fixture still running (stopped ones too: SIGKILL needs no SIGCONT). */
export function killAllFixtures(): void {
  for (const child of running) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid, 'SIGKILL')
    }
  }
}

/** Exit code (or signal) of a child that must end by itself within `timeoutMs`. */
export function exitWithin(child: Child, timeoutMs: number): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`pid ${child.pid} still running after ${timeoutMs} ms`)), timeoutMs)
  })
  return Promise.race([child.exited, late]).finally(() => clearTimeout(timer))
}
