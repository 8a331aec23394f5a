#!/usr/bin/env node
// Command-line entry: `threadserve [options] [DIR]` (also `pnpm --filter server start`, through
// scripts/start-demo.mjs, which sets the demo defaults).
//
// It forks the first worker before loading anything else, so that the supervisor and its first
// worker boot side by side instead of one after the other (a Node process takes ~50-100 ms to
// boot). The worker asks for its settings once it has loaded, and the supervisor answers once it
// has read and checked them (supervisor/worker-fleet.ts); if the supervisor stops first (a usage
// error, say), the worker leaves without a word. Its hand-off pipe is made first (one loop turn,
// under a millisecond: common/hand-off-pair.ts), so that it forks like every later worker.
import { createHandOffPair } from './common/hand-off-pair.js'
import { PREFORKED_ENV } from './common/worker-env.js'
import { forkWorker, inheritedEnvironment, type PreforkedWorker } from './supervisor/fork-worker.js'

const argv = process.argv.slice(2)
const onlyText = argv.some((arg) => arg === '-h' || arg === '--help' || arg === '-v' || arg === '--version')
let preforked: PreforkedWorker | null = null
if (!onlyText) {
  const pair = await createHandOffPair()
  const env = { ...inheritedEnvironment(process.env), [PREFORKED_ENV]: '1' }
  preforked = { child: forkWorker(1, env, pair), handOff: pair?.sender ?? null }
}
const { runCli } = await import('./cli.js')
runCli(argv, process.env, preforked)
