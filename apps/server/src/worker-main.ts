// Entry point of a worker process; the supervisor forks this file.
import { runWorker } from './worker/run-worker.js'

runWorker().catch((error: unknown) => {
  process.stderr.write(`threadserve worker: ${(error as Error).message}\n`)
  process.exit(70)
})
