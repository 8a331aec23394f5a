import { type ChildProcess, fork } from 'node:child_process'
import type { HandOffPair } from '../common/hand-off-pair.js'
import type { PipeHandle } from '../common/node-internals.js'
import { HAND_OFF_FD_ENV, WORKER_ID_ENV } from '../common/worker-env.js'
import { WORKER_ENTRY_PATH } from '../paths.js'

// How a worker process is forked: by the pool, and once before anything else by the command-line
// entry (main.ts). Kept free of heavy imports so that main.ts can fork before loading the rest
// (the hand-off pair's modules are Node built-ins and node-internals.ts, a few hundred lines).

// V8 heap settings for workers. A worker's live heap is ~6 MiB, but under a
// GET load V8 grew its young generation to 16 MiB semi-spaces and let promoted per-connection
// garbage pile up in the old one: ~100 MiB RSS. A 1 MiB semi-space and a 20% growth step keep it
// at ~65 MiB, with the same req/s and CPU per request in alternating runs (docs/performance.md).
// One V8 platform thread instead of four: a worker's background compilation and GC tasks are
// few, every thread pages in its own stack and malloc arena (~2 MiB of RSS for the three), and
// on a machine with fewer cores than workers the threads only compete with the workers.
// The supervisor's own node flags come after these, so an operator's --max-semi-space-size wins.
const WORKER_V8_FLAGS = ['--max-semi-space-size=1', '--heap-growing-percent=20', '--v8-pool-size=1']

// The child's descriptor for its end of the hand-off pipe: the first after stdin, stdout, stderr
// and the IPC channel.
const HAND_OFF_CHILD_FD = 4

/** The worker main.ts forked before the supervisor had loaded, with its hand-off pipe if it has one. */
export interface PreforkedWorker {
  readonly child: ChildProcess
  /** The supervisor's end of the worker's hand-off pipe; null: hand-offs go over Node's IPC. */
  readonly handOff: PipeHandle | null
}

/**
 * Forks worker `id` with `env` (which carries its settings, or PREFORKED_ENV). With `handOff`,
 * the child inherits the pair's other end as descriptor 4 (and learns it from HAND_OFF_FD_ENV);
 * our copy of that end is closed as soon as the child has it.
 */
export function forkWorker(id: number, env: NodeJS.ProcessEnv, handOff: HandOffPair | null = null): ChildProcess {
  try {
    return fork(WORKER_ENTRY_PATH, [], {
      execArgv: [...WORKER_V8_FLAGS, ...process.execArgv],
      env: {
        ...env,
        [WORKER_ID_ENV]: String(id),
        ...(handOff === null ? {} : { [HAND_OFF_FD_ENV]: String(HAND_OFF_CHILD_FD) }),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc', ...(handOff === null ? [] : [handOff.childFd])],
    })
  } finally {
    handOff?.releaseChildEnd()
  }
}

/**
 * The environment workers inherit: ours minus THREADSERVE_UPLOAD_AUTH, which may hold a password
 * in clear (workers get only its hashes, inside the settings), and minus a hand-off descriptor
 * we may have inherited ourselves.
 */
export function inheritedEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { THREADSERVE_UPLOAD_AUTH: _secret, [HAND_OFF_FD_ENV]: _fd, ...rest } = env
  return rest
}
