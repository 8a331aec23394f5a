import { type ChildProcess, spawn } from 'node:child_process'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import http from 'node:http'
import net from 'node:net'
import path from 'node:path'
import { afterAll, expect, test } from 'vitest'
import { ownHostTag } from '../src/uploads/temp-files.js'
import { makeTempDir, SERVER_MAIN, waitFor } from '../test/helpers/server-process.js'
import { createRandom, type Random, seedFor, sha256, sleep } from './helpers/reliability.js'

// Three hosts behind HAProxy (docs/deploy.md), as in production but on one machine: 127.0.0.2,
// .3 and .4, same port, one shared root and upload directory, HAProxy on 127.0.0.1 checking
// /healthz and opening every connection with a PROXY v2 header. A client on 127.0.0.5 sends GETs
// and uploads through HAProxy for 20 s while one host is SIGKILLed (its whole process group) and
// another is stopped with SIGTERM (--drain-delay) and started again. Then: every acknowledged
// upload is on the shared volume, byte-exact, and readable through HAProxy; few requests failed;
// every access-log line names the client (127.0.0.5), never HAProxy; and the restarted host
// removed no other host's temp file.

const HOSTS = ['127.0.0.2', '127.0.0.3', '127.0.0.4'] as const
const CLIENT_ADDRESS = '127.0.0.5'
const BALANCER_ADDRESS = '127.0.0.1'
const HOST_ARGS = ['--proxy-protocol']
const SERVER_OPTIONS = 'check inter 300ms fall 2 rise 2 send-proxy-v2'
const LOAD_MS = 20_000
const KILL_AT_MS = 4_000
const RESTART_AT_MS = 9_000
const DRAIN_DELAY_MS = 1_500 // above HAProxy's inter x (fall + 1): it marks the host down first
const LANES = 6
const UPLOAD_SHARE = 0.3
const UPLOAD_SIZES = [1024, 16 * 1024, 64 * 1024, 256 * 1024]
const MAX_FAILED_SHARE = 0.05
const REQUEST_TIMEOUT_MS = 10_000

interface Host {
  readonly address: string
  readonly child: ChildProcess
  readonly pid: number
  readonly exited: Promise<number | null>
  stderr(): string
}

interface Outcome {
  readonly kind: 'GET' | 'POST'
  readonly ok: boolean
  readonly detail: string
  readonly at: number
}

let dir = ''
const children = new Set<ChildProcess>()
afterAll(async () => {
  for (const child of children) {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) continue
    try {
      process.kill(-child.pid, 'SIGKILL') // the hosts' workers too: each host is its own group
    } catch {
      child.kill('SIGKILL')
    }
  }
  if (dir !== '') await rm(dir, { recursive: true, force: true })
})

/** A port free on every host address (they share it, as hosts of one service do). */
async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await listenOnce(HOSTS[0], 0)
    const others = await Promise.all(HOSTS.slice(1).map((address) => listenOnce(address, port).catch(() => 0)))
    if (others.every((other) => other === port)) return port
  }
  throw new Error('no port free on all host addresses')
}

function listenOnce(address: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(port, address, () => {
      const bound = (server.address() as net.AddressInfo).port
      server.close(() => resolve(bound))
    })
  })
}

function track(child: ChildProcess): { exited: Promise<number | null>; out: () => string; err: () => string } {
  children.add(child)
  let out = ''
  let err = ''
  child.stdout?.setEncoding('utf8').on('data', (text: string) => {
    out += text
  })
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    err += text
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return { exited, out: () => out, err: () => err }
}

