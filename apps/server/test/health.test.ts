import { readFile } from 'node:fs/promises'
import net from 'node:net'
import { afterEach, describe, expect, test } from 'vitest'
import { healthBody, isHealthCheck } from '../src/http/health.js'
import { HealthDesk } from '../src/supervisor/health-desk.js'
import { type RunningServer, startServer, waitFor } from './helpers/server-process.js'

// --health-path and --drain-delay: what a load balancer's checks see while the server starts,
// serves, is full, and drains after SIGTERM; and that checks take no pool slot, no permit, no
// credentials and no access-log line.

const running: RunningServer[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.stop()))
})

async function start(args: string[]): Promise<RunningServer> {
  const server = await startServer({ args })
  running.push(server)
  return server
}

async function health(server: RunningServer, init: RequestInit = {}): Promise<{ status: number; body: string }> {
  const response = await fetch(`${server.url}/healthz`, init)
  return { status: response.status, body: await response.text() }
}

function head(method: string, target: string): Parameters<typeof isHealthCheck>[0] {
  return { method, target } as Parameters<typeof isHealthCheck>[0]
}

describe('which requests are health checks', () => {
  test.each([
    { method: 'GET', target: '/healthz', path: '/healthz', expected: true },
    { method: 'HEAD', target: '/healthz', path: '/healthz', expected: true },
    { method: 'GET', target: '/healthz?from=haproxy', path: '/healthz', expected: true },
    { method: 'POST', target: '/healthz', path: '/healthz', expected: false },
    { method: 'GET', target: '/healthzz', path: '/healthz', expected: false },
    { method: 'GET', target: '/healthz/', path: '/healthz', expected: false },
    { method: 'GET', target: '/%68ealthz', path: '/healthz', expected: false },
    { method: 'GET', target: '/healthz', path: '', expected: false },
    { method: 'GET', target: '/', path: '', expected: false },
  ])('$method $target with --health-path "$path": $expected', ({ method, target, path, expected }) => {
    expect(isHealthCheck(head(method, target), path)).toBe(expected)
  })
})

describe('the supervisor health desk', () => {
  test('starting until every worker was ready once, then ok while one is, draining for good after a signal', () => {
    const desk = new HealthDesk(() => 0)
    expect(desk.status(1)).toBe('starting')
    desk.started()
    expect(desk.status(1)).toBe('ok')
    expect(desk.status(0)).toBe('no-workers')
    desk.drain()
    expect(desk.status(5)).toBe('draining')
  })

  test('a silent supervisor is reported as such, without figures', () => {
    expect(JSON.parse(healthBody(null))).toEqual({ status: 'no-supervisor' })
    expect(JSON.parse(healthBody({ status: 'ok', workers: 2, permitsInUse: 1 }))).toEqual({
      status: 'ok',
      workers: 2,
      permitsInUse: 1,
    })
  })
})

