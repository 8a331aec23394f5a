import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import type { Report } from '../src/report.js'
import { LOADTEST } from './settings.js'

const execFileAsync = promisify(execFile)

/**
 * One run of the built loadtest CLI in its own process, its JSON report parsed: the generator
 * never shares a process (or its event loop) with the benchmark's own bookkeeping.
 */
export async function runLoadtest(url: string, args: readonly string[]): Promise<Report> {
  const { stdout } = await execFileAsync(
    process.execPath,
    [LOADTEST, url, '--json', '--quiet', '--timeout', '5s', ...args],
    {
      timeout: 120_000,
      maxBuffer: 16 * 1024 * 1024,
    },
  )
  return JSON.parse(stdout) as Report
}