async function startHost(address: string, port: number, root: string): Promise<Host> {
  const args = [
    ...['--host', address, '--port', String(port), '--root', root, '--workers', '2', '--max-posts', '16'],
    ...['--log', path.join(dir, `access-${address}.log`), '--log-format', 'text'],
    ...['--health-path', '/healthz', '--drain-delay', `${DRAIN_DELAY_MS}ms`, '--shutdown-grace', '5s'],
    ...HOST_ARGS,
  ]
  // Detached: a group of its own, so that the whole host (supervisor and workers) can be killed.
  const child = spawn(process.execPath, [SERVER_MAIN, ...args], {
    cwd: dir,
    env: { ...process.env, INIT_CWD: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  const { exited, out, err } = track(child)
  await Promise.race([
    waitFor(() => (out().includes('listening on') ? true : undefined), 20_000, `host ${address} listening`),
    exited.then((code) => {
      throw new Error(`host ${address} exited with ${code} before listening: ${err()}`)
    }),
  ])
  return { address, child, pid: child.pid as number, exited, stderr: err }
}

function haproxyConfig(port: number, frontPort: number, statsPort: number): string {
  return [
    'global',
    '    maxconn 2000',
    'defaults',
    '    mode http',
    '    timeout connect 500ms',
    '    timeout client 10s',
    '    timeout server 10s',
    '    timeout check 1s',
    '    retries 3',
    '    option redispatch 1',
    'frontend www',
    `    bind ${BALANCER_ADDRESS}:${frontPort}`,
    '    default_backend threadserve',
    'backend threadserve',
    '    balance roundrobin',
    '    option httpchk GET /healthz',
    '    http-check expect status 200',
    `    default-server ${SERVER_OPTIONS}`,
    ...HOSTS.map((address, i) => `    server h${i + 2} ${address}:${port}`),
    'listen stats',
    `    bind ${BALANCER_ADDRESS}:${statsPort}`,
    '    stats enable',
    '    stats uri /stats',
    '',
  ].join('\n')
}

/** HAProxy's view of each host: server name -> UP, DOWN, ... (its CSV stats). */
async function serverStates(statsPort: number): Promise<Map<string, string>> {
  const { body } = await request(statsPort, 'GET', '/stats;csv', null)
  const states = new Map<string, string>()
  for (const line of body.toString('utf8').split('\n')) {
    const fields = line.split(',')
    if (fields[0] === 'threadserve' && fields[1]?.startsWith('h')) states.set(fields[1], fields[17] ?? '')
  }
  return states
}

function request(
  port: number,
  method: 'GET' | 'POST',
  target: string,
  body: Buffer | null,
): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: BALANCER_ADDRESS,
        port,
        method,
        path: target,
        localAddress: CLIENT_ADDRESS,
        agent: false,
        timeout: REQUEST_TIMEOUT_MS,
        headers: body === null ? {} : { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length },
      },
      (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }))
        response.on('error', reject)
      },
    )
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    req.end(body ?? undefined)
  })
}

