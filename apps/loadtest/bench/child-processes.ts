import { type ChildProcess, spawn } from 'node:child_process'

// Every process the comparison starts is tracked here until it exits, so the end of the run, an
// error or a signal can stop each one by pid and none outlives the benchmark.

const started = new Set<ChildProcess>()

/** Tracks a spawned process until it exits. */
export function track(child: ChildProcess): ChildProcess {
  started.add(child)
  child.on('exit', () => started.delete(child))
  return child
}

/** Spawns a process, tracked for clean-up; stdout and stderr are piped and drained. */
export function launch(command: string, args: readonly string[], cwd: string): ChildProcess {
  const child = track(spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] }))
  child.stdout?.resume()
  child.stderr?.resume()
  return child
}

/** SIGTERM by pid (SIGKILL after 10 s) and waits for the exit. */
export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  process.kill(child.pid, 'SIGTERM')
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL')
  }, 10_000)
  await exited
  clearTimeout(timer)
}

/** Stops every tracked process, one after another. */
export async function stopAll(): Promise<void> {
  for (const child of started) await stop(child)
}

/** SIGTERM to every tracked process still running, without waiting: on a signal or an error. */
export function terminateAll(): void {
  for (const child of started)
    if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGTERM')
}
