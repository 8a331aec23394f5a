import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readdir, readFile, rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { exchange } from './helpers/raw-exchange.js'
import {
  childPids,
  makeTempDir,
  type NodeRun,
  type RunningServer,
  runNode,
  SERVER_MAIN,
  startServer,
  waitFor,
} from './helpers/server-process.js'

// `--upload-auth` (HTTP Basic, RFC 7617; RFC 1945 §11) guards POST and the upload page,
// `--auth-all` every request. A 401 comes before the body is read and before a permit is taken.

const HASH_PASSWORD = fileURLToPath(new URL('../dist/hash-password.js', import.meta.url))
const CHALLENGE = 'Basic realm="ThreadServe", charset="UTF-8"'
const tempDirs: string[] = []
afterAll(async () => {
  for (const dir of tempDirs) await rm(dir, { recursive: true, force: true })
})

async function tempDir(): Promise<string> {
  const dir = await makeTempDir('threadserve-auth-')
  tempDirs.push(dir)
  return dir
}

const basic = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`

function run(file: string, args: string[], input = ''): Promise<NodeRun> {
  return runNode(file, args, { input })
}

interface WorkerInputs {
  readonly pid: number
  /** The clear password is in the worker's environment or command line. */
  readonly holdsPassword: boolean
  /** The worker got its settings in the environment (THREADSERVE_WORKER_CONFIG). */
  readonly hasSettings: boolean
  /** Those settings carry an scrypt hash. */
  readonly settingsHaveHash: boolean
}

/**
 * What each worker of `supervisorPid` was given at start: environment and command line, from
 * /proc. Worker 1 is forked before the settings are read (src/main.ts) and gets the same settings
 * text over IPC, so it may have no settings in its environment.
 */
async function workerInputs(supervisorPid: number, password: string): Promise<WorkerInputs[]> {
  const inputs: WorkerInputs[] = []
  for (const pid of await childPids(supervisorPid)) {
    const environ = await readFile(`/proc/${pid}/environ`, 'latin1')
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'latin1')
    const hasSettings = environ.includes('THREADSERVE_WORKER_CONFIG=')
    inputs.push({
      pid,
      holdsPassword: environ.includes(password) || cmdline.includes(password),
      hasSettings,
      settingsHaveHash: hasSettings && environ.includes('$scrypt$'),
    })
  }
  return inputs
}

describe('--upload-auth user:password', () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startServer({ args: ['--upload-auth', 'alice:s3cr3t:with-colon', '--max-posts', '1'] })
  })
  afterAll(async () => {
    await server?.stop()
  })

  test('a POST without credentials is 401 with the Basic challenge', async () => {
    const response = await fetch(`${server.url}/upload`, { method: 'POST', body: 'x' })
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toBe(CHALLENGE)
  })

  test.each([
    { name: 'a wrong password', header: basic('alice', 'wrong') },
    { name: 'an unknown user', header: basic('mallory', 's3cr3t:with-colon') },
    { name: 'the password as user', header: basic('s3cr3t', 'alice') },
    { name: 'another scheme', header: 'Bearer abc' },
    { name: 'broken base64', header: 'Basic !!!' },
    { name: 'no colon', header: `Basic ${Buffer.from('alice').toString('base64')}` },
  ])('$name is 401', async ({ header }) => {
    const response = await fetch(`${server.url}/upload`, {
      method: 'POST',
      body: 'x',
      headers: { Authorization: header },
    })
    expect(response.status).toBe(401)
  })

  test('the right credentials store raw and multipart uploads', async () => {
    const headers = { Authorization: basic('alice', 's3cr3t:with-colon') }
    const raw = await fetch(`${server.url}/upload`, { method: 'POST', body: 'raw', headers })
    expect(raw.status).toBe(201)
    const form = new FormData()
    form.append('f', new Blob(['form']), 'f.txt')
    const multipart = await fetch(`${server.url}/upload`, { method: 'POST', body: form, headers })
    expect(multipart.status).toBe(201)
    // The scheme name is case-insensitive (RFC 7617 §2, RFC 9110 §11.1).
    const lower = await fetch(`${server.url}/upload`, {
      method: 'POST',
      body: 'x',
      headers: { Authorization: basic('alice', 's3cr3t:with-colon').replace('Basic', 'bAsIc') },
    })
    expect(lower.status).toBe(201)
  })

  test('a 401 is sent before the body is read', async () => {
    // The head announces 10 MB and not one body byte is sent: the answer must come anyway.
    // A server that waited for the body would answer 408 at the body timeout (30 s), after our
    // own deadline: either way not a 401.
    const response = await exchange(server.port, 'POST /upload HTTP/1.0\r\nContent-Length: 10000000\r\n\r\n')
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toBe(CHALLENGE)
  })

  test('a 401 takes no permit: with the only permit held, it is still 401, not 503', async () => {
    const auth = basic('alice', 's3cr3t:with-colon')
    const socket = net.connect(server.port, '127.0.0.1')
    const closed = new Promise((resolve) => socket.on('close', resolve))
    socket.on('data', () => {})
    await new Promise((resolve) => socket.once('connect', resolve))
    socket.write(`POST /upload HTTP/1.0\r\nAuthorization: ${auth}\r\nContent-Length: 100000\r\n\r\n`)
    socket.write(randomBytes(10_000))
    const dir = path.join(server.root, 'uploads')
    await waitFor(async () => ((await readdir(dir)).some((n) => n.startsWith('.upload-')) ? true : undefined))
    const busy = await fetch(`${server.url}/upload`, { method: 'POST', body: 'x', headers: { Authorization: auth } })
    expect(busy.status).toBe(503)
    const anonymous = await fetch(`${server.url}/upload`, { method: 'POST', body: 'x' })
    expect(anonymous.status).toBe(401)
    socket.end(randomBytes(90_000))
    await closed
  })

  test('GET of files stays open; the upload page needs the credentials', async () => {
    expect((await fetch(`${server.url}/test.txt`)).status).toBe(200)
    const page = await fetch(`${server.url}/upload`)
    expect(page.status).toBe(401)
    expect(page.headers.get('www-authenticate')).toBe(CHALLENGE)
    const authorized = await fetch(`${server.url}/upload`, {
      headers: { Authorization: basic('alice', 's3cr3t:with-colon') },
    })
    expect(authorized.status).toBe(200)
    expect(authorized.headers.get('content-type')).toBe('text/html; charset=utf-8')
  })

  test('the password appears nowhere in what the workers were given', async () => {
    const workers = await workerInputs(server.pid, 's3cr3t')
    expect(workers.length).toBeGreaterThan(1)
    expect(workers.filter((worker) => worker.holdsPassword)).toEqual([])
    expect(workers.filter((worker) => worker.hasSettings && !worker.settingsHaveHash)).toEqual([])
    expect(workers.some((worker) => worker.hasSettings)).toBe(true)
  })
})

describe('THREADSERVE_UPLOAD_AUTH=user:password', () => {
  test('works like the flag, and the clear password never reaches the workers', async () => {
    const server = await startServer({ env: { THREADSERVE_UPLOAD_AUTH: 'eve:env-s3cr3t' } })
    try {
      const denied = await fetch(`${server.url}/upload`, { method: 'POST', body: 'x' })
      expect(denied.status).toBe(401)
      const stored = await fetch(`${server.url}/upload`, {
        method: 'POST',
        body: 'x',
        headers: { Authorization: basic('eve', 'env-s3cr3t') },
      })
      expect(stored.status).toBe(201)
      const workers = await workerInputs(server.pid, 'env-s3cr3t')
      expect(workers.length).toBeGreaterThan(1)
      expect(workers.filter((worker) => worker.holdsPassword)).toEqual([])
      expect(workers.filter((worker) => worker.hasSettings && !worker.settingsHaveHash)).toEqual([])
      expect(workers.some((worker) => worker.hasSettings)).toBe(true)
    } finally {
      await server.stop()
    }
  })
})

describe('--upload-auth <file> --auth-all', () => {
  let server: RunningServer
  beforeAll(async () => {
    const dir = await tempDir()
    const bob = await run(HASH_PASSWORD, ['bob'], 'correct horse\n')
    const carol = await run(HASH_PASSWORD, ['carol'], 'ünïcode pässword\n')
    expect(bob.code).toBe(0)
    expect(bob.stdout).toMatch(/^bob:\$scrypt\$ln=14,r=8,p=1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+\n$/)
    const file = path.join(dir, 'users')
    await writeFile(file, `# ThreadServe users\n\n${bob.stdout}${carol.stdout}`)
    server = await startServer({ args: ['--upload-auth', file, '--auth-all'] })
  })
  afterAll(async () => {
    await server?.stop()
  })

  test('GET and HEAD need credentials too', async () => {
    expect((await fetch(`${server.url}/test.txt`)).status).toBe(401)
    expect((await fetch(`${server.url}/test.txt`, { method: 'HEAD' })).status).toBe(401)
    const response = await fetch(`${server.url}/test.txt`, {
      headers: { Authorization: basic('bob', 'correct horse') },
    })
    expect(response.status).toBe(200)
    expect(await response.text()).toBe('hello from the test root\n')
  })

  test('every user of the file is accepted with its own password only', async () => {
    const get = (user: string, password: string) =>
      fetch(`${server.url}/test.txt`, { headers: { Authorization: basic(user, password) } }).then((r) => r.status)
    expect(await get('carol', 'ünïcode pässword')).toBe(200)
    expect(await get('carol', 'correct horse')).toBe(401)
    expect(await get('bob', 'ünïcode pässword')).toBe(401)
  })

  test('a traversal attempt is answered 401 first, never with the file', async () => {
    const response = await exchange(server.port, 'GET /../../etc/passwd HTTP/1.0\r\n\r\n')
    expect([401, 404]).toContain(response.status)
    expect(response.raw.toString('latin1')).not.toContain('root:')
  })
})

