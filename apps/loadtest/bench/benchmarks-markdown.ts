import type { ChartGroup } from './chart.js'
import { describeMachine } from './machine.js'
import type { Sample } from './measure-sample.js'
import { fmt, median, spread } from './numbers.js'
import { SERVER_LABEL } from './servers.js'
import { REPETITIONS } from './settings.js'
import { renderToolComparison, type ToolRow } from './tool-comparison.js'
import type { Workload } from './workloads.js'

// docs/benchmarks.md: how and where it was measured, one table per workload with every server's
// median and range and its ratio to nginx, then the extra sections and the tool comparison.

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
    '- The range workload sends one fixed `Range` (the load generator builds its request once): node:cluster + node:http and python serve no ranges and are left out.',
    "- POST runs use 4 connections, below ThreadServe's default `--max-posts 5` (more would measure 503s).",
    hasDav
      ? '- nginx has no POST upload: its POST rows are WebDAV `PUT /dav/bench.bin` (ngx_http_dav_module), which writes a temp file and renames it over the same name without fsync, so it does less work than a durable upload.'
      : '- nginx has no POST upload, and the installed nginx lacks the dav module, so there is no nginx row for POST.',
    '- ThreadServe runs with `--keep-alive` (off by default): only the keep-alive workload, whose client sends `Connection: keep-alive`, gets persistent connections; python closes every connection and is left out there.',
  ]
}

/** One workload's table, and its rows for the chart. */
function workloadSection(workload: Workload, samples: BenchmarkResults['samples']): [string[], ChartGroup] {
  const lines: string[] = []
  const nginx = samples.get(`${workload.id}/nginx`)
  const nginxRps = nginx === undefined ? null : median(nginx.map((s) => s.requestsPerSec))
  lines.push(`## ${workload.title}`, '')
  lines.push(
    '| server | req/s | vs nginx | p50 ms | p99 ms | CPU µs/req | peak RSS MiB | largest process MiB | errors | unexpected status |',
  )
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
  const rows: { label: string; rps: number; p99: number }[] = []
  for (const server of workload.servers) {
    const list = samples.get(`${workload.id}/${server}`) ?? []
    if (list.length === 0) continue
    const rps = list.map((s) => s.requestsPerSec)
    const ratio = nginxRps === null || nginxRps === 0 ? 'n/a' : `${fmt(median(rps) / nginxRps, 2)}x`
    lines.push(
      `| ${SERVER_LABEL[server]} | ${spread(rps)} | ${ratio} | ${spread(
        list.map((s) => s.p50Ms),
        2,
      )} | ${spread(
        list.map((s) => s.p99Ms),
        2,
      )} | ${spread(list.map((s) => s.cpuUsPerRequest))} | ${spread(list.map((s) => s.peakRssMiB))} | ${spread(
        list.map((s) => s.peakProcessRssMiB),
      )} | ${list.reduce((n, s) => n + s.errors, 0)} | ${list.reduce((n, s) => n + s.unexpectedStatus, 0)} |`,
    )
    rows.push({ label: SERVER_LABEL[server], rps: median(rps), p99: median(list.map((s) => s.p99Ms)) })
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
  if (results.tools.length > 0) lines.push(...renderToolComparison(results.tools))
  lines.push('', '![req/s and p99 per server](benchmarks.svg)', '')
  lines.push(`Total time: ${fmt((Date.now() - results.began) / 1000)} s.`, '')
  return { markdown: lines.join('\n'), chart }
}
