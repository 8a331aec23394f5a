// The command line behind main.ts: settings, --help and --version, then the supervisor; exit codes.

import { SERVER_VERSION } from './common/version.js'
import { loadConfig } from './config/load-config.js'
import { UsageError } from './config/usage-error.js'
import type { PreforkedWorker } from './supervisor/fork-worker.js'
import { runSupervisor } from './supervisor/supervisor.js'

async function main(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  preforked: PreforkedWorker | null,
): Promise<number> {
  const cli = loadConfig(argv, env)
  if (cli.kind === 'help') {
    process.stdout.write(cli.text)
    return 0
  }
  if (cli.kind === 'version') {
    process.stdout.write(`${SERVER_VERSION}\n`)
    return 0
  }
  return runSupervisor(cli.config, preforked)
}

/** Runs `threadserve` with these arguments; exits the process when done (2 for a usage error). */
export function runCli(argv: readonly string[], env: NodeJS.ProcessEnv, preforked: PreforkedWorker | null): void {
  main(argv, env, preforked).then(
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
}
