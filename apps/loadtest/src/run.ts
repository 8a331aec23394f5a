import { type ChildProcess, fork } from 'node:child_process'
import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { fileURLToPath } from 'node:url'
import { LoadEngine } from './engine.js'
import { UsageError } from './errors.js'
import type { LoadOptions } from './options.js'
import { splitOptions } from './options.js'
import { createReport, type PartialResult, type Report, toPartialResult } from './report.js'
import { buildRequest, loadBody } from './request.js'

/** Counters summed over all generator workers, for a progress line. */
export interface RunProgress {
  readonly completed: number
  readonly errors: number
}

export interface RunHooks {
  /** Called about every `progressIntervalMs` while the load runs. */
  readonly onProgress?: (progress: RunProgress) => void
  readonly progressIntervalMs?: number
  /** Aborting ends the run early; the report covers what was measured until then. */
  readonly signal?: AbortSignal
}

/** Parent -> generator worker. */
export type ToWorker = { type: 'run'; options: LoadOptions } | { type: 'start' } | { type: 'stop' }
/** Generator worker -> parent. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'progress'; completed: number; errors: number }
  | { type: 'result'; result: PartialResult }
  | { type: 'error'; message: string; usage: boolean }

const WORKER_SCRIPT = fileURLToPath(new URL('./worker.js', import.meta.url))

/** Resolves the host once, before any connection: no DNS look-up on the hot path. */
export async function resolveAddress(host: string): Promise<string> {
  if (isIP(host) !== 0) return host
  try {
    return (await lookup(host)).address
  } catch {
    throw new UsageError(`URL: cannot resolve host "${host}"`)
  }
}

/** Prepares an engine for (part of) a run: resolves the host, loads the body, builds the request. */
export async function prepareEngine(options: LoadOptions): Promise<LoadEngine> {
  const address = await resolveAddress(options.host)
  const body = await loadBody(options)
  return new LoadEngine(options, buildRequest(options, body), address)
}

function progressOf(engine: LoadEngine): RunProgress {
  return engine.progress()
}

async function runInProcess(options: LoadOptions, hooks: RunHooks): Promise<Report> {
  const engine = await prepareEngine(options)
  const onAbort = (): void => engine.stop()
  hooks.signal?.addEventListener('abort', onAbort, { once: true })
  const onProgress = hooks.onProgress
  const timer =
    onProgress === undefined
      ? null
      : setInterval(() => onProgress(progressOf(engine)), hooks.progressIntervalMs ?? 1000)
  try {
    const result = await engine.run()
    return createReport(options, [toPartialResult(result)])
  } finally {
    if (timer !== null) clearInterval(timer)
    hooks.signal?.removeEventListener('abort', onAbort)
  }
}

interface WorkerHandle {
  readonly child: ChildProcess
  progress: RunProgress
  result: PartialResult | null
}

async function runInWorkers(options: LoadOptions, hooks: RunHooks): Promise<Report> {
  const handles: WorkerHandle[] = []
  let ready = 0
  let failure: Error | null = null
  let settle: (() => void) | null = null
  const allDone = new Promise<void>((resolve) => {
    settle = resolve
  })
  const check = (): void => {
    if (failure !== null || handles.every((h) => h.result !== null)) settle?.()
  }
  for (let index = 0; index < options.workers; index++) {
    const child = fork(WORKER_SCRIPT, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    const handle: WorkerHandle = { child, progress: { completed: 0, errors: 0 }, result: null }
    handles.push(handle)
    child.on('message', (message: FromWorker) => {
      if (message.type === 'ready') {
        ready++
        if (ready === options.workers) for (const h of handles) h.child.send({ type: 'start' } satisfies ToWorker)
      } else if (message.type === 'progress') handle.progress = message
      else if (message.type === 'result') handle.result = message.result
      else failure = message.usage ? new UsageError(message.message) : new Error(message.message)
      check()
    })
    child.on('exit', (code) => {
      if (handle.result === null && failure === null) failure = new Error(`generator worker exited with code ${code}`)
      check()
    })
    child.send({ type: 'run', options: splitOptions(options, index) } satisfies ToWorker)
  }
  const stopAll = (): void => {
    for (const h of handles) if (h.child.connected) h.child.send({ type: 'stop' } satisfies ToWorker)
  }
  hooks.signal?.addEventListener('abort', stopAll, { once: true })
  const onProgress = hooks.onProgress
  const timer =
    onProgress === undefined
      ? null
      : setInterval(() => {
          let completed = 0
          let errors = 0
          for (const h of handles) {
            completed += h.progress.completed
            errors += h.progress.errors
          }
          onProgress({ completed, errors })
        }, hooks.progressIntervalMs ?? 1000)
  try {
    await allDone
  } finally {
    if (timer !== null) clearInterval(timer)
    hooks.signal?.removeEventListener('abort', stopAll)
    for (const h of handles) if (h.child.exitCode === null && h.child.pid !== undefined) h.child.kill()
  }
  if (failure !== null) throw failure
  return createReport(
    options,
    handles.map((h) => h.result as PartialResult),
  )
}

/**
 * Runs the load the options describe, in this process or in `options.workers` forked generator
 * processes whose histograms and counts are merged into one report.
 * @example
 * const report = await runLoad(parseCommand(['http://127.0.0.1:8080/', '-n', '1000']).options)
 */
export function runLoad(options: LoadOptions, hooks: RunHooks = {}): Promise<Report> {
  return options.workers === 1 ? runInProcess(options, hooks) : runInWorkers(options, hooks)
}
