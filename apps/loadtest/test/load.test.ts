import { afterEach, describe, expect, test } from 'vitest'
import { parseCommand } from '../src/options.js'
import type { Report } from '../src/report.js'
import { runLoad } from '../src/run.js'
import { findClosedPort, reply, startTinyServer, type TinyServer } from './helpers/tiny-server.js'

const servers: TinyServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()))
})

async function serve(...args: Parameters<typeof startTinyServer>): Promise<TinyServer> {
  const server = await startTinyServer(...args)
  servers.push(server)
  return server
}

function load(url: string, ...args: string[]): Promise<Report> {
  const command = parseCommand([url, '--quiet', ...args])
  if (command.kind !== 'run') throw new Error('expected a run command')
  return runLoad(command.options)
}

describe('counts', () => {
  test('a request count is met exactly, one connection per request', async () => {
    const server = await serve((socket) => reply(socket, 'hello'))
    const report = await load(server.url, '-n', '500', '-c', '8')
    expect(report.requests).toBe(500)
    expect(report.errors).toBe(0)
    expect(report.statusCounts).toEqual({ '200': 500 })
    expect(report.connectionsOpened).toBe(500)
    expect(server.requests()).toBe(500)
    expect(server.connections()).toBe(500)
  })

  test('status codes are counted per code', async () => {
    const server = await serve((socket, request) => reply(socket, 'x', request.index % 4 === 0 ? 404 : 200))
    const report = await load(server.url, '-n', '400', '-c', '1')
    expect(report.statusCounts).toEqual({ '200': 300, '404': 100 })
  })

  test('bytes sent and received are exact', async () => {
    const server = await serve((socket) => reply(socket, 'abcdefghij'))
    const report = await load(server.url, '-n', '10', '-c', '2')
    const response = 'HTTP/1.0 200 X\r\nContent-Length: 10\r\n\r\nabcdefghij'
    expect(report.bytesReceived).toBe(10 * response.length)
    const request = `GET /x HTTP/1.0\r\nHost: 127.0.0.1:${server.port}\r\nUser-Agent: loadtest/0.1.0\r\nAccept: */*\r\n\r\n`
    expect(report.bytesSent).toBe(10 * request.length)
  })

  test('keep-alive reuses connections the server keeps open, and reconnects when it closes', async () => {
    const server = await serve((socket) => reply(socket, 'ok'), { keepAliveRequests: 10 })
    const report = await load(server.url, '-n', '200', '-c', '4', '--keep-alive')
    expect(report.requests).toBe(200)
    expect(report.errors).toBe(0)
    expect(server.requests()).toBe(200)
    expect(report.connectionsOpened).toBeLessThanOrEqual(24)
    expect(server.connections()).toBe(report.connectionsOpened)
  })

  test('a POST body of --body-size random bytes arrives whole with its Content-Length', async () => {
    const server = await serve((socket) => reply(socket, 'stored', 201))
    const report = await load(server.url, '-n', '20', '-c', '4', '--body-size', '64KiB')
    expect(report.method).toBe('POST')
    expect(report.statusCounts).toEqual({ '201': 20 })
    const bodies = server.bodies()
    expect(bodies).toHaveLength(20)
    for (const body of bodies) expect(body.length).toBe(65536)
  })

  test('a body larger than the socket buffers arrives whole, written over several sends', async () => {
    const server = await serve((socket) => reply(socket, 'stored', 201))
    const report = await load(server.url, '-n', '3', '-c', '2', '--body-size', '4MiB')
    expect(report.statusCounts).toEqual({ '201': 3 })
    expect(server.bodies().map((body) => body.length)).toEqual([4 << 20, 4 << 20, 4 << 20])
  })

  test('an IPv6 literal in the URL connects over IPv6', async (context) => {
    let server: TinyServer
    try {
      server = await serve((socket) => reply(socket, 'six'), { host: '::1' })
    } catch {
      context.skip('no IPv6 loopback on this machine')
      return
    }
    const report = await load(server.url, '-n', '20', '-c', '2', '--check-length')
    expect(report.statusCounts).toEqual({ '200': 20 })
    expect(report.checkFailures.length).toBe(0)
  })

  test('a duration run stops and counts only whole responses', async () => {
    const server = await serve((socket) => reply(socket))
    const report = await load(server.url, '-d', '500ms', '-c', '4')
    expect(report.requests).toBeGreaterThan(0)
    expect(report.errors).toBe(0)
    // It lasts the asked 500 ms, less the few ms setTimeout may fire early: it counts from the
    // event loop's cached clock, which can lag performance.now().
    expect(report.durationMs).toBeGreaterThanOrEqual(450)
    expect(server.requests() - report.requests).toBeGreaterThanOrEqual(0)
    expect(server.requests() - report.requests).toBeLessThanOrEqual(4)
  })
})

// The sum of every recorded latency. Latencies are kept in µs with 3 significant digits, so
// this is exact to 0.1%; the bounds below allow 1%.
function totalLatencyMs(report: Report): number {
  return report.latency.meanMs * report.requests
}

describe('latency histogram', () => {
  // Every tenth response waits 200 ms, the others 20 ms.
  function delayingServer(): Promise<TinyServer> {
    return serve((socket, request) => {
      setTimeout(() => reply(socket), request.index % 10 === 9 ? 200 : 20)
    })
  }

  test('every latency includes the delay the server added, the longest ones at p99', async () => {
    const server = await delayingServer()
    const report = await load(server.url, '-n', '100', '-c', '10')
    expect(report.requests).toBe(100)
    const { minMs, p50Ms, p99Ms } = report.latency
    expect(minMs).toBeGreaterThanOrEqual(19)
    expect(p50Ms).toBeGreaterThanOrEqual(19)
    expect(p99Ms).toBeGreaterThanOrEqual(199)
  })

  test('latency runs from each request, not from the start of the run', async () => {
    // A connection carries one request at a time, so its latencies add up to at most the run's
    // time; latencies counted from the start of the run would add up to several times that.
    const server = await delayingServer()
    const report = await load(server.url, '-n', '100', '-c', '10')
    expect(report.requests).toBe(100)
    expect(totalLatencyMs(report)).toBeLessThanOrEqual(10 * report.durationMs * 1.01)
  })
})

