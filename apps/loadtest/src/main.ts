#!/usr/bin/env node
import { UsageError } from './errors.js'
import { parseCommand, USAGE } from './options.js'
import { createProgressLine } from './progress.js'
import { formatReport } from './report.js'
import { runLoad } from './run.js'
import { VERSION } from './version.js'

// CLI entry: bad arguments are one line on stderr and exit code 2, never a stack trace.

async function main(argv: readonly string[]): Promise<number> {
  const command = parseCommand(argv)
  if (command.kind === 'help') {
    process.stdout.write(USAGE)
    return 0
  }
  if (command.kind === 'version') {
    process.stdout.write(`loadtest ${VERSION}\n`)
    return 0
  }
  const options = command.options
  const controller = new AbortController()
  const onSignal = (): void => controller.abort()
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  const line = options.quiet ? null : createProgressLine(process.stderr)
  try {
    const report = await runLoad(options, {
      signal: controller.signal,
      ...(line === null ? {} : { onProgress: line.update }),
    })
    line?.clear()
    process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report, options))
    return 0
  } finally {
    line?.clear()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

// `pnpm start -- URL ...` may pass the `--` through; parseArgs would read everything after it as positionals.
const args = process.argv.slice(2)
main(args[0] === '--' ? args.slice(1) : args).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    const usage = error instanceof UsageError
    const message = error instanceof Error ? error.message : String(error)
    process.stderr.write(`loadtest: ${message}\n`)
    process.exitCode = usage ? 2 : 1
  },
)
