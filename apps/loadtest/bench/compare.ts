import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { Report } from '../src/report.js'
import { renderChart } from './chart.js'
import type { BenchKit } from './kit.js'
import { type LargeUploadResult, measureLargeUpload, renderLargeUpload } from './large-upload.js'
import { measureStartup, renderStartup, type StartupRow } from './startup.js'

// `pnpm bench:compare` (issue 5): ThreadServe against nginx, node:cluster + node:http and
// python's http.server on loopback, same workloads, same run, servers alternated and started
// fresh for every measurement; then start-up time and large uploads (issue 7, startup.ts and
// large-upload.ts); then ab vs autocannon vs loadtest on nginx. Writes docs/benchmarks.md and
// docs/benchmarks.svg. Every process it starts it stops by pid. BENCH_ONLY=extras runs only the
// start-up and large-upload measurements and prints their sections to stdout, leaving docs/ alone.

const execFileAsync = promisify(execFile)
const HERE = path.dirname(fileURLToPath(import.meta.url))
const REPO = path.resolve(HERE, '../../..')
const LOADTEST = path.join(HERE, '../dist/main.js')
const THREADSERVE = path.join(REPO, 'apps/server/dist/main.js')
const NODE_CLUSTER = path.join(HERE, 'baselines/node-cluster.js')
const AUTOCANNON = path.join(HERE, '../node_modules/autocannon/autocannon.js')
const REPETITIONS = Number(process.env.BENCH_REPETITIONS ?? 3)
const EXTRAS_ONLY = process.env.BENCH_ONLY === 'extras'
const MEASURE_SECONDS = Number(process.env.BENCH_SECONDS ?? 3)
const WARMUP = '1s'
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100
const PAGE_KIB = 4

type ServerId = 'threadserve' | 'threadserve-2w' | 'threadserve-kernel' | 'nginx' | 'node-cluster' | 'python'
const SERVER_LABEL: Record<ServerId, string> = {
  threadserve: 'ThreadServe (5 workers)',
  'threadserve-2w': 'ThreadServe (--workers 2)',
  'threadserve-kernel': 'ThreadServe (--workers 2 --balance kernel)',
  nginx: 'nginx (2 workers)',
  'node-cluster': 'node:cluster + node:http (2 workers)',
  python: 'python3 -m http.server',
}

interface Workload {
  readonly id: string
  readonly title: string
  readonly path: (server: ServerId) => string
  readonly args: readonly string[]
  readonly servers: readonly ServerId[]
}

interface Sample {
  readonly requestsPerSec: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly cpuUsPerRequest: number
  readonly peakRssMiB: number
  /** the largest RSS of any one process of the tree (for ThreadServe, a worker): issue 7's memory goal */
  readonly peakProcessRssMiB: number
  readonly requests: number
  readonly errors: number
  readonly non2xx: number
}

interface Running {
  readonly child: ChildProcess
  readonly port: number
  readonly pid: number
}

const started = new Set<ChildProcess>()

function log(text: string): void {
  process.stderr.write(`${text}\n`)
}

function has(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0
}

