import { spawn } from 'node:child_process'
import { readdir, readFile, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, test } from 'vitest'
import { exchange, openExchange, type RawExchange } from './helpers/raw-exchange.js'
import {
  makeTempDir,
  type NodeRun,
  type RunningServer,
  runNode,
  SERVER_MAIN,
  startServer,
  waitFor,
} from './helpers/server-process.js'

// The supervisor's job: restarts, permits, signals, pid file, start-up errors. Real processes.

const servers: RunningServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()))
})

async function start(args: string[] = []): Promise<RunningServer> {
  const server = await startServer({ args })
  servers.push(server)
  return server
}

/** Pids of live processes whose environment holds THREADSERVE_TEST_MARK=`marker`. */
async function processesMarked(marker: string): Promise<number[]> {
  const found: number[] = []
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const environ = await readFile(`/proc/${entry}/environ`, 'latin1').catch(() => '')
    if (environ.split('\0').includes(`THREADSERVE_TEST_MARK=${marker}`)) found.push(Number(entry))
  }
  return found
}

function runCli(args: string[], cwd?: string): Promise<NodeRun> {
  return runNode(SERVER_MAIN, args, cwd === undefined ? {} : { cwd })
}

/** An upload that sends its head and part of its body, then waits for `finish()`. */
async function openUpload(
  port: number,
  body: Buffer,
  sentBytes: number,
): Promise<{ reply: Promise<RawExchange>; finish: () => void }> {
  const upload = openExchange(port)
  expect(await upload.connected).toBe(true)
  await upload.write(`POST /upload HTTP/1.0\r\nContent-Length: ${body.length}\r\n\r\n`)
  await upload.write(body.subarray(0, sentBytes))
  return { reply: upload.result, finish: () => upload.end(body.subarray(sentBytes)) }
}

async function stats(
  server: RunningServer,
): Promise<{ permitsInUse: number; restarts: number; workers: { id: number; pid: number; ready: boolean }[] }> {
  const before = server.stdout().length
  process.kill(server.pid, 'SIGUSR2')
  const line = await waitFor(
    () => {
      const text = server.stdout().slice(before)
      return text.includes('\n') ? text.slice(0, text.indexOf('\n')) : undefined
    },
    3000,
    'stats line',
  )
  return JSON.parse(line)
}

describe('workers', () => {
  test('a worker killed with SIGKILL mid-upload is replaced, its permit returned, and serving goes on', async () => {
    const server = await start(['--max-posts', '1'])
    const upload = await openUpload(server.port, Buffer.alloc(10_000, 1), 100)
    await waitFor(async () => ((await stats(server)).permitsInUse === 1 ? true : undefined), 10_000, 'permit taken')
    const before = await server.workerPids()
    // The upload holds the only permit: kill whichever worker holds it (both, to be sure).
    for (const pid of before) process.kill(pid, 'SIGKILL')
    expect((await upload.reply).status).toBe(0) // the connection died with its worker
    const after = await waitFor(
      async () => {
        const pids = await server.workerPids()
        return pids.length === 2 && pids.every((pid) => !before.includes(pid)) ? pids : undefined
      },
      10_000,
      'workers replaced',
    )
    expect(after).toHaveLength(2)
    await waitFor(async () => ((await stats(server)).permitsInUse === 0 ? true : undefined), 10_000, 'permit returned')
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => fetch(`${server.url}/test.txt`, { signal: AbortSignal.timeout(10_000) })),
    )
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200))
    const upload2 = await fetch(`${server.url}/upload`, {
      method: 'POST',
      body: 'after the crash',
      signal: AbortSignal.timeout(10_000),
    })
    expect(upload2.status).toBe(201)
    const names = await readdir(path.join(server.root, 'uploads'))
    expect(names.filter((n) => n.startsWith('.'))).toEqual([]) // the killed upload left no temp file
    expect(server.stderr()).toMatch(/was killed by SIGKILL/)
  })

  test('a killed worker under GET load leaves every other request served', async () => {
    const server = await start(['--workers', '3'])
    const [victim] = await server.workerPids()
    const statuses: (number | string)[] = []
    const load = (async () => {
      for (let i = 0; i < 150; i++) {
        try {
          const response = await fetch(`${server.url}/test.txt`, { signal: AbortSignal.timeout(10_000) })
          statuses.push(response.status)
        } catch (error) {
          // In flight on the killed worker: a reset, never a hang (a hang would be a TimeoutError).
          statuses.push((error as Error).name === 'TimeoutError' ? 'hang' : 'reset')
        }
      }
    })()
    await new Promise((r) => setTimeout(r, 50))
    process.kill(victim as number, 'SIGKILL')
    await load
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(147)
    expect(statuses.filter((s) => s !== 200 && s !== 'reset')).toEqual([])
  })
})

