import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { renderBenchmarks } from './benchmarks-markdown.js'
import { renderChart } from './chart.js'
import { launch, stop, stopAll, terminateAll } from './child-processes.js'
import type { BenchKit } from './kit.js'
import { type LargeUploadResult, measureLargeUpload, renderLargeUpload } from './large-upload.js'
import { log } from './log.js'
import { describeMachine, ensureTools, has } from './machine.js'
import { measureSample, type Sample } from './measure-sample.js'
import { fmt, median, spread } from './numbers.js'
import { freePort, makeRunDir, nginxConfig, type ServerId, startServer } from './servers.js'
import { EXTRAS_ONLY, LOADTEST, REPETITIONS, REPO, THREADSERVE } from './settings.js'
import { measureStartup, renderStartup, type StartupRow } from './startup.js'
import { compareTools, type ToolRow } from './tool-comparison.js'
import { argsFor, createWorkloads } from './workloads.js'

// `pnpm bench:compare`: ThreadServe against nginx, node:cluster + node:http, the bare Node
// baseline and python's http.server on loopback, same workloads, same run, servers alternated and
// started fresh for every measurement; then start-up time and large uploads (startup.ts and
// large-upload.ts); then ab vs autocannon vs loadtest on nginx. Writes docs/benchmarks.md and
// docs/benchmarks.svg. Every process it starts it stops by pid. BENCH_ONLY=extras runs only the
// start-up and large-upload measurements, `--only get1k,tools` only the workloads and the tool
// comparison it names; both print their sections to stdout and leave docs/ alone.

const TOOLS = 'tools'

/** `--only ID[,ID...]`: workload ids and `tools`; null when absent (the whole run). */
function parseOnly(argv: readonly string[], workloadIds: readonly string[]): Set<string> | null {
  const { values } = parseArgs({ args: [...argv], options: { only: { type: 'string' } }, strict: true })
  if (values.only === undefined) return null
  const known = [...workloadIds, TOOLS]
  const only = new Set(values.only.split(',').map((id) => id.trim()))
  for (const id of only) {
    if (!known.includes(id)) throw new Error(`--only: unknown "${id}"; known: ${known.join(', ')}`)
  }
  if (EXTRAS_ONLY) throw new Error('--only and BENCH_ONLY=extras: give one or the other')
  return only
}

async function main(): Promise<void> {
  const began = Date.now()
  if (process.env.BENCH_ONLY !== undefined && !EXTRAS_ONLY) throw new Error('BENCH_ONLY: only "extras" is known')
  const hasPython = has('python3')
  ensureTools()
  for (const file of [LOADTEST, THREADSERVE]) {
    if (!existsSync(file)) throw new Error(`${path.relative(REPO, file)} is missing: run pnpm build first`)
  }
  const nginxBuild = spawnSync('nginx', ['-V'], { encoding: 'utf8' })
  const hasDav = `${nginxBuild.stdout}${nginxBuild.stderr}`.includes('http_dav_module')
  const allWorkloads = createWorkloads({ hasPython, hasDav })
  const only = parseOnly(
    process.argv.slice(2),
    allWorkloads.map((workload) => workload.id),
  )
  const workloads = only === null ? allWorkloads : allWorkloads.filter((workload) => only.has(workload.id))
  const base = await mkdtemp(path.join(os.tmpdir(), 'threadserve-bench-'))
  await chmod(base, 0o755)
  await mkdir(path.join(base, 'root'), { mode: 0o755 })
  await writeFile(path.join(base, 'root', '1k.bin'), randomBytes(1024), { mode: 0o644 })
  await writeFile(path.join(base, 'root', '100k.bin'), randomBytes(100 * 1024), { mode: 0o644 })
  const samples = new Map<string, Sample[]>()
  let run = 0
  let tools: ToolRow[] = []
  let startup: StartupRow[] = []
  let largeUpload: LargeUploadResult | null = null
  const kit: BenchKit = {
    repetitions: REPETITIONS,
    threadserve: THREADSERVE,
    hasNginx: has('nginx'),
    launch,
    stop,
    startServer,
    makeRunDir,
    freePort,
    nginxConfig,
    median,
    spread,
    fmt,
    log,
  }
  try {
    for (let rep = 0; rep < (EXTRAS_ONLY ? 0 : REPETITIONS); rep++) {
      for (const workload of workloads) {
        // Alternate the order between repetitions so no server always runs first (or last).
        const order = [...workload.servers]
        for (let k = 0; k < rep; k++) order.push(order.shift() as ServerId)
        for (const server of order) {
          const sample = await measureSample(server, { ...workload, args: argsFor(workload, server) }, base, run++)
          const key = `${workload.id}/${server}`
          samples.set(key, [...(samples.get(key) ?? []), sample])
          log(
            `rep ${rep + 1} ${workload.id.padEnd(8)} ${server.padEnd(15)} ${fmt(sample.requestsPerSec).padStart(7)} req/s  p99 ${fmt(sample.p99Ms, 2)} ms  cpu ${fmt(sample.cpuUsPerRequest)} µs/req  errors ${sample.errors}  unexpected status ${sample.unexpectedStatus}`,
          )
        }
      }
    }
    if (only === null) {
      startup = await measureStartup(kit, base, path.join(base, 'root'))
      largeUpload = await measureLargeUpload(kit, base, path.join(base, 'root'))
    }
    if (only === null ? !EXTRAS_ONLY : only.has(TOOLS)) tools = await compareTools(base)
  } finally {
    await stopAll()
    await rm(base, { recursive: true, force: true })
  }

  if (only !== null) {
    const { markdown } = renderBenchmarks({ workloads, samples, hasDav, extras: [], tools, began })
    process.stdout.write(`${markdown}\n`)
    log(`--only ${[...only].join(',')}: printed only, docs/ left as they were (${fmt((Date.now() - began) / 1000)} s)`)
    return
  }
  const extras = largeUpload === null ? [] : [...renderStartup(kit, startup), ...renderLargeUpload(kit, largeUpload)]
  if (EXTRAS_ONLY) {
    process.stdout.write(`${['## Machine', '', ...describeMachine(), '', ...extras].join('\n')}\n`)
    log(`BENCH_ONLY=extras: printed only, docs/ left as they were (${fmt((Date.now() - began) / 1000)} s)`)
    return
  }
  const { markdown, chart } = renderBenchmarks({ workloads, samples, hasDav, extras, tools, began })
  await mkdir(path.join(REPO, 'docs'), { recursive: true })
  await writeFile(path.join(REPO, 'docs/benchmarks.md'), markdown)
  await writeFile(path.join(REPO, 'docs/benchmarks.svg'), renderChart(chart))
  process.stdout.write(`${markdown}\n`)
  log(`wrote docs/benchmarks.md and docs/benchmarks.svg in ${fmt((Date.now() - began) / 1000)} s`)
}

const onSignal = (): void => {
  terminateAll()
  process.exit(130)
}
process.once('SIGINT', onSignal)
process.once('SIGTERM', onSignal)

main().catch((error: unknown) => {
  log(`bench:compare: ${error instanceof Error ? error.message : String(error)}`)
  terminateAll()
  process.exitCode = 1
})