test('three hosts behind HAProxy: a host killed, another restarted, no acknowledged upload lost, client addresses logged', async () => {
  const random = createRandom(seedFor('haproxy'))
  dir = await makeTempDir('threadserve-haproxy-')
  const root = path.join(dir, 'root')
  const uploads = path.join(root, 'uploads')
  await mkdir(uploads, { recursive: true })
  const files = new Map<string, Buffer>()
  for (const size of [512, 8 * 1024, 100 * 1024, 700 * 1024]) {
    const name = `file-${size}.bin`
    files.set(name, random.bytes(size))
    await writeFile(path.join(root, name), files.get(name) as Buffer)
  }

  const port = await freePort()
  const [frontPort, statsPort] = [await listenOnce(BALANCER_ADDRESS, 0), await listenOnce(BALANCER_ADDRESS, 0)]
  const hosts = new Map<string, Host>()
  for (const address of HOSTS) hosts.set(address, await startHost(address, port, root))

  const cfg = path.join(dir, 'haproxy.cfg')
  await writeFile(cfg, haproxyConfig(port, frontPort, statsPort))
  const haproxy = spawn('haproxy', ['-f', cfg, '-db'], { stdio: ['ignore', 'pipe', 'pipe'] })
  const balancer = track(haproxy)
  await waitFor(
    async () => {
      const states = await serverStates(statsPort)
      return states.size === 3 && [...states.values()].every((state) => state === 'UP') ? true : undefined
    },
    15_000,
    `HAProxy sees all three hosts UP (its output: ${balancer.err()})`,
  )

  // Load: GETs of the static files and uploads, all through HAProxy, for LOAD_MS.
  const outcomes: Outcome[] = []
  const acknowledged = new Map<string, Buffer>()
  const started = Date.now()
  const until = started + LOAD_MS
  const lane = async (laneRandom: Random): Promise<void> => {
    while (Date.now() < until) {
      if (laneRandom.next() < UPLOAD_SHARE) {
        const body = laneRandom.bytes(laneRandom.pick(UPLOAD_SIZES))
        try {
          const answer = await request(frontPort, 'POST', '/upload', body)
          const stored = answer.status === 201 ? (JSON.parse(answer.body.toString('utf8')) as { name: string }) : null
          if (stored !== null) acknowledged.set(stored.name, body)
          outcomes.push({ kind: 'POST', ok: stored !== null, detail: `status ${answer.status}`, at: Date.now() })
        } catch (error) {
          outcomes.push({ kind: 'POST', ok: false, detail: (error as Error).message, at: Date.now() })
        }
      } else {
        const name = laneRandom.pick([...files.keys()])
        try {
          const answer = await request(frontPort, 'GET', `/${name}`, null)
          const ok = answer.status === 200 && answer.body.equals(files.get(name) as Buffer)
          outcomes.push({ kind: 'GET', ok, detail: `status ${answer.status}`, at: Date.now() })
        } catch (error) {
          outcomes.push({ kind: 'GET', ok: false, detail: (error as Error).message, at: Date.now() })
        }
      }
    }
  }

  // Chaos: SIGKILL the first host's whole process group; SIGTERM the second and start it again,
  // with temp files of a live writer (the third host's supervisor) and of another host planted
  // first: its start-up sweep must leave both.
  const killed = hosts.get(HOSTS[0]) as Host
  const restarted = hosts.get(HOSTS[1]) as Host
  const survivor = hosts.get(HOSTS[2]) as Host
  const planted = [
    `.upload-${ownHostTag()}-${survivor.pid}-0123456789ab.part`,
    `.upload-${ownHostTag() === '00000000' ? '11111111' : '00000000'}-${survivor.pid}-0123456789ab.part`,
  ]
  const timeline: string[] = []
  const at = (): string => `${((Date.now() - started) / 1000).toFixed(1)} s`
  const chaos = async (): Promise<void> => {
    await sleep(KILL_AT_MS)
    process.kill(-killed.pid, 'SIGKILL')
    timeline.push(`${at()} SIGKILL ${killed.address} (group ${killed.pid})`)
    await sleep(RESTART_AT_MS - KILL_AT_MS)
    process.kill(restarted.pid, 'SIGTERM')
    timeline.push(`${at()} SIGTERM ${restarted.address}`)
    expect(await restarted.exited).toBe(0)
    timeline.push(`${at()} ${restarted.address} exited 0`)
    for (const name of planted) await writeFile(path.join(uploads, name), 'an upload in progress elsewhere')
    const before = (await readdir(uploads)).filter((name) => name.startsWith('.upload-'))
    const again = await startHost(restarted.address, port, root)
    hosts.set(restarted.address, again)
    const after = new Set((await readdir(uploads)).filter((name) => name.startsWith('.upload-')))
    const gone = before.filter((name) => !after.has(name))
    // Gone may be the killed host's leftovers or uploads that finished meanwhile; an upload in
    // progress on another host whose file was removed would fail, and count below.
    timeline.push(`${at()} ${restarted.address} listening again; temp files ${before.length} -> ${after.size}`)
    timeline.push(
      `   its start-up: ${again.stderr().trim() || '(nothing on stderr)'}; gone: ${gone.join(', ') || 'none'}`,
    )
    for (const name of planted) expect(after.has(name), `${name} survived the restart`).toBe(true)
    await waitFor(async () => ((await serverStates(statsPort)).get('h3') === 'UP' ? true : undefined), 10_000)
    timeline.push(`${at()} HAProxy sees ${restarted.address} UP again`)
  }
  await Promise.all([chaos(), ...Array.from({ length: LANES }, (_, i) => lane(createRandom(random.seed + i + 1)))])
  const states = await serverStates(statsPort)

  // Every acknowledged upload: on the shared volume byte-exact, and served through HAProxy.
  let onDisk = 0
  let served = 0
  for (const [name, body] of acknowledged) {
    if (sha256(await readFile(path.join(uploads, name))) === sha256(body)) onDisk++
    const answer = await request(frontPort, 'GET', `/uploads/${name}`, null).catch(() => null)
    if (answer?.status === 200 && answer.body.equals(body)) served++
  }

  // Every access-log line names the client, never the balancer.
  const addresses = new Map<string, number>()
  for (const address of HOSTS) {
    const text = await readFile(path.join(dir, `access-${address}.log`), 'utf8').catch(() => '')
    for (const line of text.split('\n').filter(Boolean)) {
      const client = line.split(' ')[2] ?? '?'
      addresses.set(client, (addresses.get(client) ?? 0) + 1)
    }
  }

  const failed = outcomes.filter((outcome) => !outcome.ok)
  const posts = outcomes.filter((outcome) => outcome.kind === 'POST')
  const failedShare = failed.length / Math.max(1, outcomes.length)
  console.log(
    [
      `[haproxy] ${outcomes.length} requests in ${LOAD_MS / 1000} s through HAProxy (${posts.length} uploads, ` +
        `${acknowledged.size} acknowledged); failed ${failed.length} (${(failedShare * 100).toFixed(2)}%)`,
      ...timeline.map((line) => `[haproxy] ${line}`),
      `[haproxy] failures: ${failed.map((f) => `${f.kind} ${((f.at - started) / 1000).toFixed(1)} s ${f.detail}`).join('; ') || 'none'}`,
      `[haproxy] acknowledged uploads: ${onDisk}/${acknowledged.size} on the volume byte-exact, ${served} served through HAProxy`,
      `[haproxy] access-log client addresses: ${[...addresses].map(([a, n]) => `${a} x${n}`).join(', ')}`,
      `[haproxy] HAProxy's view at the end: ${[...states].map(([s, state]) => `${s} ${state}`).join(', ')}`,
    ].join('\n'),
  )

  expect(acknowledged.size).toBeGreaterThan(0)
  expect(onDisk).toBe(acknowledged.size)
  expect(served).toBe(acknowledged.size)
  expect(failedShare).toBeLessThanOrEqual(MAX_FAILED_SHARE)
  expect([...addresses.keys()]).toEqual([CLIENT_ADDRESS])
  expect(states.get('h2')).toMatch(/^DOWN/)
  expect(states.get('h3')).toBe('UP')
  expect(states.get('h4')).toBe('UP')
  for (const name of planted) expect(await readFile(path.join(uploads, name), 'utf8')).toContain('in progress')
})
