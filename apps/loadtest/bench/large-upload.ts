import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, rm } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { promisify } from 'node:util'
import { type BenchKit, childPids, MiB, memoryMiB, sleep } from './kit.js'

// Large uploads. (a) The disk's own fsync'd write rate: dd writes 64 MiB with
// conv=fsync into a fresh directory of the same file system as the upload dirs. (b) ThreadServe
// stores a 64 MiB POST /upload (fsync + link + directory fsync) for one client: time from
// connect to the 201, and its ratio to dd's rate. (c) A 1 GiB upload to one worker: the worker's
// RSS sampled every 100 ms, peak minus the value right before. The client streams 1 MiB writes
// from a preallocated buffer and never holds a whole body of its own. Two baselines: the worker
// cold, and after one 4 MiB warm-up upload: a worker's first upload also pages in code of the node
// binary it had not run yet (sha256, file writes) and starts libuv's thread pool, ~5 MiB once;
// the warm baseline leaves what the size of an upload costs.

const execFileAsync = promisify(execFile)
const UPLOAD_BYTES = 64 * MiB
const BIG_BYTES = 1024 * MiB
const WARM_UP_BYTES = 4 * MiB
const SAMPLE_MS = 100
export const RATIO_GOAL = 0.7
export const RSS_GOAL_MIB = 16

type UploadServer = 'threadserve' | 'threadserve-2w'

const LABEL: Record<UploadServer, string> = {
  threadserve: 'ThreadServe (5 workers)',
  'threadserve-2w': 'ThreadServe (--workers 2)',
}

export interface UploadRow {
  readonly server: UploadServer
  readonly label: string
  readonly mibPerSec: number[]
  /** connect -> the last body byte handed to the kernel */
  readonly sendMs: number[]
  /** last body byte handed to the kernel -> the 201 */
  readonly tailMs: number[]
}

export interface MemorySample {
  readonly mibPerSec: number
  /** the worker's RSS after start-up, before any upload */
  readonly coldMiB: number
  /** ... and after a WARM_UP_BYTES upload: the baseline of the growth */
  readonly baselineMiB: number
  readonly peakMiB: number
  /** VmHWM after the upload minus VmRSS before: an upper bound (the HWM may predate the upload) */
  readonly hwmGrowthMiB: number
  readonly supervisorGrowthMiB: number
  readonly samples: number
}

export interface LargeUploadResult {
  readonly ddMiBPerSec: number[]
  readonly uploads: UploadRow[]
  readonly memory: MemorySample[]
}

interface Posted {
  readonly totalMs: number
  readonly sendMs: number
  readonly status: number
  readonly body: string
}

function drained(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('drain', done).off('close', done)
      resolve()
    }
    socket.on('drain', done).on('close', done)
  })
}

/** POST /upload of `total` bytes, written as 1 MiB slices of `source` (cycled). */
function postUpload(port: number, total: number, source: Buffer): Promise<Posted> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    const socket = net.connect({ port, host: '127.0.0.1' })
    let sendMs = Number.NaN
    let firstByteMs = Number.NaN
    let response = ''
    const settle = (): void => {
      const status = Number(/^HTTP\/1\.\d (\d{3}) /.exec(response)?.[1] ?? 0)
      if (status === 0) {
        reject(new Error(`no HTTP response to the upload: ${JSON.stringify(response.slice(0, 80))}`))
        return
      }
      const body = response.slice(response.indexOf('\r\n\r\n') + 4)
      resolve({ totalMs: firstByteMs, sendMs, status, body })
    }
    socket.on('data', (chunk: Buffer) => {
      if (Number.isNaN(firstByteMs)) firstByteMs = performance.now() - t0
      response += chunk.toString('latin1')
    })
    socket.once('end', () => socket.destroy())
    socket.once('close', settle)
    socket.on('error', () => {}) // an early answer (413, 503) may reset our writes: 'close' follows
    socket.once('connect', async () => {
      socket.write(
        `POST /upload HTTP/1.0\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${total}\r\n\r\n`,
      )
      let sent = 0
      while (sent < total && !socket.destroyed) {
        const offset = sent % source.length
        const length = Math.min(MiB, total - sent, source.length - offset)
        const slice = source.subarray(offset, offset + length)
        sent += length
        const last = sent === total
        const ok = socket.write(slice, () => {
          if (last) sendMs = performance.now() - t0
        })
        if (!ok && !last) await drained(socket)
      }
    })
  })
}

function checkStored(posted: Posted, size: number, sha256: string | null): void {
  if (posted.status !== 201) throw new Error(`upload answered ${posted.status}: ${posted.body.slice(0, 200)}`)
  const stored = JSON.parse(posted.body) as { size: number; sha256: string }
  if (stored.size !== size || (sha256 !== null && stored.sha256 !== sha256)) {
    throw new Error(`upload stored ${stored.size} bytes (sha256 ${stored.sha256}), sent ${size}`)
  }
}

