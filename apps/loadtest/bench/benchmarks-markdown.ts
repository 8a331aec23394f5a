import type { ChartGroup } from './chart.js'
import { describeMachine } from './machine.js'
import type { Sample } from './measure-sample.js'
import { fmt, median, ratioTo, spread } from './numbers.js'
import { SERVER_LABEL } from './servers.js'
import { REPETITIONS } from './settings.js'
import { renderToolComparison, type ToolRow } from './tool-comparison.js'
import type { Workload } from './workloads.js'

// docs/benchmarks.md: how and where it was measured, one table per workload with every server's
// median and range and its ratio to nginx (and to bare Node where it takes part), then the extra
// sections and the tool comparison.

export interface BenchmarkResults {
  readonly workloads: readonly Workload[]
  /** Samples by `${workload.id}/${server}`, one per repetition. */
  readonly samples: ReadonlyMap<string, readonly Sample[]>
  readonly hasDav: boolean
  /** Sections rendered elsewhere (start-up, large uploads), placed after the workload tables. */
  readonly extras: readonly string[]
  readonly tools: readonly ToolRow[]
  /** `Date.now()` when the run began, for the total time. */
  readonly began: number
}

function methodLines(hasDav: boolean): string[] {
  return [
    '- Load: `loadtest` (this repo), one generator process, HTTP/1.0, one request per connection unless keep-alive.',
    `- Each cell: median of ${REPETITIONS} runs, min-max in brackets. Servers alternate within each repetition, each started fresh with a fresh upload directory.`,
    "- CPU µs/req: utime+stime of the server's whole process tree (from /proc, reaped children included) over the measured seconds, divided by the requests completed.",
    '- Peak RSS: the largest sum of resident memory over the tree, sampled every 200 ms; "largest process": the largest RSS of any one process in it (for ThreadServe a worker: the goal is ≤ 64 MiB under the GET load).',
    "- vs nginx: the server's median req/s divided by nginx's in the same workload.",
    '- errors: requests without a complete response; unexpected status: responses with another status than the workload asks for (any 2xx; 206 for the range workload, so a server that ignored Range would show here).',
    '- The range workload sends one fixed `Range` (the load generator builds its request once): node:cluster + node:http, bare Node and python serve no ranges and are left out.',
    "- bare Node (`apps/loadtest/bench/baselines/bare-node.js`, one-request-per-connection GETs only): two processes accepting on one port (node:cluster SCHED_NONE), a hand parser that takes the path from the request line, the root's files read into memory at start, HTTP/1.0 with Date, Content-Length, Content-Type and `Connection: close`; no log, no limits, no freshness check. It is what a Node server pays per connection through net.Socket with nothing else to do: vs bare Node is what ThreadServe's features (hand-off, freshness check, log, limits) cost above that floor.",
    "- POST runs use 4 connections, below ThreadServe's default `--max-posts 5` (more would measure 503s).",
    hasDav
      ? '- nginx has no POST upload: its POST rows are WebDAV `PUT /dav/bench.bin` (ngx_http_dav_module), which writes a temp file and renames it over the same name without fsync, so it does less work than a durable upload.'
      : '- nginx has no POST upload, and the installed nginx lacks the dav module, so there is no nginx row for POST.',
    '- ThreadServe runs with `--keep-alive` (off by default): only the keep-alive workload, whose client sends `Connection: keep-alive`, gets persistent connections; python closes every connection and is left out there.',
  ]
}

function medianRate(samples: BenchmarkResults['samples'], key: string): number | null {
  const list = samples.get(key)
  return list === undefined || list.length === 0 ? null : median(list.map((s) => s.requestsPerSec))
}

const tableRow = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`

/** One workload's table, and its rows for the chart. */
function workloadSection(workload: Workload, samples: BenchmarkResults['samples']): [string[], ChartGroup] {
  const nginxRps = medianRate(samples, `${workload.id}/nginx`)
  const bareRps = medianRate(samples, `${workload.id}/bare-node`)
  const ratioNames = bareRps === null ? ['vs nginx'] : ['vs nginx', 'vs bare Node']
  const head = ['server', 'req/s', ...ratioNames, 'p50 ms', 'p99 ms', 'CPU µs/req', 'peak RSS MiB']
  head.push('largest process MiB', 'errors', 'unexpected status')
  const lines = [`## ${workload.title}`, '', tableRow(head), tableRow(head.map((_, i) => (i === 0 ? '---' : '---:')))]
  const rows: { label: string; rps: number; p99: number }[] = []
  for (const server of workload.servers) {
    const list = samples.get(`${workload.id}/${server}`) ?? []
    if (list.length === 0) continue
    const column = (pick: (sample: Sample) => number, digits = 0): string => spread(list.map(pick), digits)
    const total = (pick: (sample: Sample) => number): string => String(list.reduce((n, s) => n + pick(s), 0))
    const rps = median(list.map((s) => s.requestsPerSec))
    const cells = [SERVER_LABEL[server], column((s) => s.requestsPerSec), ratioTo(rps, nginxRps)]
    if (bareRps !== null) cells.push(ratioTo(rps, bareRps))
    cells.push(
      column((s) => s.p50Ms, 2),
      column((s) => s.p99Ms, 2),
      column((s) => s.cpuUsPerRequest),
    )
    cells.push(
      column((s) => s.peakRssMiB),
      column((s) => s.peakProcessRssMiB),
    )
    cells.push(
      total((s) => s.errors),
      total((s) => s.unexpectedStatus),
    )
    lines.push(tableRow(cells))
    rows.push({ label: SERVER_LABEL[server], rps, p99: median(list.map((s) => s.p99Ms)) })
  }
  lines.push('')
  return [lines, { workload: workload.title, rows }]
}

/** The whole Markdown page, and the data of the chart it links to. */
export function renderBenchmarks(results: BenchmarkResults): { markdown: string; chart: ChartGroup[] } {
  const lines: string[] = []
  lines.push('# Benchmarks', '')
  lines.push(
    'Written by `pnpm bench:compare` (apps/loadtest/bench/compare.ts); the numbers below are from a real run. These',
    'machines have 2 cores shared with the load generator and vary by up to ±20% between runs: compare ratios, not',
    'absolutes.',
    '',
    '## Machine',
    '',
    ...describeMachine(),
    '',
    '## Method',
    '',
    ...methodLines(results.hasDav),
    '',
  )
  const chart: ChartGroup[] = []
  for (const workload of results.workloads) {
    const [section, group] = workloadSection(workload, results.samples)
    lines.push(...section)
    chart.push(group)
  }
  lines.push(...results.extras)
  if (results.tools.length > 0) lines.push(...renderToolComparison(results.tools), '')
  lines.push('![req/s and p99 per server](benchmarks.svg)', '')
  lines.push(`Total time: ${fmt((Date.now() - results.began) / 1000)} s.`, '')
  return { markdown: lines.join('\n'), chart }
}
