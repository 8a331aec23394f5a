import * as hdr from 'hdr-histogram-js'

/** Latencies in microseconds, 3 significant digits, resized as needed (1 µs to hours). */
export function createLatencyHistogram(): hdr.Histogram {
  return hdr.build({
    bitBucketSize: 32,
    autoResize: true,
    lowestDiscernibleValue: 1,
    numberOfSignificantValueDigits: 3,
  })
}

/** Compressed base64 (the HdrHistogram interchange format), to send a histogram over IPC. */
export function encodeHistogram(histogram: hdr.Histogram): string {
  return hdr.encodeIntoCompressedBase64(histogram)
}

/** Adds encoded histograms into one. */
export function mergeHistograms(encoded: readonly string[]): hdr.Histogram {
  const total = createLatencyHistogram()
  for (const text of encoded) total.add(hdr.decodeFromCompressedBase64(text, 32, false))
  return total
}

/** Latency percentiles in milliseconds (µs resolution); all zero for an empty histogram. */
export interface LatencySummary {
  readonly minMs: number
  readonly meanMs: number
  readonly stdevMs: number
  readonly p50Ms: number
  readonly p90Ms: number
  readonly p99Ms: number
  readonly p999Ms: number
  readonly maxMs: number
}

const toMs = (us: number): number => Math.round(us) / 1000

export function summarizeLatency(histogram: hdr.Histogram): LatencySummary {
  if (histogram.totalCount === 0) {
    return { minMs: 0, meanMs: 0, stdevMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0 }
  }
  return {
    minMs: toMs(histogram.minNonZeroValue),
    meanMs: toMs(histogram.mean),
    stdevMs: toMs(histogram.stdDeviation),
    p50Ms: toMs(histogram.getValueAtPercentile(50)),
    p90Ms: toMs(histogram.getValueAtPercentile(90)),
    p99Ms: toMs(histogram.getValueAtPercentile(99)),
    p999Ms: toMs(histogram.getValueAtPercentile(99.9)),
    maxMs: toMs(histogram.maxValue),
  }
}
