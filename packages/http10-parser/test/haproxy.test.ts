// HAProxy itself in front of a node:net server: the parser must read what a real sender writes,
// `send-proxy` (v1), `send-proxy-v2`, v2 with TLVs, and the LOCAL header of its health checks.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { accessSync, constants } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { ParseError, type ProxyHeader, parseProxyHeader, RequestParser } from '../src/index.js'

const HOST = '127.0.0.1'

/** haproxy from $HAPROXY or the PATH; Debian installs it in sbin, which a user's PATH may lack. */
function findHaproxy(): string | null {
  const explicit = process.env.HAPROXY
  if (explicit !== undefined && explicit !== '') return explicit
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/usr/local/sbin']
  for (const dir of dirs) {
    const candidate = path.join(dir, 'haproxy')
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {}
  }
  return null
}

const HAPROXY = findHaproxy()
// The test setup (pnpm test:setup, .ci/run) installs haproxy: a missing binary fails the suite
// with what to install, never leaves these tests out.
if (HAPROXY === null) throw new Error('haproxy is required by this test suite: apt-get install -y haproxy')

/** What the server saw on one connection: the header, and the request target if one came. */
interface Seen {
  header: ProxyHeader | null
  target: string | null
  code: string | null
}

/** Reads a PROXY header, then an HTTP/1.0 request, and answers with what it read as JSON. */
function serve(socket: Socket, seen: Seen[]): void {
  const record: Seen = { header: null, target: null, code: null }
  seen.push(record)
  const parser = new RequestParser()
  let pending = Buffer.alloc(0)
  socket.on('error', () => {})
  socket.on('data', (chunk: Buffer) => {
    try {
      let request = chunk
      if (record.header === null) {
        pending = Buffer.concat([pending, chunk])
        const result = parseProxyHeader(pending)
        if (!result.complete) return
        record.header = result.header
        request = pending.subarray(result.length)
      }
      const step = parser.push(request)
      if (step.head !== null) record.target = step.head.target
      if (step.done) socket.end(`HTTP/1.0 200 OK\r\n\r\n${JSON.stringify(record)}`)
    } catch (error) {
      if (!(error instanceof ParseError)) throw error
      record.code = error.code
      socket.destroy()
    }
  })
}

async function freePort(): Promise<number> {
  const probe = createServer()
  probe.listen(0, HOST)
  await once(probe, 'listening')
  const { port } = probe.address() as { port: number }
  probe.close()
  await once(probe, 'close')
  return port
}

/** Sends a request through haproxy; resolves with our local port and the server's JSON answer. */
async function requestThrough(port: number, target: string): Promise<{ localPort: number; answer: Seen }> {
  const socket = connect(port, HOST)
  await once(socket, 'connect')
  const localPort = socket.localPort as number
  socket.end(`GET ${target} HTTP/1.0\r\n\r\n`)
  const chunks: Buffer[] = []
  socket.on('data', (chunk: Buffer) => chunks.push(chunk))
  await once(socket, 'close')
  const response = Buffer.concat(chunks).toString('latin1')
  return { localPort, answer: JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as Seen }
}

async function waitUntilListening(port: number, haproxyLog: () => string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const connected = await new Promise<boolean>((resolve) => {
      const socket = connect(port, HOST)
      socket.on('connect', () => {
        resolve(true)
        socket.destroy()
      })
      socket.on('error', () => resolve(false))
      socket.on('close', () => resolve(false))
    })
    if (connected) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`haproxy did not listen on ${port}: ${haproxyLog()}`)
}

describe('haproxy in front of a node:net server', () => {
  const seen: Seen[] = []
  const ports = { v1: 0, v2: 0, v2Tlvs: 0 }
  let server: Server
  let haproxy: ChildProcess
  let dir: string
  let haproxyLog = ''

  beforeAll(async () => {
    server = createServer((socket) => serve(socket, seen))
    server.listen(0, HOST)
    await once(server, 'listening')
    const serverPort = (server.address() as { port: number }).port
    ports.v1 = await freePort()
    ports.v2 = await freePort()
    ports.v2Tlvs = await freePort()
    dir = await mkdtemp(path.join(tmpdir(), 'proxy-header-haproxy-'))
    const config = path.join(dir, 'haproxy.cfg')
    await writeFile(
      config,
      [
        'global',
        '  maxconn 64',
        'defaults',
        '  mode tcp',
        '  timeout connect 2s',
        '  timeout client 10s',
        '  timeout server 10s',
        'frontend v1',
        `  bind ${HOST}:${ports.v1}`,
        '  default_backend v1',
        'backend v1',
        `  server node ${HOST}:${serverPort} send-proxy`,
        'frontend v2',
        `  bind ${HOST}:${ports.v2}`,
        '  default_backend v2',
        'backend v2',
        `  server node ${HOST}:${serverPort} send-proxy-v2`,
        // A checksum and a unique ID as TLVs after the addresses; health checks send LOCAL.
        'frontend v2-tlvs',
        `  bind ${HOST}:${ports.v2Tlvs}`,
        '  unique-id-format %{+X}o%ci:%cp',
        '  default_backend v2-tlvs',
        'backend v2-tlvs',
        `  server node ${HOST}:${serverPort} send-proxy-v2 proxy-v2-options crc32c,unique-id check inter 100ms`,
        '',
      ].join('\n'),
    )
    haproxy = spawn(HAPROXY as string, ['-db', '-f', config], { stdio: ['ignore', 'pipe', 'pipe'] })
    haproxy.stdout?.on('data', (chunk: Buffer) => (haproxyLog += chunk.toString()))
    haproxy.stderr?.on('data', (chunk: Buffer) => (haproxyLog += chunk.toString()))
    for (const port of Object.values(ports)) await waitUntilListening(port, () => haproxyLog)
  })

  afterAll(async () => {
    if (haproxy?.pid !== undefined && haproxy.exitCode === null) {
      const exited = once(haproxy, 'exit')
      process.kill(haproxy.pid, 'SIGTERM')
      await exited
    }
    server?.close()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  test.each([
    { name: 'send-proxy writes a v1 TCP4 line', version: 1, port: () => ports.v1 },
    { name: 'send-proxy-v2 writes a v2 TCP4 block', version: 2, port: () => ports.v2 },
    { name: 'send-proxy-v2 with CRC32C and unique-ID TLVs', version: 2, port: () => ports.v2Tlvs },
  ])('$name, and the request follows it', async ({ version, port }) => {
    const { localPort, answer } = await requestThrough(port(), '/through-haproxy')
    expect(answer).toEqual({
      header: {
        version,
        command: 'PROXY',
        family: 'TCP4',
        sourceAddress: HOST,
        sourcePort: localPort,
        destinationAddress: HOST,
        destinationPort: port(),
      },
      target: '/through-haproxy',
      code: null,
    })
  })

  test('health checks of a send-proxy-v2 server send LOCAL', async () => {
    for (let waited = 0; waited < 5000 && !seen.some((s) => s.header?.command === 'LOCAL'); waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    expect(seen.find((s) => s.header?.command === 'LOCAL')?.header).toMatchObject({
      version: 2,
      command: 'LOCAL',
      family: 'UNKNOWN',
    })
  })

  test('no connection from haproxy was refused', () => {
    expect(seen.filter((s) => s.code !== null)).toEqual([])
  })
})