test('a flood of wrong passwords does not keep accepted credentials from being served', async () => {
  // One slot and no queue. A wrong password costs an scrypt check (tens of ms); accepted
  // credentials are remembered and cost none. If a request held the slot while its check ran,
  // the accepted ones would find it taken and get 503.
  const server = await startServer({
    args: ['--workers', '1', '--pool-size', '1', '--queue-size', '0', '--upload-auth', 'alice:s3cret', '--auth-all'],
  })
  try {
    const get = async (password: string): Promise<number> =>
      (await exchange(server.port, `GET /test.txt HTTP/1.0\r\nAuthorization: ${basic('alice', password)}\r\n\r\n`))
        .status
    expect(await get('s3cret')).toBe(200) // accepted once: remembered from here on
    let flooding = true
    const flood = Array.from({ length: 4 }, async (_, lane) => {
      const statuses: number[] = []
      for (let i = 0; flooding && i < 500; i++) statuses.push(await get(`wrong-${lane}-${i}`))
      return statuses
    })
    const accepted: number[] = []
    for (let i = 0; i < 20; i++) accepted.push(await get('s3cret'))
    flooding = false
    const refused = (await Promise.all(flood)).flat()
    expect(accepted).toEqual(Array(20).fill(200))
    expect(refused.filter((status) => status !== 401 && status !== 503)).toEqual([])
  } finally {
    await server.stop()
  }
})