describe('--health-path', () => {
  test('answers 200 with the figures, to GET and HEAD, and is not logged', async () => {
    const server = await start(['--health-path', '/healthz'])
    const answer = await health(server)
    expect(answer.status).toBe(200)
    expect(JSON.parse(answer.body)).toEqual({ status: 'ok', workers: 2, permitsInUse: 0 })
    const headResponse = await fetch(`${server.url}/healthz`, { method: 'HEAD' })
    expect(headResponse.status).toBe(200)
    expect(headResponse.headers.get('cache-control')).toBe('no-store')
    expect((await fetch(`${server.url}/test.txt`)).status).toBe(200)
    const log = await waitFor(async () => {
      const text = await readFile(server.logPath, 'utf8')
      return text.includes('/test.txt') ? text : undefined
    })
    expect(log).not.toContain('/healthz')
  })

  test('with --log-health, checks are logged like any request', async () => {
    const server = await start(['--health-path', '/healthz', '--log-health'])
    expect((await health(server)).status).toBe(200)
    const log = await waitFor(async () => {
      const text = await readFile(server.logPath, 'utf8')
      return text.includes('/healthz') ? text : undefined
    })
    expect(log).toMatch(/"GET \/healthz HTTP\/1.1" 200/)
  })

  test('needs no credentials under --auth-all', async () => {
    const server = await start(['--health-path', '/healthz', '--upload-auth', 'alice:s3cret', '--auth-all'])
    expect((await health(server)).status).toBe(200)
    expect((await fetch(`${server.url}/test.txt`)).status).toBe(401)
  })

  test('takes no pool slot: answered while the only slot holds an upload, whose permit it counts', async () => {
    const server = await start(['--health-path', '/healthz', '--workers', '1', '--pool-size', '1', '--queue-size', '0'])
    const upload = net.connect(server.port, '127.0.0.1')
    upload.on('error', () => {})
    await new Promise((resolve) => upload.once('connect', resolve))
    upload.write('POST /upload HTTP/1.0\r\nContent-Length: 1000\r\n\r\nhalf')
    try {
      // The upload holds the slot once its permit is granted: a GET is then turned away.
      await waitFor(async () => ((await fetch(`${server.url}/test.txt`)).status === 503 ? true : undefined))
      const answer = await health(server)
      expect(answer.status).toBe(200)
      expect(JSON.parse(answer.body)).toMatchObject({ status: 'ok', permitsInUse: 1 })
    } finally {
      upload.destroy()
    }
  })

  test('answers 503 no-supervisor when the supervisor does not answer in time', async () => {
    // Kernel balancing: the workers accept on their own, so a stopped supervisor still lets
    // the check in, and only its answer is missing.
    const server = await start(['--health-path', '/healthz', '--balance', 'kernel'])
    process.kill(server.pid, 'SIGSTOP')
    try {
      const answer = await health(server)
      expect(answer.status).toBe(503)
      expect(JSON.parse(answer.body)).toEqual({ status: 'no-supervisor' })
    } finally {
      process.kill(server.pid, 'SIGCONT')
    }
    expect((await health(server)).status).toBe(200)
  })

  test('answers 200 from the moment the server says it listens', async () => {
    // The desk leaves 'starting' just before that line is printed; the port is known only from
    // it, so the 503s before are covered by the desk's own test above.
    const server = await start(['--health-path', '/healthz', '--workers', '3'])
    expect((await health(server)).status).toBe(200)
  })

  test('refuses --log-health without --health-path, and the upload route as the health path', async () => {
    await expect(startServer({ args: ['--log-health'] })).rejects.toThrow(/--log-health: needs --health-path/)
    await expect(startServer({ args: ['--health-path', '/upload'] })).rejects.toThrow(/upload route/)
    await expect(startServer({ args: ['--health-path', 'healthz'] })).rejects.toThrow(/--health-path/)
  })
})

describe('--drain-delay', () => {
  test('after SIGTERM, checks answer 503 draining at once while files are still served, then the server stops', async () => {
    const server = await start(['--health-path', '/healthz', '--drain-delay', '1500ms'])
    expect((await health(server)).status).toBe(200)
    const signalledAt = Date.now()
    process.kill(server.pid, 'SIGTERM')
    const draining = await waitFor(async () => {
      const answer = await health(server)
      return answer.status === 503 ? answer : undefined
    })
    expect(JSON.parse(draining.body)).toMatchObject({ status: 'draining', workers: 2 })
    const during = await fetch(`${server.url}/test.txt`)
    expect(during.status).toBe(200)
    expect(await during.text()).toBe('hello from the test root\n')
    expect(await server.exited).toBe(0)
    const tookMs = Date.now() - signalledAt
    console.log(`[drain-delay] 1500 ms delay: exited ${tookMs} ms after SIGTERM`)
    expect(tookMs).toBeGreaterThanOrEqual(1500)
    expect(server.stderr()).toMatch(/SIGTERM: health checks answer 503; serving for 1500 ms/)
  })

  test('a second signal during the delay starts the graceful stop at once', async () => {
    const server = await start(['--health-path', '/healthz', '--drain-delay', '60s'])
    process.kill(server.pid, 'SIGTERM')
    await waitFor(() => (server.stderr().includes('serving for 60000 ms') ? true : undefined))
    process.kill(server.pid, 'SIGTERM')
    expect(await server.exited).toBe(0)
    expect(server.stderr()).toMatch(/SIGTERM: finishing in-flight requests/)
  })

  test('SIGINT does not wait for the delay', async () => {
    const server = await start(['--drain-delay', '60s'])
    process.kill(server.pid, 'SIGINT')
    expect(await server.exited).toBe(0)
    expect(server.stderr()).not.toContain('serving for')
  })
})
