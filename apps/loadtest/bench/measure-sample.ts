import { rm } from 'node:fs/promises'
import path from 'node:path'
import { stop } from './child-processes.js'
import { treeCpuSeconds, treeRssMiB } from './process-tree.js'
import { runLoadtest } from './run-loadtest.js'
import { makeRunDir, type ServerId, startServer } from './servers.js'
import { MEASURE_SECONDS, WARMUP } from './settings.js'
import type { Workload } from './workloads.js'

/** One measurement of one server under one workload. */
export interface Sample {
  readonly requestsPerSec: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly cpuUsPerRequest: number
  readonly peakRssMiB: number
  /** the largest RSS of any one process of the tree (for ThreadServe, a worker): the per-worker memory goal */
  readonly peakProcessRssMiB: number
  readonly requests: number
  readonly errors: number
  /** Responses with another status than the workload expects (any 2xx, or its `expectStatus`). */
  readonly unexpectedStatus: number
}

/**
 * Starts the server fresh in its own run directory, warms it up, then measures: loadtest's
 * report, the server tree's CPU time over the measured seconds, and its RSS sampled every 200 ms.
 * The server is stopped and the directory deleted whatever happens.
 */
export async function measureSample(server: ServerId, workload: Workload, base: string, run: number): Promise<Sample> {
  const dir = path.join(base, `run-${run}-${server}-${workload.id}`)
  const uploads = await makeRunDir(dir)
  const running = await startServer(server, dir, path.join(base, 'root'), uploads)
  try {
    const url = `http://127.0.0.1:${running.port}${workload.path(server)}`
    await runLoadtest(url, [...workload.args, '-d', WARMUP])
    let peakRss = 0
    let peakProcessRss = 0
    const sampleRss = (): void => {
      const rss = treeRssMiB(running.pid)
      peakRss = Math.max(peakRss, rss.sum)
      peakProcessRss = Math.max(peakProcessRss, rss.largest)
    }
    sampleRss()
    const sampler = setInterval(sampleRss, 200)
    const cpuBefore = treeCpuSeconds(running.pid)
    const report = await runLoadtest(url, [...workload.args, '-d', `${MEASURE_SECONDS}s`])
    const cpuAfter = treeCpuSeconds(running.pid)
    clearInterval(sampler)
    sampleRss()
    const expected = workload.expectStatus
    const ok = Object.entries(report.statusCounts)
      .filter(([status]) => (expected === undefined ? status.startsWith('2') : Number(status) === expected))
      .reduce((sum, [, n]) => sum + n, 0)
    return {
      requestsPerSec: report.requestsPerSec,
      p50Ms: report.latency.p50Ms,
      p99Ms: report.latency.p99Ms,
      cpuUsPerRequest: report.requests > 0 ? ((cpuAfter - cpuBefore) * 1e6) / report.requests : 0,
      peakRssMiB: peakRss,
      peakProcessRssMiB: peakProcessRss,
      requests: report.requests,
      errors: report.errors,
      unexpectedStatus: report.requests - ok,
    }
  } finally {
    await stop(running.child)
    await rm(dir, { recursive: true, force: true })
  }
}
