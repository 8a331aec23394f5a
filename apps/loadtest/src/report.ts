import { CHECK_KINDS, ERROR_KINDS } from './errors.js'
import { encodeHistogram, type LatencySummary, mergeHistograms, summarizeLatency } from './histogram.js'
import type { EngineResult } from './measurement.js'
import type { LoadOptions } from './options.js'
import { VERSION } from './version.js'

/** An engine's result as it travels over IPC: the histogram in its compressed base64 form. */
export interface PartialResult extends Omit<EngineResult, 'histogram'> {
  readonly histogram: string
}

/** The report `--json` prints; see the README for every field. */
export interface Report {
  readonly tool: string
  readonly url: string
  readonly method: string
  readonly mode: 'closed' | 'open'
  readonly keepAlive: boolean
  readonly connections: number
  readonly workers: number
  readonly rate: number | null
  readonly durationMs: number
  readonly requests: number
  readonly errors: number
  readonly requestsPerSec: number
  readonly bytesReceived: number
  readonly bytesSent: number
  readonly bytesReceivedPerSec: number
  readonly connectionsOpened: number
  readonly latency: LatencySummary
  readonly statusCounts: Readonly<Record<string, number>>
  readonly errorCounts: Readonly<Record<string, number>>
  readonly checkFailures: Readonly<Record<string, number>>
  /** The merged latency histogram (µs), HdrHistogram compressed base64, for further merging. */
  readonly histogram: string
}

export function toPartialResult(result: EngineResult): PartialResult {
  return { ...result, histogram: encodeHistogram(result.histogram) }
}

function addCounts(total: Record<string, number>, counts: Readonly<Record<string, number>>): void {
  for (const [key, count] of Object.entries(counts)) total[key] = (total[key] ?? 0) + count
}

/** Merges the parts of one run (one per generator worker) into its report. */
export function createReport(options: LoadOptions, parts: readonly PartialResult[]): Report {
  const histogram = mergeHistograms(parts.map((part) => part.histogram))
  const statusCounts: Record<string, number> = {}
  const errorCounts: Record<string, number> = Object.fromEntries(ERROR_KINDS.map((kind) => [kind, 0]))
  const checkFailures: Record<string, number> = Object.fromEntries(CHECK_KINDS.map((kind) => [kind, 0]))
  let durationMs = 0
  let requests = 0
  let errors = 0
  let bytesReceived = 0
  let bytesSent = 0
  let connectionsOpened = 0
  for (const part of parts) {
    durationMs = Math.max(durationMs, part.elapsedMs)
    requests += part.completed
    errors += part.errors
    bytesReceived += part.bytesReceived
    bytesSent += part.bytesSent
    connectionsOpened += part.connectionsOpened
    addCounts(statusCounts, part.statusCounts)
    addCounts(errorCounts, part.errorCounts)
    addCounts(checkFailures, part.checkFailures)
  }
  const seconds = durationMs / 1000
  return {
    tool: `loadtest/${VERSION}`,
    url: options.url,
    method: options.method,
    mode: options.rate === null ? 'closed' : 'open',
    keepAlive: options.keepAlive,
    connections: options.connections,
    workers: options.workers,
    rate: options.rate,
    durationMs: Math.round(durationMs * 1000) / 1000,
    requests,
    errors,
    requestsPerSec: seconds > 0 ? Math.round((requests / seconds) * 10) / 10 : 0,
    bytesReceived,
    bytesSent,
    bytesReceivedPerSec: seconds > 0 ? Math.round(bytesReceived / seconds) : 0,
    connectionsOpened,
    latency: summarizeLatency(histogram),
    statusCounts,
    errorCounts,
    checkFailures,
    histogram: encodeHistogram(histogram),
  }
}

const formatCount = (n: number): string => Math.round(n).toLocaleString('en-US')

function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GiB`
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(2)} MiB`
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`
  return `${bytes} B`
}

function formatCounts(counts: Readonly<Record<string, number>>): string {
  const parts = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([key, n]) => `${key}: ${formatCount(n)}`)
  return parts.length === 0 ? 'none' : parts.join(', ')
}

/** The human-readable report. */
export function formatReport(report: Report, options: LoadOptions): string {
  const mode =
    report.mode === 'open'
      ? `open loop at ${formatCount(report.rate ?? 0)} req/s (latency from the due time)`
      : 'closed loop'
  const reuse = report.keepAlive ? 'keep-alive' : 'one request per connection'
  const l = report.latency
  const lines = [
    `${report.tool}: ${report.method} ${report.url}`,
    `  ${report.connections} connections, ${report.workers} worker${report.workers === 1 ? '' : 's'}, ${mode}, ${reuse}`,
    `  requests   ${formatCount(report.requests)} in ${(report.durationMs / 1000).toFixed(2)} s: ${formatCount(report.requestsPerSec)} req/s`,
    `  bytes      ${formatBytes(report.bytesReceived)} received (${formatBytes(report.bytesReceivedPerSec)}/s), ${formatBytes(report.bytesSent)} sent, ${formatCount(report.connectionsOpened)} connections opened`,
    `  latency    p50 ${l.p50Ms} ms, p90 ${l.p90Ms} ms, p99 ${l.p99Ms} ms, p99.9 ${l.p999Ms} ms, max ${l.maxMs} ms (min ${l.minMs}, mean ${l.meanMs})`,
    `  status     ${formatCounts(report.statusCounts)}`,
    `  errors     ${formatCounts(report.errorCounts)}`,
  ]
  if (options.expectStatus !== null || options.checkLength || options.expectSha256 !== null) {
    lines.push(`  checks     failed: ${formatCounts(report.checkFailures)}`)
  }
  return `${lines.join('\n')}\n`
}
