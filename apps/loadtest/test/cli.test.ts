import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import * as hdr from 'hdr-histogram-js'
import { afterEach, describe, expect, test } from 'vitest'
import { reply, startTinyServer, type TinyServer } from './helpers/tiny-server.js'

// The built CLI (turbo builds before test), as a user runs it: exit codes, one-line errors,
// --json, and --workers merging the reports of forked generator processes.

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url))
const run = promisify(execFile)

interface CliResult {
  code: number
  stdout: string
  stderr: string
}

async function cli(...args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [MAIN, ...args], { timeout: 30_000 })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string }
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' }
  }
}

const servers: TinyServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()))
})

describe('bad arguments: one clear line, exit 2', () => {
  test.each([
    { name: 'no URL', args: [] },
    { name: 'two URLs', args: ['http://127.0.0.1:1/', 'http://127.0.0.1:2/'] },
    { name: 'not a URL', args: ['nope'] },
    { name: 'https', args: ['https://127.0.0.1/'] },
    { name: 'zero connections', args: ['http://127.0.0.1:1/', '-c', '0'] },
    { name: 'fractional connections', args: ['http://127.0.0.1:1/', '-c', '1.5'] },
    { name: 'bad duration', args: ['http://127.0.0.1:1/', '-d', 'soon'] },
    { name: 'zero duration', args: ['http://127.0.0.1:1/', '-d', '0s'] },
    { name: 'bad rate', args: ['http://127.0.0.1:1/', '--rate', 'fast'] },
    { name: 'bad size', args: ['http://127.0.0.1:1/', '--body-size', '1XB'] },
    { name: 'body file and size', args: ['http://127.0.0.1:1/', '-b', 'a', '-s', '1'] },
    { name: 'missing body file', args: ['http://127.0.0.1:1/', '-b', '/nonexistent/body', '-n', '1'] },
    { name: 'more workers than connections', args: ['http://127.0.0.1:1/', '-w', '3', '-c', '2'] },
    { name: 'lowercase method', args: ['http://127.0.0.1:1/', '-m', 'get'] },
    { name: 'header without colon', args: ['http://127.0.0.1:1/', '-H', 'nocolon'] },
    { name: 'bad sha256', args: ['http://127.0.0.1:1/', '--expect-sha256', 'abc'] },
    { name: 'status out of range', args: ['http://127.0.0.1:1/', '--expect-status', '99'] },
    { name: 'unknown option', args: ['http://127.0.0.1:1/', '--frobnicate'] },
  ])('$name', async ({ args }) => {
    const result = await cli(...args)
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(result.stderr).toMatch(/^loadtest: /)
  })
})

test('--help prints the usage and exits 0', async () => {
  const result = await cli('--help')
  expect(result.code).toBe(0)
  expect(result.stdout).toContain('--connections')
  expect(result.stdout).toContain('--rate')
})

test('--version matches package.json', async () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  expect((await cli('--version')).stdout.trim()).toBe(`loadtest ${pkg.version}`)
})

test('--workers merges the generator processes into one exact report', async () => {
  const server = await startTinyServer((socket) => reply(socket, 'hello'))
  servers.push(server)
  const result = await cli(server.url, '-n', '601', '-c', '6', '-w', '3', '--json')
  expect(result.code).toBe(0)
  const report = JSON.parse(result.stdout) as {
    requests: number
    workers: number
    statusCounts: Record<string, number>
    histogram: string
  }
  expect(report.workers).toBe(3)
  expect(report.requests).toBe(601)
  expect(report.statusCounts).toEqual({ '200': 601 })
  expect(server.requests()).toBe(601)
  expect(hdr.decodeFromCompressedBase64(report.histogram).totalCount).toBe(601)
})

test('piped output has no progress line, and the text report names the counts', async () => {
  const server = await startTinyServer((socket) => reply(socket))
  servers.push(server)
  const result = await cli(server.url, '-n', '50', '-c', '2')
  expect(result.code).toBe(0)
  expect(result.stderr).toBe('')
  expect(result.stdout).toContain('requests   50 in')
  expect(result.stdout).toContain('200: 50')
})
