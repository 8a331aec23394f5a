import path from 'node:path'
import { fileURLToPath } from 'node:url'

// Where the comparison finds the programs it runs, and how long it measures. BENCH_REPETITIONS
// and BENCH_SECONDS shorten a try-out; BENCH_ONLY=extras runs only start-up and large uploads
// (and `--only` on the command line, compare.ts, only the workloads it names).

const HERE = path.dirname(fileURLToPath(import.meta.url))
export const REPO = path.resolve(HERE, '../../..')
export const LOADTEST = path.join(HERE, '../dist/main.js')
export const THREADSERVE = path.join(REPO, 'apps/server/dist/main.js')
export const NODE_CLUSTER = path.join(HERE, 'baselines/node-cluster.js')
export const BARE_NODE = path.join(HERE, 'baselines/bare-node.js')
export const AUTOCANNON = path.join(HERE, '../node_modules/autocannon/autocannon.js')
export const REPETITIONS = Number(process.env.BENCH_REPETITIONS ?? 3)
export const EXTRAS_ONLY = process.env.BENCH_ONLY === 'extras'
export const MEASURE_SECONDS = Number(process.env.BENCH_SECONDS ?? 3)
export const WARMUP = '1s'