describe('signals', () => {
  test('SIGTERM lets an in-flight upload finish, then exits 0', async () => {
    const server = await start()
    const body = Buffer.alloc(50_000, 7)
    const upload = await openUpload(server.port, body, 1000)
    await waitFor(async () => ((await stats(server)).permitsInUse === 1 ? true : undefined))
    process.kill(server.pid, 'SIGTERM')
    await new Promise((r) => setTimeout(r, 200))
    upload.finish()
    expect((await upload.reply).status).toBe(201)
    expect(await server.exited).toBe(0)
    const stored = (await readdir(path.join(server.root, 'uploads'))).filter((n) => !n.startsWith('.'))
    expect(stored).toHaveLength(1)
    const log = await readFile(server.logPath, 'utf8')
    expect(log).toMatch(/"POST \/upload HTTP\/1\.0" 201/)
  })

  test('SIGHUP reopens the log (rotation) and replaces the workers without refusing connections', async () => {
    const server = await start()
    expect((await exchange(server.port, 'GET /test.txt HTTP/1.0\r\n\r\n')).status).toBe(200)
    await waitFor(async () => ((await readFile(server.logPath, 'utf8')).includes('GET /test.txt') ? true : undefined))
    const before = await server.workerPids()
    await rename(server.logPath, `${server.logPath}.1`)
    process.kill(server.pid, 'SIGHUP')
    const statuses: number[] = []
    for (let i = 0; i < 40; i++) statuses.push((await exchange(server.port, 'GET /rotated HTTP/1.0\r\n\r\n')).status)
    expect(statuses).toEqual(Array(40).fill(404))
    await waitFor(async () => {
      const pids = await server.workerPids()
      return pids.length === 2 && pids.every((pid) => !before.includes(pid)) ? true : undefined
    })
    const fresh = await waitFor(async () => {
      const text = await readFile(server.logPath, 'utf8').catch(() => '')
      return text.includes('GET /rotated') ? text : undefined
    })
    expect(fresh).not.toContain('GET /test.txt')
    expect(await readFile(`${server.logPath}.1`, 'utf8')).toContain('GET /test.txt')
  })
})

