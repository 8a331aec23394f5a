import { execFile } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'
import { stop } from './child-processes.js'
import { log } from './log.js'
import { fmt, median, ratioTo, spread } from './numbers.js'
import { runLoadtest } from './run-loadtest.js'
import { makeRunDir, startServer } from './servers.js'
import { AUTOCANNON, MEASURE_SECONDS, REPETITIONS, WARMUP } from './settings.js'

// The instrument must not be the bottleneck: ab, autocannon and loadtest against the same nginx,
// alternated within each repetition, so a slow generator shows as a low rate beside the others.

const execFileAsync = promisify(execFile)

export interface ToolRow {
  readonly tool: string
  readonly rates: number[]
}

export async function compareTools(base: string): Promise<ToolRow[]> {
  const dir = path.join(base, 'tools')
  const uploads = await makeRunDir(dir)
  const running = await startServer('nginx', dir, path.join(base, 'root'), uploads)
  const url = `http://127.0.0.1:${running.port}/1k.bin`
  const seconds = String(MEASURE_SECONDS)
  const measureAb = async (): Promise<number> => {
    const ab = await execFileAsync('ab', ['-q', '-c', '32', '-t', seconds, '-n', '100000000', url], {
      timeout: 60_000,
    })
    return Number(/Requests per second:\s+([\d.]+)/.exec(ab.stdout)?.[1] ?? 0)
  }
  const measureAutocannon = async (): Promise<number> => {
    const ac = await execFileAsync(
      process.execPath,
      [AUTOCANNON, '-c', '32', '-d', seconds, '-H', 'Connection=close', '--json', url],
      { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
    )
    const report = JSON.parse(ac.stdout) as { requests: { total: number }; duration: number }
    return report.requests.total / report.duration
  }
  const measureLoadtest = async (args: readonly string[]): Promise<number> =>
    (await runLoadtest(url, [...args, '-d', `${seconds}s`])).requestsPerSec
  const tools: { row: ToolRow; measure: () => Promise<number> }[] = [
    { row: { tool: 'ab -c 32 (1 process)', rates: [] }, measure: measureAb },
    { row: { tool: 'autocannon -c 32 -H Connection=close', rates: [] }, measure: measureAutocannon },
    { row: { tool: 'loadtest -c 32 (1 process)', rates: [] }, measure: () => measureLoadtest(['-c', '32']) },
    {
      row: { tool: 'loadtest -c 32 -w 2 (2 processes)', rates: [] },
      measure: () => measureLoadtest(['-c', '32', '-w', '2']),
    },
  ]
  const rows = tools.map((tool) => tool.row)
  try {
    await runLoadtest(url, ['-c', '32', '-d', WARMUP])
    for (let rep = 0; rep < REPETITIONS; rep++) {
      // Each repetition starts with the next tool, so none always runs first or last.
      for (let k = 0; k < tools.length; k++) {
        const { row, measure } = tools[(rep + k) % tools.length] as (typeof tools)[number]
        row.rates.push(await measure())
      }
      log(
        `  tools rep ${rep + 1}: ${rows.map((row) => `${row.tool.split(' ')[0]} ${fmt(row.rates.at(-1) ?? 0)}`).join(', ')}`,
      )
    }
  } finally {
    await stop(running.child)
  }
  return rows
}

/** The report's section on the three load generators. */
export function renderToolComparison(tools: readonly ToolRow[]): string[] {
  const lines: string[] = []
  lines.push('## The load generator against ab and autocannon', '')
  lines.push(
    'Same nginx, GET 1 KiB, 32 connections, one request per connection (autocannon speaks HTTP/1.1, so it is told',
    "`Connection: close`), tools alternated. The instrument must not be the bottleneck: loadtest's goal is at least",
    "0.9x ab's rate and at least autocannon's.",
    '',
    '| tool | req/s | vs ab |',
    '| --- | ---: | ---: |',
  )
  const abRate = median(tools[0]?.rates ?? [0])
  for (const row of tools) {
    lines.push(`| ${row.tool} | ${spread(row.rates)} | ${ratioTo(median(row.rates), abRate)} |`)
  }
  return lines
}
