import { mkdir, rm, stat, writeFile } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { exchange } from '../test/helpers/raw-exchange.js'
import {
  makeTempDir,
  type NodeRun,
  runNode,
  SERVER_MAIN,
  startServer,
  waitFor,
} from '../test/helpers/server-process.js'
import { serverStats, waitForHealthy } from './helpers/reliability.js'

// Bad configuration and bad IPC (docs/reliability.md, promises 11 and 12): every invalid flag or
// environment value is one clear line on stderr and exit code 2 (never a stack trace, never a
// server that starts and misbehaves); a worker that sends malformed IPC messages is logged and
// does not crash the supervisor.

const BAD_IPC_PRELOAD = fileURLToPath(new URL('./fixtures/bad-ipc-preload.mjs', import.meta.url))
let dir = ''
let busyPort = 0
let busy: net.Server | undefined

beforeAll(async () => {
  dir = await makeTempDir('threadserve-config-')
  await mkdir(path.join(dir, 'root'))
  await writeFile(path.join(dir, 'a-file'), 'not a directory\n')
  busy = net.createServer()
  await new Promise<void>((resolve) => busy?.listen(0, '127.0.0.1', resolve))
  busyPort = (busy.address() as net.AddressInfo).port
})
afterAll(async () => {
  await new Promise<void>((resolve) => (busy ? busy.close(() => resolve()) : resolve()))
  await rm(dir, { recursive: true, force: true })
})

function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<NodeRun> {
  // A bad value must stop the server at once; one that starts anyway is stopped after 5 s.
  return runNode(SERVER_MAIN, args, { cwd: dir, env: { INIT_CWD: dir, ...env }, timeoutMs: 5000 })
}

// Every row must exit 2 with one line naming the flag (or env variable) at fault. Every bad value
// the loader alone can tell is a unit test (test/load-config.test.ts); here are the checks only a
// start-up can make (a busy port, a missing root, an address not of this machine), and a few of
// the loader's through the real command, flag and environment alike.
const BASE = ['--port', '0', '--root', 'root', '--log', 'server.log', '--workers', '1']
const BAD_CONFIG: { name: string; args?: string[]; env?: Record<string, string>; names: string }[] = [
  { name: 'port in use', args: ['--port', 'BUSY'], names: '--port' },
  { name: 'missing root', args: ['--root', 'nope'], names: '--root' },
  { name: 'root is a file', args: ['--root', 'a-file'], names: '--root' },
  { name: 'upload dir under a file', args: ['--upload-dir', 'a-file/uploads'], names: '--upload-dir' },
  { name: 'log in a missing directory', args: ['--log', 'missing/dir/server.log'], names: '--log' },
  { name: 'host that is not an address here', args: ['--host', '192.0.2.1'], names: '--host' },
  { name: 'port above 65535', args: ['--port', '65536'], names: '--port' },
  { name: 'unknown flag', args: ['--no-such-flag', '1'], names: 'no-such-flag' },
  { name: 'unknown size unit', args: ['--max-body', '10XB'], names: '--max-body' },
  { name: 'env: port not a number', env: { THREADSERVE_PORT: 'eighty' }, names: 'THREADSERVE_PORT' },
  { name: 'env: zero workers', env: { THREADSERVE_WORKERS: '0' }, names: 'THREADSERVE_WORKERS' },
]

test.each(BAD_CONFIG)('$name: one clear line naming $names, exit 2', async ({ args = [], env = {}, names }) => {
  const realArgs = args.map((a) => (a === 'BUSY' ? String(busyPort) : a))
  // Env rows run without the flag they test, so the environment value is the one read.
  const base = Object.keys(env).includes('THREADSERVE_PORT')
    ? BASE.slice(2)
    : Object.keys(env).includes('THREADSERVE_WORKERS')
      ? BASE.slice(0, -2)
      : BASE
  const result = await runCli([...base, ...realArgs], env)
  const lines = result.stderr.split('\n').filter((line) => line !== '')
  expect({ code: result.code, lines: lines.length }, result.stderr).toEqual({ code: 2, lines: 1 })
  expect(lines[0]).toMatch(/^threadserve: /)
  expect(lines[0]).toContain(names)
  expect(result.stderr).not.toMatch(/\n\s+at /)
  expect(result.stdout).not.toMatch(/listening on/)
})

test('a worker sending malformed IPC messages is logged and the supervisor keeps serving', async () => {
  const marker = path.join(dir, 'bad-ipc-sent')
  const server = await startServer({
    args: ['--workers', '2'],
    env: { NODE_OPTIONS: `--import ${BAD_IPC_PRELOAD}`, THREADSERVE_TEST_BAD_IPC_DONE: marker },
  })
  try {
    const before = await waitForHealthy(server, 2)
    await waitFor(() => stat(marker).then(() => true), 10_000, 'the bad worker to finish sending')
    await new Promise((resolve) => setTimeout(resolve, 500))
    const after = await serverStats(server)
    const complaints = server
      .stderr()
      .split('\n')
      .filter((line) => /bad IPC message|dropped a message/.test(line))
    const gets = await Promise.all(
      Array.from({ length: 20 }, () => exchange(server.port, 'GET /test.txt HTTP/1.0\r\n\r\n', { halfClose: true })),
    )
    const upload = await exchange(server.port, 'POST /upload HTTP/1.0\r\nContent-Length: 2\r\n\r\nok', {
      halfClose: true,
    })
    const longest = Math.max(
      0,
      ...server
        .stderr()
        .split('\n')
        .map((l) => l.length),
    )
    console.log(
      `[config-ipc] bad IPC: ${complaints.length} messages logged as bad (longest stderr line ${longest} chars); ` +
        `supervisor alive ${server.child.exitCode === null}; restarts ${after.restarts - before.restarts}; ` +
        `permits in use ${after.permitsInUse}; GETs ${gets.filter((g) => g.status === 200).length}/20; upload ${upload.status}`,
    )
    expect(server.child.exitCode).toBeNull()
    expect(complaints.length).toBeGreaterThanOrEqual(20)
    expect(after.workers.map((w) => w.pid)).toEqual(before.workers.map((w) => w.pid))
    expect(after.permitsInUse).toBe(0)
    expect(gets.every((g) => g.status === 200)).toBe(true)
    expect(upload.status).toBe(201)
    expect(longest).toBeLessThan(2000) // a 100 KB field is not echoed into the log whole
  } finally {
    await server.stop()
  }
})