describe('start-up', () => {
  test('a second server on the same pid file fails at once with exit code 2', async () => {
    const dir = await makeTempDir()
    try {
      const pidFile = path.join(dir, 'server.pid')
      const first = await start(['--pid-file', pidFile])
      expect((await readFile(pidFile, 'utf8')).trim()).toBe(String(first.pid))
      const second = await runCli(['--port', '0', '--root', first.root, '--log', '-', '--pid-file', pidFile])
      expect(second.code).toBe(2)
      expect(second.stderr.trim().split('\n')).toHaveLength(1)
      expect(second.stderr).toMatch(/pid-file/)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  test('a port in use is one line and exit code 2', async () => {
    const server = await start()
    const result = await runCli(['--port', String(server.port), '--root', server.root, '--log', '-'])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/^threadserve: --port: 127\.0\.0\.1:\d+ is already in use\n$/)
  })

  // main.ts forks the first worker before it reads its settings: when the supervisor then stops
  // with a usage error, that worker (still loading, or waiting for its settings) must leave too.
  test.each([[['--port', '70000']], [['--root', '/no/such/dir']], [['--port', 'in-use']]])(
    '%j leaves no worker process behind',
    async (args) => {
      const marker = `threadserve-test-${process.pid}-${Math.random().toString(36).slice(2)}`
      const inUse = args[1] === 'in-use' ? await start() : null
      const argv = inUse === null ? args : ['--port', String(inUse.port), '--root', inUse.root]
      // Until 'close': the streams stay open while any process holding them (a worker) lives, so
      // this also sees a worker's last words.
      const child = spawn(process.execPath, [SERVER_MAIN, '--log', '-', ...argv], {
        env: { ...process.env, THREADSERVE_TEST_MARK: marker },
        stdio: ['ignore', 'ignore', 'pipe'],
      })
      let stderr = ''
      child.stderr.on('data', (text) => {
        stderr += text
      })
      const closed = new Promise((resolve) => child.once('close', resolve))
      const code = await Promise.race([closed, sleep(5000).then(() => 'still running after 5 s')])
      const left = await processesMarked(marker)
      // A failure must not leave processes behind: ours, stopped by pid.
      if (typeof code !== 'number') child.kill('SIGKILL')
      for (const pid of left) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // gone meanwhile
        }
      }
      expect(code, stderr).toBe(2)
      expect(stderr.trim().split('\n'), stderr).toHaveLength(1)
      expect(left).toEqual([])
    },
  )

  test('the worker forked at launch becomes worker 1: every worker process is one the pool knows', async () => {
    const server = await start(['--workers', '3'])
    const { workers } = await stats(server)
    expect(workers.map((worker) => worker.ready)).toEqual([true, true, true])
    const children = await server.workerPids()
    expect([...children].sort()).toEqual(workers.map((worker) => worker.pid).sort())
    const forkedEarly: number[] = []
    for (const pid of children) {
      const environ = await readFile(`/proc/${pid}/environ`, 'latin1')
      if (environ.split('\0').includes('THREADSERVE_WORKER_PREFORKED=1')) forkedEarly.push(pid)
    }
    expect(forkedEarly).toEqual(workers.filter((worker) => worker.id === 1).map((worker) => worker.pid))
    expect((await exchange(server.port, 'GET /test.txt HTTP/1.0\r\n\r\n')).status).toBe(200)
  })

  // The same at every moment of the worker's start: a parent that forks it as main.ts does, then
  // exits after 0-300 ms, catches it loading, waiting, or asking. Asking a parent that has gone
  // fails with EPIPE, which the worker must treat as "leave", not report on stderr.
  test('an early worker whose supervisor exits at any moment of its start leaves silently', async () => {
    const workerMain = path.join(path.dirname(SERVER_MAIN), 'worker-main.js')
    for (let delayMs = 0; delayMs <= 300; delayMs += 12) {
      const parent = [
        "const { fork } = require('node:child_process')",
        `fork(${JSON.stringify(workerMain)}, [], { env: { ...process.env, THREADSERVE_WORKER_ID: '1', THREADSERVE_WORKER_PREFORKED: '1' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })`,
        `setTimeout(() => process.exit(2), ${delayMs})`,
      ].join('\n')
      const child = spawn(process.execPath, ['-e', parent], { stdio: ['ignore', 'pipe', 'pipe'] })
      let output = ''
      child.stdout.on('data', (text) => {
        output += text
      })
      child.stderr.on('data', (text) => {
        output += text
      })
      const closed = new Promise((resolve) => child.once('close', resolve))
      const code = await Promise.race([closed, sleep(5000).then(() => 'still open after 5 s')])
      if (typeof code !== 'number') child.kill('SIGKILL')
      expect({ delayMs, code, output }).toEqual({ delayMs, code: 2, output: '' })
    }
  }, 60_000)

  test.each([
    [['--port', '70000'], /--port/],
    [['--workers', 'many'], /--workers/],
    [['--max-body', '12 parsecs'], /--max-body/],
    [['--header-timeout', 'soon'], /--header-timeout/],
    [['--log-format', 'xml'], /--log-format/],
    [['--root', '/no/such/dir'], /--root: \/no\/such\/dir does not exist/],
    [['--nope'], /nope/],
  ])('%j is one clear line and exit code 2', async (args, pattern) => {
    const result = await runCli(['--port', '0', '--log', '-', ...args])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(pattern)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
  })

  test('a leading -- (as pnpm passes it) is ignored', async () => {
    const result = await runCli(['--', '--version'])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^\d+\.\d+\.\d+\n$/)
  })

  test('--help answers on stdout with exit code 0 and the settings, without starting a server', async () => {
    const result = await runCli(['--help'])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('--max-posts')
    expect(result.stdout).toContain('THREADSERVE_MAX_POSTS')
    expect(result.stdout).not.toMatch(/listening on/)
  })
})
