import { type ChildProcess, fork } from 'node:child_process'
import { WORKER_ID_ENV } from '../common/worker-env.js'
import { WORKER_ENTRY_PATH } from '../paths.js'

// How a worker process is forked: by the pool, and once before anything else by the command-line
// entry (main.ts). Kept free of other imports so that main.ts can fork before loading the rest.

// V8 heap settings for workers. A worker's live heap is ~6 MiB, but under a
// GET load V8 grew its young generation to 16 MiB semi-spaces and let promoted per-connection
// garbage pile up in the old one: ~100 MiB RSS. A 1 MiB semi-space and a 20% growth step keep it
// at ~65 MiB, with the same req/s and CPU per request in alternating runs (docs/performance.md).
// The supervisor's own node flags come after these, so an operator's --max-semi-space-size wins.
const WORKER_V8_FLAGS = ['--max-semi-space-size=1', '--heap-growing-percent=20']

/** Forks worker `id` with `env` (which carries its settings, or PREFORKED_ENV). */
export function forkWorker(id: number, env: NodeJS.ProcessEnv): ChildProcess {
  return fork(WORKER_ENTRY_PATH, [], {
    execArgv: [...WORKER_V8_FLAGS, ...process.execArgv],
    env: { ...env, [WORKER_ID_ENV]: String(id) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
}

/**
 * The environment workers inherit: ours minus THREADSERVE_UPLOAD_AUTH, which may hold a password
 * in clear (workers get only its hashes, inside the settings).
 */
export function inheritedEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { THREADSERVE_UPLOAD_AUTH: _secret, ...rest } = env
  return rest
}
