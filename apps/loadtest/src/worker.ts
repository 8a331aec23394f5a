import type { LoadEngine } from './engine.js'
import { UsageError } from './errors.js'
import { toPartialResult } from './report.js'
import { type FromWorker, prepareEngine, type ToWorker } from './run.js'

// A generator worker forked by runLoad: prepares its share of the load, waits for the common
// start, runs, and sends back its counts and encoded histogram.

const PROGRESS_INTERVAL_MS = 500

function send(message: FromWorker): void {
  if (process.connected) process.send?.(message)
}

let engine: LoadEngine | null = null

async function start(): Promise<void> {
  if (engine === null) return
  const running = engine
  const timer = setInterval(() => send({ type: 'progress', ...running.progress() }), PROGRESS_INTERVAL_MS)
  const result = await running.run()
  clearInterval(timer)
  send({ type: 'result', result: toPartialResult(result) })
  if (process.connected) process.disconnect()
}

process.on('message', (message: ToWorker) => {
  if (message.type === 'run') {
    prepareEngine(message.options).then(
      (prepared) => {
        engine = prepared
        send({ type: 'ready' })
      },
      (error: unknown) => {
        const text = error instanceof Error ? error.message : String(error)
        send({ type: 'error', message: text, usage: error instanceof UsageError })
        if (process.connected) process.disconnect()
      },
    )
  } else if (message.type === 'start') {
    void start()
  } else {
    engine?.stop()
  }
})

// The parent is gone (or done with us): stop sending load; the process then exits on its own.
process.on('disconnect', () => engine?.stop())