describe('auth settings errors are one line and exit code 2', () => {
  test.each([
    { name: '--auth-all without --upload-auth', args: ['--auth-all'], pattern: /--auth-all: needs --upload-auth/ },
    {
      name: 'a missing credentials file',
      args: ['--upload-auth', '/no/such/users'],
      pattern: /--upload-auth: cannot read/,
    },
    { name: 'an empty user', args: ['--upload-auth', ':pw'], pattern: /--upload-auth: expected user:password/ },
    { name: 'an empty password', args: ['--upload-auth', 'bob:'], pattern: /--upload-auth: expected user:password/ },
  ])('$name', async ({ args, pattern }) => {
    const result = await run(SERVER_MAIN, ['--port', '0', '--log', '-', ...args])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(pattern)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
  })

  test('a credentials file with a plain-text password line is refused', async () => {
    const dir = await tempDir()
    const file = path.join(dir, 'users')
    await writeFile(file, 'bob:plaintext\n')
    const result = await run(SERVER_MAIN, ['--port', '0', '--log', '-', '--upload-auth', file])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/line 1: expected user:\$scrypt\$/)
  })

  test('THREADSERVE_LIST must be a boolean', async () => {
    const child = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const proc = spawn(process.execPath, [SERVER_MAIN, '--port', '0', '--log', '-'], {
        env: { ...process.env, THREADSERVE_LIST: 'maybe' },
        stdio: ['ignore', 'ignore', 'pipe'],
      })
      let stderr = ''
      proc.stderr.on('data', (d) => {
        stderr += d
      })
      proc.on('exit', (code) => resolve({ code, stderr }))
    })
    expect(child.code).toBe(2)
    expect(child.stderr).toMatch(/^threadserve: THREADSERVE_LIST: expected 1\/true\/yes or 0\/false\/no\n$/)
  })
})
