import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { parseConfig } from '../src/config/config.js'
import { loadConfig } from '../src/config/load-config.js'
import { UsageError } from '../src/config/usage-error.js'

// The settings loader on its own: flags, environment, defaults, and one clear UsageError for
// every bad value. (test-reliability/config-ipc.test.ts runs a few of these through the real
// command, plus the checks only a start-up can make: a busy port, a missing root.)

const BASE_DIR = path.resolve('/srv/site')
// A directory that exists, for DIR (checked when the settings are read).
const SITE = mkdtempSync(path.join(tmpdir(), 'threadserve-dir-'))
writeFileSync(path.join(SITE, 'a-file'), 'not a directory\n')
afterAll(() => rmSync(SITE, { recursive: true, force: true }))

function load(args: string[], env: Record<string, string> = {}) {
  const result = loadConfig(args, { INIT_CWD: BASE_DIR, ...env })
  if (result.kind !== 'run') throw new Error(`expected settings, got ${result.kind}`)
  return result.config
}

function usageErrorOf(args: string[], env: Record<string, string> = {}): string {
  try {
    load(args, env)
  } catch (error) {
    if (error instanceof UsageError) return error.message
    throw error
  }
  throw new Error('expected a UsageError')
}

describe('defaults', () => {
  test('with no flags, every setting has the documented default', () => {
    const config = load([])
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      workers: 5,
      poolSize: 20,
      maxPosts: 5,
      root: BASE_DIR,
      uploadDir: path.join(BASE_DIR, 'uploads'),
      maxBodyBytes: 64 * 1024 * 1024,
      maxRequestLineBytes: 8 * 1024,
      maxHeaderBytes: 16 * 1024,
      maxHeaderCount: 100,
      headerTimeoutMs: 10_000,
      bodyTimeoutMs: 30_000,
      logPath: '-',
      logFormat: 'combined',
      shutdownGraceMs: 10_000,
      pidFile: null,
      uploadAuth: null,
      listDirectories: false,
    })
  })

  test('the settings are frozen all the way down', () => {
    const config = load(['--upload-auth', 'ann:secret'])
    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(config.uploadAuth)).toBe(true)
    expect(Object.isFrozen(config.uploadAuth?.[0])).toBe(true)
  })
})

describe('sources', () => {
  test('a flag wins over the environment, which wins over the default', () => {
    expect(load(['--workers', '3'], { THREADSERVE_WORKERS: '7' }).workers).toBe(3)
    expect(load([], { THREADSERVE_WORKERS: '7' }).workers).toBe(7)
  })

  test('relative paths resolve against the directory the command was run from', () => {
    const config = load(['--root', 'public', '--log', 'logs/access.log', '--pid-file', 'run/ts.pid'])
    expect(config.root).toBe(path.join(BASE_DIR, 'public'))
    expect(config.uploadDir).toBe(path.join(BASE_DIR, 'public', 'uploads'))
    expect(config.logPath).toBe(path.join(BASE_DIR, 'logs', 'access.log'))
    expect(config.pidFile).toBe(path.join(BASE_DIR, 'run', 'ts.pid'))
  })

  test("'-' as the log means standard output", () => {
    expect(load(['--log', '-']).logPath).toBe('-')
  })

  test('a leading -- (as pnpm passes it) is ignored', () => {
    expect(load(['--', '--port', '0']).port).toBe(0)
  })

  test.each([
    ['1', true],
    ['yes', true],
    ['TRUE', true],
    ['0', false],
    ['no', false],
    ['', false],
  ])('THREADSERVE_LIST=%j is %s', (text, expected) => {
    expect(load([], { THREADSERVE_LIST: text }).listDirectories).toBe(expected)
  })

  test('sizes and durations take units; a bare duration is seconds', () => {
    const config = load(['--max-body', '1.5GiB', '--header-timeout', '2', '--body-timeout', '750ms'])
    expect(config.maxBodyBytes).toBe(1.5 * 1024 ** 3)
    expect(config.headerTimeoutMs).toBe(2000)
    expect(config.bodyTimeoutMs).toBe(750)
  })

  test('-p and -a are --port and --host', () => {
    expect(load(['-p', '9000', '-a', '0.0.0.0'])).toMatchObject({ port: 9000, host: '0.0.0.0' })
  })

  test('PORT is read when neither --port nor THREADSERVE_PORT is given', () => {
    expect(load([], { PORT: '5000' }).port).toBe(5000)
    expect(load([], { PORT: '5000', THREADSERVE_PORT: '6000' }).port).toBe(6000)
    expect(load(['-p', '7000'], { PORT: '5000', THREADSERVE_PORT: '6000' }).port).toBe(7000)
  })

  test('DIR, the one argument, is the root, and wins over THREADSERVE_ROOT', () => {
    const config = load([SITE, '-p', '0'], { THREADSERVE_ROOT: '/elsewhere' })
    expect(config.root).toBe(SITE)
    expect(config.uploadDir).toBe(path.join(SITE, 'uploads'))
    expect(load(['--', SITE]).root).toBe(SITE)
  })

  test('a DIR that is a file is refused, naming DIR', () => {
    expect(usageErrorOf([path.join(SITE, 'a-file')])).toBe(`DIR: ${path.join(SITE, 'a-file')} is not a directory`)
  })

  test('--help and --version answer without reading any setting', () => {
    expect(loadConfig(['--help', '--port', 'nonsense'], {}).kind).toBe('help')
    expect(loadConfig(['-v'], {}).kind).toBe('version')
  })
})

