import type { Histogram } from 'hdr-histogram-js'
import { CHECK_KINDS, ERROR_KINDS } from './errors.js'
import { createLatencyHistogram } from './histogram.js'

/** What one engine measured; `histogram` holds latencies in microseconds. */
export interface EngineResult {
  readonly elapsedMs: number
  readonly completed: number
  readonly errors: number
  readonly bytesReceived: number
  readonly bytesSent: number
  readonly connectionsOpened: number
  readonly statusCounts: Readonly<Record<string, number>>
  readonly errorCounts: Readonly<Record<string, number>>
  readonly checkFailures: Readonly<Record<string, number>>
  readonly histogram: Histogram
}

/** Statuses are counted by index below this; a larger one is counted as status 0. */
export const MAX_STATUS = 600

export function bump(counts: Float64Array, index: number): void {
  counts[index] = (counts[index] as number) + 1
}

/**
 * Everything an engine counts, in one record: warm-up forgets it with one `reset()`. Counts by
 * status and kind live in typed arrays indexed by number, so a response bumps a slot rather than
 * a string-keyed property; `result()` names them once, at the end.
 */
export class Measurement {
  readonly histogram: Histogram = createLatencyHistogram()
  readonly statusCounts = new Float64Array(MAX_STATUS)
  readonly errorCounts = new Float64Array(ERROR_KINDS.length)
  readonly checkCounts = new Float64Array(CHECK_KINDS.length)
  completed = 0
  errors = 0
  bytesReceived = 0
  bytesSent = 0
  connectionsOpened = 0

  reset(): void {
    this.histogram.reset()
    this.statusCounts.fill(0)
    this.errorCounts.fill(0)
    this.checkCounts.fill(0)
    this.completed = 0
    this.errors = 0
    this.bytesReceived = 0
    this.bytesSent = 0
    this.connectionsOpened = 0
  }

  result(elapsedMs: number): EngineResult {
    return {
      elapsedMs,
      completed: this.completed,
      errors: this.errors,
      bytesReceived: this.bytesReceived,
      bytesSent: this.bytesSent,
      connectionsOpened: this.connectionsOpened,
      statusCounts: countsByStatus(this.statusCounts),
      errorCounts: countsByName(ERROR_KINDS, this.errorCounts),
      checkFailures: countsByName(CHECK_KINDS, this.checkCounts),
      histogram: this.histogram,
    }
  }
}

function countsByStatus(counts: Float64Array): Record<string, number> {
  const result: Record<string, number> = {}
  for (let status = 0; status < counts.length; status++) {
    const count = counts[status] as number
    if (count > 0) result[String(status)] = count
  }
  return result
}

function countsByName(names: readonly string[], counts: Float64Array): Record<string, number> {
  const result: Record<string, number> = {}
  names.forEach((name, i) => {
    result[name] = counts[i] as number
  })
  return result
}
