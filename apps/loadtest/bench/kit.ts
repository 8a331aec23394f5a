import type { ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'

// What compare.ts lends startup.ts and large-upload.ts: its helpers, passed in as one object,
// so those measurements depend on this interface alone, and every process they start still goes
// through child-processes.ts (stopped by pid at the end of the run, on an error or a signal).

export interface RunningServer {
  readonly child: ChildProcess
  readonly port: number
  readonly pid: number
}

export interface BenchKit {
  readonly repetitions: number
  /** apps/server/dist/main.js */
  readonly threadserve: string
  readonly hasNginx: boolean
  /** Spawns a process, tracked for clean-up; stdout and stderr are piped and drained. */
  launch(command: string, args: readonly string[], cwd: string): ChildProcess
  /** SIGTERM by pid (SIGKILL after 10 s) and waits for the exit. */
  stop(child: ChildProcess): Promise<void>
  /** ThreadServe on --port 0 (plus `extra` flags), resolved once it prints its port. */
  startServer(
    id: 'threadserve' | 'threadserve-2w',
    dir: string,
    root: string,
    uploads: string,
    extra?: readonly string[],
  ): Promise<RunningServer>
  makeRunDir(dir: string): Promise<string>
  freePort(): Promise<number>
  nginxConfig(dir: string, root: string, port: number, uploads: string): string
  median(values: readonly number[]): number
  spread(values: readonly number[], digits?: number): string
  fmt(n: number, digits?: number): string
  log(text: string): void
}

export const MiB = 1024 * 1024

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** A process's direct children, from /proc/<pid>/task/<pid>/children. */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter((s) => s !== '')
      .map(Number)
  } catch {
    return []
  }
}

/** VmRSS and VmHWM (peak RSS since the process started) of one process, in MiB. */
export function memoryMiB(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN)
  return { rss: kib('VmRSS') / 1024, hwm: kib('VmHWM') / 1024 }
}