/** nginx and ab from Debian's packages when they are missing (root, or sudo without a password). */
function ensureTools(): void {
  const missing = [has('nginx') ? null : 'nginx', has('ab') ? null : 'apache2-utils'].filter((x) => x !== null)
  if (missing.length === 0) return
  const prefix = process.getuid?.() === 0 ? [] : ['sudo', '-n']
  const run = (args: string[]): void => {
    const [command = '', ...rest] = [...prefix, ...args]
    log(`$ ${[command, ...rest].join(' ')}`)
    const result = spawnSync(command, rest, {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      timeout: 300_000,
    })
    if (result.status !== 0) log(`(exit ${result.status}: continuing without ${missing.join(', ')})`)
  }
  run(['apt-get', 'update', '-qq'])
  run(['apt-get', 'install', '-y', '-qq', ...missing])
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with code ${child.exitCode}`)
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1')
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (ok) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`nothing listening on ${port} after ${timeoutMs} ms`)
}

function launch(command: string, args: readonly string[], cwd: string): ChildProcess {
  const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  started.add(child)
  child.on('exit', () => started.delete(child))
  child.stdout?.resume()
  child.stderr?.resume()
  return child
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  process.kill(child.pid, 'SIGTERM')
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL')
  }, 10_000)
  await exited
  clearTimeout(timer)
}

function nginxConfig(dir: string, root: string, port: number, uploads: string): string {
  return `daemon off;
worker_processes 2;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/nginx-body;
  proxy_temp_path ${dir}/nginx-proxy;
  fastcgi_temp_path ${dir}/nginx-fastcgi;
  uwsgi_temp_path ${dir}/nginx-uwsgi;
  scgi_temp_path ${dir}/nginx-scgi;
  server {
    listen 127.0.0.1:${port} backlog=4096;
    root ${root};
    location /dav/ {
      alias ${uploads}/;
      dav_methods PUT;
      client_max_body_size 8m;
    }
  }
}
`
}

async function startServer(
  id: ServerId,
  dir: string,
  root: string,
  uploads: string,
  extra: readonly string[] = [],
): Promise<Running> {
  if (id === 'threadserve' || id === 'threadserve-2w' || id === 'threadserve-kernel') {
    const args = [
      THREADSERVE,
      '--port',
      '0',
      '--root',
      root,
      '--upload-dir',
      uploads,
      '--log',
      path.join(dir, 'server.log'),
      // Only clients that ask get a persistent connection (-k runs); the rest close as before.
      '--keep-alive',
    ]
    if (id === 'threadserve-2w') args.push('--workers', '2')
    if (id === 'threadserve-kernel') args.push('--workers', '2', '--balance', 'kernel')
    args.push(...extra)
    const child = spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
    started.add(child)
    child.on('exit', () => started.delete(child))
    child.stderr?.resume()
    const port = await new Promise<number>((resolve, reject) => {
      let text = ''
      const timer = setTimeout(() => reject(new Error('ThreadServe did not print its port')), 15_000)
      child.stdout?.on('data', (chunk: Buffer) => {
        text += chunk.toString()
        const match = /listening on http:\/\/[^:]+:(\d+) \(/.exec(text)
        if (match !== null) {
          clearTimeout(timer)
          child.stdout?.resume()
          resolve(Number(match[1]))
        }
      })
      child.once('exit', (code) => reject(new Error(`ThreadServe exited with code ${code}`)))
    })
    return { child, port, pid: child.pid as number }
  }
  const port = await freePort()
  let child: ChildProcess
  if (id === 'nginx') {
    const conf = path.join(dir, 'nginx.conf')
    await writeFile(conf, nginxConfig(dir, root, port, uploads))
    child = launch('nginx', ['-c', conf, '-e', path.join(dir, 'nginx-error.log')], dir)
  } else if (id === 'node-cluster') {
    child = launch(
      process.execPath,
      [NODE_CLUSTER, '--port', String(port), '--root', root, '--upload-dir', uploads, '--workers', '2'],
      dir,
    )
  } else {
    child = launch('python3', ['-m', 'http.server', '--bind', '127.0.0.1', '--directory', root, String(port)], dir)
  }
  await waitForPort(port, child)
  return { child, port, pid: child.pid as number }
}

/** The pid and every descendant, from /proc. */
function processTree(rootPid: number): number[] {
  const children = new Map<number, number[]>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      const list = children.get(ppid) ?? []
      list.push(Number(entry))
      children.set(ppid, list)
    } catch {
      // the process ended while we looked
    }
  }
  const tree = [rootPid]
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i] as number) ?? []))
  return tree
}

/** utime+stime of the tree, plus cutime+cstime (children that exited and were reaped), in seconds. */
function treeCpuSeconds(rootPid: number): number {
  let ticks = 0
  for (const pid of processTree(rootPid)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      // fields[0] is field 3 (state); utime, stime, cutime, cstime are fields 14-17.
      for (let k = 11; k <= 14; k++) ticks += Number(fields[k])
    } catch {
      // ended
    }
  }
  return ticks / CLOCK_TICKS
}

/** Resident memory of a process tree: the sum, and the largest single process. */
function treeRssMiB(rootPid: number): { sum: number; largest: number } {
  let sum = 0
  let largest = 0
  for (const pid of processTree(rootPid)) {
    try {
      const pages = Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1])
      sum += pages
      largest = Math.max(largest, pages)
    } catch {
      // ended
    }
  }
  return { sum: (sum * PAGE_KIB) / 1024, largest: (largest * PAGE_KIB) / 1024 }
}

async function loadtest(url: string, args: readonly string[]): Promise<Report> {
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

/**
 * A run's directory and its fresh upload directory. nginx, started as root, serves and writes
 * as an unprivileged worker user: the files must be world-readable and the upload dir writable.
 */
async function makeRunDir(dir: string): Promise<string> {
  const uploads = path.join(dir, 'uploads')
  await mkdir(uploads, { recursive: true })
  await chmod(dir, 0o755)
  await chmod(uploads, 0o777)
  return uploads
}

async function measure(server: ServerId, workload: Workload, base: string, run: number): Promise<Sample> {
  const dir = path.join(base, `run-${run}-${server}-${workload.id}`)
  const uploads = await makeRunDir(dir)
  const running = await startServer(server, dir, path.join(base, 'root'), uploads)
  try {
    const url = `http://127.0.0.1:${running.port}${workload.path(server)}`
    await loadtest(url, [...workload.args, '-d', WARMUP])
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
    const report = await loadtest(url, [...workload.args, '-d', `${MEASURE_SECONDS}s`])
    const cpuAfter = treeCpuSeconds(running.pid)
    clearInterval(sampler)
    sampleRss()
    const ok = Object.entries(report.statusCounts)
      .filter(([status]) => status.startsWith('2'))
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
      non2xx: report.requests - ok,
    }
  } finally {
    await stop(running.child)
    await rm(dir, { recursive: true, force: true })
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

const fmt = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })

function spread(values: readonly number[], digits = 0): string {
  return `${fmt(median(values), digits)} (${fmt(Math.min(...values), digits)}-${fmt(Math.max(...values), digits)})`
}

function machineDescription(): string[] {
  const osName = /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os.type()
  const version = (cmd: string, args: string[]): string => {
    const result = spawnSync(cmd, args, { encoding: 'utf8' })
    return `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n')[0] ?? 'missing'
  }
  return [
    `- ${osName}, Linux ${os.release()}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, ${fmt(os.totalmem() / 1024 ** 3, 1)} GiB RAM (a shared VM: the load generator runs on the same cores)`,
    `- Node.js ${process.version}; ${version('nginx', ['-v'])}; ${version('python3', ['--version'])}; ${version('ab', ['-V'])}`,
    `- run ${new Date().toISOString()}, ${REPETITIONS} repetitions of ${MEASURE_SECONDS} s each after a ${WARMUP} warm-up, every server started fresh for every measurement`,
  ]
}

interface ToolRow {
  readonly tool: string
  readonly rates: number[]
}

async function compareTools(base: string): Promise<ToolRow[]> {
  const dir = path.join(base, 'tools')
  const uploads = await makeRunDir(dir)
  const running = await startServer('nginx', dir, path.join(base, 'root'), uploads)
  const url = `http://127.0.0.1:${running.port}/1k.bin`
  const rows: ToolRow[] = [
    { tool: 'ab -c 32 (1 process)', rates: [] },
    { tool: 'autocannon -c 32 -H Connection=close', rates: [] },
    { tool: 'loadtest -c 32 (1 process)', rates: [] },
    { tool: 'loadtest -c 32 -w 2 (2 processes)', rates: [] },
  ]
  const seconds = String(MEASURE_SECONDS)
  try {
    await loadtest(url, ['-c', '32', '-d', WARMUP])
    for (let rep = 0; rep < REPETITIONS; rep++) {
      const ab = await execFileAsync('ab', ['-q', '-c', '32', '-t', seconds, '-n', '100000000', url], {
        timeout: 60_000,
      })
      rows[0]?.rates.push(Number(/Requests per second:\s+([\d.]+)/.exec(ab.stdout)?.[1] ?? 0))
      const ac = await execFileAsync(
        process.execPath,
        [AUTOCANNON, '-c', '32', '-d', seconds, '-H', 'Connection=close', '--json', url],
        { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      )
      const acReport = JSON.parse(ac.stdout) as { requests: { total: number }; duration: number }
      rows[1]?.rates.push(acReport.requests.total / acReport.duration)
      rows[2]?.rates.push((await loadtest(url, ['-c', '32', '-d', `${seconds}s`])).requestsPerSec)
      rows[3]?.rates.push((await loadtest(url, ['-c', '32', '-w', '2', '-d', `${seconds}s`])).requestsPerSec)
      log(
        `  tools rep ${rep + 1}: ${rows.map((row) => `${row.tool.split(' ')[0]} ${fmt(row.rates.at(-1) ?? 0)}`).join(', ')}`,
      )
    }
  } finally {
    await stop(running.child)
  }
  return rows
}

async function main(): Promise<void> {
  const began = Date.now()
  if (process.env.BENCH_ONLY !== undefined && !EXTRAS_ONLY) throw new Error('BENCH_ONLY: only "extras" is known')
  ensureTools()
  for (const file of [LOADTEST, THREADSERVE]) {
    if (!existsSync(file)) throw new Error(`${path.relative(REPO, file)} is missing: run pnpm build first`)
  }
  const nginxBuild = spawnSync('nginx', ['-V'], { encoding: 'utf8' })
  const hasDav = `${nginxBuild.stdout}${nginxBuild.stderr}`.includes('http_dav_module')
  const hasPython = has('python3')
  const base = await mkdtemp(path.join(os.tmpdir(), 'threadserve-bench-'))
  await chmod(base, 0o755)
  await mkdir(path.join(base, 'root'), { mode: 0o755 })
  await writeFile(path.join(base, 'root', '1k.bin'), randomBytes(1024), { mode: 0o644 })
  await writeFile(path.join(base, 'root', '100k.bin'), randomBytes(100 * 1024), { mode: 0o644 })
  const getServers: ServerId[] = ['threadserve', 'threadserve-2w', 'threadserve-kernel', 'nginx', 'node-cluster']
  if (hasPython) getServers.push('python')
  const postServers: ServerId[] = ['threadserve', 'threadserve-2w', 'threadserve-kernel', 'node-cluster']
  if (hasDav) postServers.push('nginx')
  const uploadPath = (server: ServerId): string => (server === 'nginx' ? '/dav/bench.bin' : '/upload')
  const workloads: Workload[] = [
    {
      id: 'get1k',
      title: 'GET 1 KiB, one request per connection, 32 connections',
      path: () => '/1k.bin',
      args: ['-c', '32'],
      servers: getServers,
    },
    {
      id: 'get100k',
      title: 'GET 100 KiB, one request per connection, 32 connections',
      path: () => '/100k.bin',
      args: ['-c', '32'],
      servers: getServers,
    },
    {
      id: 'get1k-ka',
      title: 'GET 1 KiB, keep-alive, 32 connections',
      path: () => '/1k.bin',
      args: ['-c', '32', '-k'],
      servers: ['threadserve', 'threadserve-2w', 'threadserve-kernel', 'nginx', 'node-cluster'],
    },
    {
      id: 'post1k',
      title: 'POST 1 KiB (nginx: dav PUT), 4 connections',
      path: uploadPath,
      args: ['-c', '4', '-s', '1KiB'],
      servers: postServers,
    },
    {
      id: 'post1m',
      title: 'POST 1 MiB (nginx: dav PUT), 4 connections',
      path: uploadPath,
      args: ['-c', '4', '-s', '1MiB'],
      servers: postServers,
    },
  ]
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
          const extra = server === 'nginx' && workload.id.startsWith('post') ? ['-m', 'PUT'] : []
          const sample = await measure(server, { ...workload, args: [...workload.args, ...extra] }, base, run++)
          const key = `${workload.id}/${server}`
          samples.set(key, [...(samples.get(key) ?? []), sample])
          log(
            `rep ${rep + 1} ${workload.id.padEnd(8)} ${server.padEnd(15)} ${fmt(sample.requestsPerSec).padStart(7)} req/s  p99 ${fmt(sample.p99Ms, 2)} ms  cpu ${fmt(sample.cpuUsPerRequest)} µs/req  errors ${sample.errors}  non-2xx ${sample.non2xx}`,
          )
        }
      }
    }
    startup = await measureStartup(kit, base, path.join(base, 'root'))
    largeUpload = await measureLargeUpload(kit, base, path.join(base, 'root'))
    if (!EXTRAS_ONLY) tools = await compareTools(base)
  } finally {
    for (const child of started) await stop(child)
    await rm(base, { recursive: true, force: true })
  }

  const extras = [...renderStartup(kit, startup), ...renderLargeUpload(kit, largeUpload)]
  if (EXTRAS_ONLY) {
    process.stdout.write(`${['## Machine', '', ...machineDescription(), '', ...extras].join('\n')}\n`)
    log(`BENCH_ONLY=extras: printed only, docs/ left as they were (${fmt((Date.now() - began) / 1000)} s)`)
    return
  }
  const lines: string[] = []
  lines.push('# Benchmarks', '')
  lines.push(
    'Written by `pnpm bench:compare` (apps/loadtest/bench/compare.ts); the numbers below are from a real run. These',
    'machines have 2 cores shared with the load generator and vary by up to ±20% between runs: compare ratios, not',
    'absolutes (DESIGN.md, "How we measure").',
    '',
    '## Machine',
    '',
    ...machineDescription(),
    '',
    '## Method',
    '',
    '- Load: `loadtest` (this repo), one generator process, HTTP/1.0, one request per connection unless keep-alive.',
    `- Each cell: median of ${REPETITIONS} runs, min-max in brackets. Servers alternate within each repetition, each started fresh with a fresh upload directory.`,
    "- CPU µs/req: utime+stime of the server's whole process tree (from /proc, reaped children included) over the measured seconds, divided by the requests completed.",
    '- Peak RSS: the largest sum of resident memory over the tree, sampled every 200 ms; "largest process": the largest RSS of any one process in it (for ThreadServe a worker: issue 7 asks ≤ 64 MiB under the GET load).',
    "- vs nginx: the server's median req/s divided by nginx's in the same workload.",
    "- POST runs use 4 connections, below ThreadServe's default `--max-posts 5` (more would measure 503s).",
    hasDav
      ? '- nginx has no POST upload: its POST rows are WebDAV `PUT /dav/bench.bin` (ngx_http_dav_module), which writes a temp file and renames it over the same name without fsync, so it does less work than a durable upload.'
      : '- nginx has no POST upload, and the installed nginx lacks the dav module, so there is no nginx row for POST.',
    '- ThreadServe runs with `--keep-alive` (off by default): only the keep-alive workload, whose client sends `Connection: keep-alive`, gets persistent connections; python closes every connection and is left out there.',
    '',
  )
  const chartData: { workload: string; rows: { label: string; rps: number; p99: number }[] }[] = []
  for (const workload of workloads) {
    const nginx = samples.get(`${workload.id}/nginx`)
    const nginxRps = nginx === undefined ? null : median(nginx.map((s) => s.requestsPerSec))
    lines.push(`## ${workload.title}`, '')
    lines.push(
      '| server | req/s | vs nginx | p50 ms | p99 ms | CPU µs/req | peak RSS MiB | largest process MiB | errors | non-2xx |',
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
        )} | ${list.reduce((n, s) => n + s.errors, 0)} | ${list.reduce((n, s) => n + s.non2xx, 0)} |`,
      )
      rows.push({ label: SERVER_LABEL[server], rps: median(rps), p99: median(list.map((s) => s.p99Ms)) })
    }
    chartData.push({ workload: workload.title, rows })
    lines.push('')
  }
  lines.push(...extras)
  lines.push('## The load generator against ab and autocannon', '')
  lines.push(
    'Same nginx, GET 1 KiB, 32 connections, one request per connection (autocannon speaks HTTP/1.1, so it is told',
    "`Connection: close`), tools alternated. The instrument must not be the bottleneck: loadtest's goal is at least",
    "0.8x ab's rate and at least autocannon's.",
    '',
    '| tool | req/s | vs ab |',
    '| --- | ---: | ---: |',
  )
  const abRate = median(tools[0]?.rates ?? [0])
  for (const row of tools) {
    lines.push(
      `| ${row.tool} | ${spread(row.rates)} | ${abRate > 0 ? `${fmt(median(row.rates) / abRate, 2)}x` : 'n/a'} |`,
    )
  }
  lines.push('', '![req/s and p99 per server](benchmarks.svg)', '')
  lines.push(`Total time: ${fmt((Date.now() - began) / 1000)} s.`, '')
  const markdown = lines.join('\n')
  await mkdir(path.join(REPO, 'docs'), { recursive: true })
  await writeFile(path.join(REPO, 'docs/benchmarks.md'), markdown)
  await writeFile(path.join(REPO, 'docs/benchmarks.svg'), renderChart(chartData))
  process.stdout.write(`${markdown}\n`)
  log(`wrote docs/benchmarks.md and docs/benchmarks.svg in ${fmt((Date.now() - began) / 1000)} s`)
}

const onSignal = (): void => {
  for (const child of started)
    if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGTERM')
  process.exit(130)
}
process.once('SIGINT', onSignal)
process.once('SIGTERM', onSignal)

main().catch((error: unknown) => {
  log(`bench:compare: ${error instanceof Error ? error.message : String(error)}`)
  for (const child of started)
    if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGTERM')
  process.exitCode = 1
})