const BAD: { name: string; args?: string[]; env?: Record<string, string>; names: string }[] = [
  { name: 'port above 65535', args: ['--port', '65536'], names: '--port' },
  { name: 'negative port', args: ['--port', '-1'], names: '--port' },
  { name: 'port not a number', args: ['--port', 'http'], names: '--port' },
  { name: 'empty port', args: ['--port', ''], names: '--port' },
  { name: 'zero workers', args: ['--workers', '0'], names: '--workers' },
  { name: 'fractional workers', args: ['--workers', '1.5'], names: '--workers' },
  { name: 'too many workers', args: ['--workers', '1000'], names: '--workers' },
  { name: 'zero pool size', args: ['--pool-size', '0'], names: '--pool-size' },
  { name: 'negative queue size', args: ['--queue-size', '-3'], names: '--queue-size' },
  { name: 'zero max posts', args: ['--max-posts', '0'], names: '--max-posts' },
  { name: 'zero backlog', args: ['--backlog', '0'], names: '--backlog' },
  { name: 'zero max body', args: ['--max-body', '0'], names: '--max-body' },
  { name: 'unknown size unit', args: ['--max-body', '10XB'], names: '--max-body' },
  { name: 'size beyond 2^53', args: ['--max-body', '99999999999999999999'], names: '--max-body' },
  { name: 'request line under 64 bytes', args: ['--max-request-line', '10'], names: '--max-request-line' },
  { name: 'zero header timeout', args: ['--header-timeout', '0'], names: '--header-timeout' },
  { name: 'header timeout not a duration', args: ['--header-timeout', 'soon'], names: '--header-timeout' },
  { name: 'a timeout longer than a timer holds', args: ['--header-timeout', '1000h'], names: '--header-timeout' },
  { name: 'body timeout longer than a timer holds', args: ['--body-timeout', '600h'], names: '--body-timeout' },
  { name: 'shutdown grace longer than a timer holds', args: ['--shutdown-grace', '9999h'], names: '--shutdown-grace' },
  { name: 'negative duration', args: ['--body-timeout', '-5s'], names: '--body-timeout' },
  { name: 'unknown log format', args: ['--log-format', 'xml'], names: '--log-format' },
  { name: 'unknown balance mode', args: ['--balance', 'random'], names: '--balance' },
  { name: 'unknown flag', args: ['--no-such-flag', '1'], names: 'no-such-flag' },
  { name: 'two directories', args: ['site', 'more'], names: 'more' },
  { name: 'a directory as DIR and as --root', args: ['site', '--root', 'site'], names: 'DIR and --root' },
  { name: 'a DIR that does not exist', args: ['no-such-site'], names: 'DIR: /srv/site/no-such-site does not exist' },
  { name: 'a short flag without its value', args: ['-p'], names: '-p' },
  { name: 'a value for a boolean flag', args: ['--list=maybe'], names: '--list' },
  { name: 'empty host', args: ['--host', ''], names: '--host' },
  { name: 'user:password with an empty password', args: ['--upload-auth', 'ann:'], names: '--upload-auth' },
  { name: '--auth-all without --upload-auth', args: ['--auth-all'], names: '--auth-all' },
  { name: 'env: port not a number', env: { THREADSERVE_PORT: 'eighty' }, names: 'THREADSERVE_PORT' },
  { name: 'env: PORT not a number', env: { PORT: 'eighty' }, names: 'PORT' },
  { name: 'env: zero workers', env: { THREADSERVE_WORKERS: '0' }, names: 'THREADSERVE_WORKERS' },
  { name: 'env: bad log format', env: { THREADSERVE_LOG_FORMAT: 'yaml' }, names: 'THREADSERVE_LOG_FORMAT' },
  { name: 'env: bad size', env: { THREADSERVE_MAX_BODY: 'lots' }, names: 'THREADSERVE_MAX_BODY' },
  { name: 'env: negative duration', env: { THREADSERVE_HEADER_TIMEOUT: '-1' }, names: 'THREADSERVE_HEADER_TIMEOUT' },
  { name: 'env: pool size too large', env: { THREADSERVE_POOL_SIZE: '99999999' }, names: 'THREADSERVE_POOL_SIZE' },
  { name: 'env: bad boolean', env: { THREADSERVE_KEEP_ALIVE: 'sometimes' }, names: 'THREADSERVE_KEEP_ALIVE' },
]

test.each(BAD)('$name: a one-line UsageError naming $names', ({ args = [], env = {}, names }) => {
  const message = usageErrorOf(args, env)
  expect(message).toContain(names)
  expect(message).not.toContain('\n')
})

describe('the worker side', () => {
  test('settings a supervisor built pass the same check in a worker, as JSON', () => {
    const config = load(['--port', '0', '--upload-auth', 'ann:secret'])
    expect(parseConfig(JSON.parse(JSON.stringify(config)))).toEqual(config)
  })

  test.each([
    ['a missing setting', (c: Record<string, unknown>) => delete c.port],
    ['an unknown setting', (c: Record<string, unknown>) => (c.extra = 1)],
    ['a value of the wrong type', (c: Record<string, unknown>) => (c.workers = '5')],
    ['a value out of range', (c: Record<string, unknown>) => (c.poolSize = 0)],
    ['a malformed credential', (c: Record<string, unknown>) => (c.uploadAuth = [{ user: 'ann' }])],
  ])('settings with %s are refused', (_name, spoil) => {
    const config = JSON.parse(JSON.stringify(load([]))) as Record<string, unknown>
    spoil(config)
    expect(() => parseConfig(config)).toThrow(/invalid settings/)
  })
})