describe('errors are classified', () => {
  test('connection refused', async () => {
    const port = await findClosedPort()
    const report = await load(`http://127.0.0.1:${port}/`, '-n', '5', '-c', '1')
    expect(report.requests).toBe(0)
    expect(report.errors).toBe(5)
    expect(report.errorCounts.refused).toBe(5)
  })

  test('connection reset', async () => {
    const server = await serve((socket) => socket.resetAndDestroy())
    const report = await load(server.url, '-n', '5', '-c', '1')
    expect(report.errorCounts.reset).toBe(5)
  })

  test('timeout when the server never answers', async () => {
    const server = await serve(() => {})
    const report = await load(server.url, '-n', '2', '-c', '2', '--timeout', '200ms')
    expect(report.errorCounts.timeout).toBe(2)
    expect(report.requests).toBe(0)
  })

  test('malformed status line', async () => {
    const server = await serve((socket) => socket.end('HELLO THERE\r\n\r\n'))
    const report = await load(server.url, '-n', '5', '-c', '1')
    expect(report.errorCounts.malformed).toBe(5)
  })

  test('closed before the whole body arrived', async () => {
    const server = await serve((socket) => socket.end('HTTP/1.0 200 OK\r\nContent-Length: 100\r\n\r\nshort'))
    const report = await load(server.url, '-n', '5', '-c', '1')
    expect(report.errorCounts.closed).toBe(5)
  })

  test('closed with no response at all', async () => {
    const server = await serve((socket) => socket.end())
    const report = await load(server.url, '-n', '5', '-c', '1')
    expect(report.errorCounts.closed).toBe(5)
    expect(report.errors).toBe(5)
  })
})

describe('response checks', () => {
  test('an unexpected status is a check failure, still a response', async () => {
    const server = await serve((socket, request) => reply(socket, 'x', request.index % 2 === 0 ? 200 : 500))
    const report = await load(server.url, '-n', '10', '-c', '1', '--expect-status', '200')
    expect(report.requests).toBe(10)
    expect(report.checkFailures.status).toBe(5)
  })

  test('bytes past Content-Length fail the length check', async () => {
    const server = await serve((socket) => socket.end('HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA'))
    const report = await load(server.url, '-n', '5', '-c', '1', '--check-length')
    expect(report.checkFailures.length).toBe(5)
  })

  test('a response without Content-Length fails the length check', async () => {
    const server = await serve((socket) => socket.end('HTTP/1.0 200 OK\r\n\r\nuntil close'))
    const report = await load(server.url, '-n', '5', '-c', '1', '--check-length')
    expect(report.requests).toBe(5)
    expect(report.checkFailures.length).toBe(5)
  })

  test('a correct body passes the sha256 and length checks, a different one fails', async () => {
    const server = await serve((socket, request) => reply(socket, request.index < 3 ? 'hello' : 'HELLO'))
    const sha = '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824' // sha256("hello")
    const report = await load(server.url, '-n', '10', '-c', '1', '--check-length', '--expect-sha256', sha)
    expect(report.checkFailures).toEqual({ status: 0, length: 0, sha256: 7 })
  })
})

describe('open loop', () => {
  // The server stalls once for 300 ms. Closed loop sends nothing while it waits, so one request
  // in 2000 is slow and p99 hides the stall; open loop keeps the schedule, so the ~150 requests
  // that were due during the stall all count their wait (the wrk2 argument). The tests check
  // what each model counts, which holds on a machine of any speed: in closed loop the latencies
  // on one connection never overlap, in open loop those due during the stall do.
  async function stallingServer(): Promise<TinyServer> {
    let pausedUntil = 0
    return serve((socket, request) => {
      if (request.index === 100) pausedUntil = Date.now() + 300
      const waitMs = pausedUntil - Date.now()
      if (waitMs > 0) setTimeout(reply, waitMs, socket)
      else reply(socket)
    })
  }

  test('closed loop counts the stall once, in the one request it held', async () => {
    const server = await stallingServer()
    const report = await load(server.url, '-n', '2000', '-c', '1')
    expect(report.requests).toBe(2000)
    expect(report.latency.maxMs).toBeGreaterThanOrEqual(290)
    expect(totalLatencyMs(report)).toBeLessThanOrEqual(report.durationMs * 1.01)
  })

  test('open loop counts the stall in every request due during it, and p99 shows it', async () => {
    const server = await stallingServer()
    const report = await load(server.url, '-n', '1000', '-c', '1', '--rate', '500')
    expect(report.mode).toBe('open')
    expect(report.requests).toBe(1000)
    // ~150 requests due during the stall wait ~150 ms on average: seconds of latency in all.
    expect(totalLatencyMs(report)).toBeGreaterThan(report.durationMs * 2)
    expect(report.latency.p99Ms).toBeGreaterThanOrEqual(150)
    expect(report.latency.p90Ms).toBeGreaterThanOrEqual(20)
  })

  test('open loop sends no request before it is due', async () => {
    const server = await serve((socket) => reply(socket))
    const report = await load(server.url, '-n', '100', '-c', '4', '--rate', '200')
    expect(report.requests).toBe(100)
    // One request every 5 ms: the last is due 495 ms after the first, less timer slack.
    expect(report.durationMs).toBeGreaterThanOrEqual(450)
  })
})
