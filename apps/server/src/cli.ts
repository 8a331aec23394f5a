#!/usr/bin/env node
// Command-line entry: `threadserve [options]` (also `pnpm --filter server start`).
import { loadConfig } from './config.js'
import { UsageError } from './errors.js'
import { runSupervisor } from './supervisor.js'
import { SERVER_VERSION } from './version.js'

async function main(): Promise<number> {
  const cli = loadConfig(process.argv.slice(2), process.env)
  if (cli.kind === 'help') {
    process.stdout.write(cli.text)
    return 0
  }
  if (cli.kind === 'version') {
    process.stdout.write(`${SERVER_VERSION}\n`)
    return 0
  }
  return runSupervisor(cli.config)
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`threadserve: ${error.message}\n`)
      process.exit(2)
    }
    process.stderr.write(`threadserve: ${(error as Error).message}\n`)
    process.exit(1)
  },
)
