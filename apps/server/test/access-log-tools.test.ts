// The access log is for other programs to read: a log written by the real server (supervisor,
// workers, shared file) under mixed traffic goes to goaccess (combined) and jq (json), Debian
// packages that `pnpm test:setup` installs. A missing tool fails the test; it is never skipped.
import { execFile } from 'node:child_process'
import { readFile, rm } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { expect, test } from 'vitest'
import { exchange } from './helpers/raw-exchange.js'
import { makeTempDir, startServer } from './helpers/server-process.js'

const run = promisify(execFile)

async function runTool(tool: string, args: string[]): Promise<string> {
  try {
    return (await run(tool, args, { maxBuffer: 16 * 1024 * 1024, timeout: 60_000 })).stdout
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') {
      throw new Error(`${tool} is required by this test: pnpm test:setup (or apt-get install -y ${tool})`)
    }
    throw error
  }
}

// Header values go out as raw bytes: UTF-8 is sent as its bytes, as a browser sends it.
const utf8 = (text: string): string => Buffer.from(text, 'utf8').toString('latin1')

const USER_AGENTS = [
  'curl/7.88.1',
  'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
  'a "quoted" agent',
  'ends with a backslash\\',
  '\\" 200 0 "-" "forged',
  utf8('Ünïcødé-Bot/1.0 (日本語; 😀)'),
  '',
]

/** One request of each kind the server answers differently, each with a different user agent. */
function mixedTraffic(): string[] {
  const requests: string[] = []
  const heads = [
    'GET /test.txt HTTP/1.0',
    'GET /test.txt HTTP/1.1',
    'HEAD /test.txt HTTP/1.0',
    'GET /missing.txt HTTP/1.0',
    'GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.0',
    `GET /${utf8('ünï')}%20code.txt?q="x" HTTP/1.0`,
    'PUT /test.txt HTTP/1.0',
    'GET / HTTP/1.0',
  ]
  for (const [i, head] of heads.entries()) {
    const agent = USER_AGENTS[i % USER_AGENTS.length] as string
    requests.push(`${head}\r\nHost: x\r\nUser-Agent: ${agent}\r\nReferer: http://ref.example/${i}\r\n\r\n`)
  }
  for (const [i, agent] of USER_AGENTS.entries()) {
    const body = `upload ${i}\n`
    requests.push(`POST /upload HTTP/1.0\r\nUser-Agent: ${agent}\r\nContent-Length: ${body.length}\r\n\r\n${body}`)
  }
  requests.push('GET /test.txt\r\n') // HTTP/0.9: a request line without a version
  requests.push('get /test.txt HTTP/1.0\r\n\r\n') // 400: a lowercase method
  requests.push('POST /upload HTTP/1.0\r\n\r\n') // 411
  return requests
}

/** Writes the log of `mixedTraffic()` into `dir` (the server's own dir goes when it stops). */
async function logOfTraffic(dir: string, format: 'combined' | 'json'): Promise<{ logPath: string; sent: number }> {
  const logPath = path.join(dir, `access.${format}.log`)
  const server = await startServer({ args: ['--log', logPath, '--log-format', format] })
  const requests = mixedTraffic()
  try {
    for (const request of requests) {
      const result = await exchange(server.port, request)
      expect(result.closedBy, request).toBe('server')
    }
  } finally {
    // SIGTERM flushes every worker's buffered lines before the processes exit.
    expect(await server.stop()).toBe(0)
  }
  return { logPath, sent: requests.length }
}

/** Runs `check` with a fresh temp dir, removed afterwards whatever happens. */
async function inTempDir(check: (dir: string) => Promise<void>): Promise<void> {
  const dir = await makeTempDir('threadserve-log-tools-')
  try {
    await check(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

function linesOf(text: string): string[] {
  return text.split('\n').filter((line) => line !== '')
}

test('goaccess --log-format=COMBINED reads every line of a combined log the server wrote', () =>
  inTempDir(async (dir) => {
    const { logPath, sent } = await logOfTraffic(dir, 'combined')
    expect(linesOf(await readFile(logPath, 'latin1'))).toHaveLength(sent)
    const report = path.join(dir, 'report.json')
    // --no-global-config: the distribution's goaccess.conf cannot change what is parsed.
    await runTool('goaccess', [logPath, '--log-format=COMBINED', '--no-global-config', '-o', report])
    const { general } = JSON.parse(await readFile(report, 'utf8')) as {
      general: { total_requests: number; valid_requests: number; failed_requests: number }
    }
    expect(general).toMatchObject({ total_requests: sent, valid_requests: sent, failed_requests: 0 })
  }))

test('jq reads every line of a json log the server wrote', () =>
  inTempDir(async (dir) => {
    const { logPath, sent } = await logOfTraffic(dir, 'json')
    const lines = linesOf(await readFile(logPath, 'latin1'))
    expect(lines).toHaveLength(sent)
    const compact = linesOf(await runTool('jq', ['-c', '.', logPath]))
    expect(compact.map((line) => JSON.parse(line))).toEqual(lines.map((line) => JSON.parse(line)))
    const agents = linesOf(await runTool('jq', ['-r', '.user_agent // "(none)"', logPath]))
    expect(agents).toContain('a "quoted" agent')
    expect(agents).toContain('ends with a backslash\\')
  }))
