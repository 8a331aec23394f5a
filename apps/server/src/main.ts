#!/usr/bin/env node
// Command-line entry: `threadserve [options]` (also `pnpm --filter server start`).
//
// It forks the first worker before loading anything else (issue 7, start-up). A Node process
// takes ~100 ms to boot on these machines, and the supervisor and its first worker used to boot
// one after the other; now they boot side by side. The worker asks for its settings once it has
// loaded, and the supervisor answers once it has read and checked them (worker-pool.ts); if the
// supervisor stops first (a usage error, say), the worker leaves without a word.
import { forkWorker, inheritedEnvironment, PREFORKED_ENV } from './supervisor/fork-worker.js'

const argv = process.argv.slice(2)
const onlyText = argv.some((arg) => arg === '-h' || arg === '--help' || arg === '-v' || arg === '--version')
const preforked = onlyText ? null : forkWorker(1, { ...inheritedEnvironment(process.env), [PREFORKED_ENV]: '1' })
const { runCli } = await import('./cli.js')
runCli(argv, process.env, preforked)