async function ddRate(dir: string): Promise<number> {
  await mkdir(dir, { recursive: true })
  try {
    const file = path.join(dir, 'dd.bin')
    const { stderr } = await execFileAsync('dd', ['if=/dev/zero', `of=${file}`, 'bs=1M', 'count=64', 'conv=fsync'], {
      env: { ...process.env, LC_ALL: 'C' },
      timeout: 120_000,
    })
    // "67108864 bytes (67 MB, 64 MiB) copied, 0.0479712 s, 1.4 GB/s": dd's own clock, fsync included.
    const match = /^(\d+) bytes .* copied, ([\d.e+-]+) s/m.exec(stderr)
    if (match === null) throw new Error(`cannot read dd's report: ${stderr}`)
    return Number(match[1]) / MiB / Number(match[2])
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

async function upload64(
  kit: BenchKit,
  server: UploadServer,
  dir: string,
  root: string,
  body: Buffer,
  sha256: string,
): Promise<Posted> {
  const uploads = await kit.makeRunDir(dir)
  const running = await kit.startServer(server, dir, root, uploads)
  try {
    const posted = await postUpload(running.port, UPLOAD_BYTES, body)
    checkStored(posted, UPLOAD_BYTES, sha256)
    return posted
  } finally {
    await kit.stop(running.child)
    await rm(dir, { recursive: true, force: true })
  }
}

async function uploadMemory(kit: BenchKit, dir: string, root: string): Promise<MemorySample> {
  const uploads = await kit.makeRunDir(dir)
  const running = await kit.startServer('threadserve', dir, root, uploads, ['--workers', '1', '--max-body', '2GiB'])
  try {
    const workers = childPids(running.pid)
    const worker = workers[0]
    if (workers.length !== 1 || worker === undefined) throw new Error(`expected one worker, found ${workers.length}`)
    const supervisorBefore = memoryMiB(running.pid).rss
    const cold = memoryMiB(worker).rss
    checkStored(await postUpload(running.port, WARM_UP_BYTES, randomBytes(MiB)), WARM_UP_BYTES, null)
    await sleep(200)
    const baseline = memoryMiB(worker).rss
    let peak = baseline
    let samples = 0
    const sample = (): void => {
      peak = Math.max(peak, memoryMiB(worker).rss)
      samples++
    }
    const sampler = setInterval(sample, SAMPLE_MS)
    let posted: Posted
    try {
      posted = await postUpload(running.port, BIG_BYTES, randomBytes(MiB))
    } finally {
      clearInterval(sampler)
    }
    sample()
    checkStored(posted, BIG_BYTES, null)
    const after = memoryMiB(worker)
    return {
      mibPerSec: BIG_BYTES / MiB / (posted.totalMs / 1000),
      coldMiB: cold,
      baselineMiB: baseline,
      peakMiB: peak,
      hwmGrowthMiB: after.hwm - baseline,
      supervisorGrowthMiB: memoryMiB(running.pid).hwm - supervisorBefore,
      samples,
    }
  } finally {
    await kit.stop(running.child)
    await rm(dir, { recursive: true, force: true })
  }
}

/** R repetitions of: dd and the two ThreadServe uploads (order rotated), then the 1 GiB memory run. */
export async function measureLargeUpload(kit: BenchKit, base: string, root: string): Promise<LargeUploadResult> {
  const body = randomBytes(UPLOAD_BYTES)
  const sha256 = createHash('sha256').update(body).digest('hex')
  const uploads: UploadRow[] = (['threadserve', 'threadserve-2w'] as const).map((server) => ({
    server,
    label: LABEL[server],
    mibPerSec: [],
    sendMs: [],
    tailMs: [],
  }))
  const ddMiBPerSec: number[] = []
  const memory: MemorySample[] = []
  for (let rep = 0; rep < kit.repetitions; rep++) {
    const order: (UploadRow | 'dd')[] = ['dd', ...uploads]
    for (let k = 0; k < rep; k++) order.push(order.shift() as UploadRow | 'dd')
    for (const item of order) {
      await sleep(200)
      if (item === 'dd') {
        ddMiBPerSec.push(await ddRate(path.join(base, `dd-${rep}`)))
        kit.log(`rep ${rep + 1} dd 64 MiB conv=fsync  ${kit.fmt(ddMiBPerSec.at(-1) ?? 0)} MiB/s`)
        continue
      }
      const posted = await upload64(
        kit,
        item.server,
        path.join(base, `upload-${rep}-${item.server}`),
        root,
        body,
        sha256,
      )
      item.mibPerSec.push(UPLOAD_BYTES / MiB / (posted.totalMs / 1000))
      item.sendMs.push(posted.sendMs)
      item.tailMs.push(posted.totalMs - posted.sendMs)
      kit.log(
        `rep ${rep + 1} post64m  ${item.server.padEnd(15)} ${kit.fmt(item.mibPerSec.at(-1) ?? 0)} MiB/s  ${kit.fmt(posted.totalMs, 1)} ms (last byte sent at ${kit.fmt(posted.sendMs, 1)} ms)`,
      )
    }
    await sleep(200)
    const sample = await uploadMemory(kit, path.join(base, `upload-1g-${rep}`), root)
    memory.push(sample)
    kit.log(
      `rep ${rep + 1} post1g   threadserve-1w  ${kit.fmt(sample.mibPerSec)} MiB/s  worker RSS ${kit.fmt(sample.coldMiB, 1)} cold, ${kit.fmt(sample.baselineMiB, 1)} warm -> peak ${kit.fmt(sample.peakMiB, 1)} MiB (${sample.samples} samples; VmHWM +${kit.fmt(sample.hwmGrowthMiB, 1)}; supervisor VmHWM +${kit.fmt(sample.supervisorGrowthMiB, 1)})`,
    )
  }
  return { ddMiBPerSec, uploads, memory }
}

export function renderLargeUpload(kit: BenchKit, result: LargeUploadResult): string[] {
  const dd = kit.median(result.ddMiBPerSec)
  const lines = [
    '## Large upload and memory',
    '',
    `Goals: a 64 MiB POST stored at ≥ ${RATIO_GOAL}x the disk's own fsync'd write rate, measured with dd in`,
    `the same run; a 1 GiB upload raises the worker's RSS by ≤ ${RSS_GOAL_MIB} MiB. dd writes zeros`,
    '(`bs=1M count=64 conv=fsync`, its own clock) into a fresh directory on the file system of the upload directories;',
    'ThreadServe, started fresh with a fresh upload directory, gets one `POST /upload` of random bytes from one',
    'HTTP/1.0 client writing 1 MiB at a time, timed from connect to the 201 (after fsync, link and directory fsync).',
    `dd and the servers alternate; median of ${kit.repetitions} runs, min-max in brackets.`,
    '',
    '| writer, 64 MiB | MiB/s | vs dd | connect → last byte sent, ms | last byte sent → 201, ms | goal |',
    '| --- | ---: | ---: | ---: | ---: | --- |',
    `| dd conv=fsync | ${kit.spread(result.ddMiBPerSec)} | 1.00x | | | |`,
  ]
  for (const row of result.uploads) {
    const ratio = dd > 0 ? kit.median(row.mibPerSec) / dd : 0
    const goal = `≥ ${RATIO_GOAL}x: ${ratio >= RATIO_GOAL ? 'met' : 'missed'}`
    lines.push(
      `| ${row.label} | ${kit.spread(row.mibPerSec)} | ${kit.fmt(ratio, 2)}x | ${kit.spread(row.sendMs, 1)} | ${kit.spread(row.tailMs, 1)} | ${goal} |`,
    )
  }
  const growth = result.memory.map((m) => m.peakMiB - m.baselineMiB)
  const coldGrowth = result.memory.map((m) => m.peakMiB - m.coldMiB)
  const worst = Math.max(...growth)
  const memory = (pick: (m: MemorySample) => number): string => kit.spread(result.memory.map(pick), 1)
  lines.push(
    '',
    `1 GiB upload, ThreadServe \`--workers 1 --max-body 2GiB\`, the client cycling one 1 MiB buffer: the worker's VmRSS`,
    `(/proc) after start-up ("cold"), after one ${WARM_UP_BYTES / MiB} MiB warm-up upload ("before"), and every ${SAMPLE_MS} ms until the`,
    "201. A worker's first upload pages in code of the node binary it had not run yet and starts libuv's thread pool",
    '(a few MiB, once): "growth" is peak minus "before", what the size of the upload costs; peak minus cold is shown',
    'too. VmHWM bounds the peak from above (it covers the whole life). Goal judged on the largest growth of any run.',
    '',
    '| server | MiB/s | worker RSS cold, MiB | before, MiB | peak, MiB | growth, MiB | peak − cold, MiB | VmHWM − before, MiB | goal |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    `| ThreadServe (--workers 1) | ${kit.spread(result.memory.map((m) => m.mibPerSec))} | ${memory((m) => m.coldMiB)} | ${memory(
      (m) => m.baselineMiB,
    )} | ${memory((m) => m.peakMiB)} | ${kit.spread(growth, 1)} | ${kit.spread(coldGrowth, 1)} | ${memory(
      (m) => m.hwmGrowthMiB,
    )} | ≤ ${RSS_GOAL_MIB} MiB: ${worst <= RSS_GOAL_MIB ? 'met' : 'missed'} |`,
    '',
  )
  return lines
}
