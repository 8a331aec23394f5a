import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { type AccessLog, type AccessLogOptions, createAccessLog, LogError, type LogErrorCode } from '../src/index.js'
import { makeRecord, makeTempDir, parseTextLine, removeTempDir, splitLines } from './helpers.js'

let dir = ''
let logs: AccessLog[] = []

beforeEach(async () => {
  dir = await makeTempDir()
  logs = []
})

afterEach(async () => {
  for (const log of logs) await log.close()
  await removeTempDir(dir)
})

function open(options: Partial<AccessLogOptions> = {}): AccessLog {
  const log = createAccessLog({ path: join(dir, 'access.log'), flushIntervalMs: 60_000, ...options })
  logs.push(log)
  return log
}

async function readLines(path = join(dir, 'access.log')): Promise<string[]> {
  return splitLines(await readFile(path, 'latin1'))
}

function targetsOf(lines: string[]): string[] {
  return lines.map((line) => parseTextLine(line)?.target ?? `malformed: ${line}`)
}

function collectErrors(): { errors: LogError[]; onError: (error: LogError) => void } {
  const errors: LogError[] = []
  return { errors, onError: (error) => errors.push(error) }
}

const upTo = (n: number): string[] => Array.from({ length: n }, (_, i) => `/${i}`)

describe('buffering', () => {
  test('keeps lines in memory until flush, then writes them all', async () => {
    const log = open()
    for (const target of upTo(10)) log.write(makeRecord({ target }))
    expect(await readLines()).toEqual([])
    await log.flush()
    expect(targetsOf(await readLines())).toEqual(upTo(10))
  })

  test('flushSync writes the buffer before it returns', async () => {
    const log = open()
    log.write(makeRecord({ target: '/sync' }))
    log.flushSync()
    expect(targetsOf(await readLines())).toEqual(['/sync'])
  })

  test('writes the buffer on its own once it reaches maxBufferBytes', async () => {
    const log = open({ maxBufferBytes: 300 })
    for (const target of upTo(5)) log.write(makeRecord({ target })) // about 80 bytes a line
    const lines = await readLines()
    expect(lines.length).toBeGreaterThanOrEqual(3)
    expect(targetsOf(lines)).toEqual(upTo(lines.length))
  })

  test('writes every line at once when flushIntervalMs is 0', async () => {
    const log = open({ flushIntervalMs: 0 })
    log.write(makeRecord({ target: '/now' }))
    expect(targetsOf(await readLines())).toEqual(['/now'])
  })

  test('writes buffered lines after flushIntervalMs without being asked', async () => {
    const log = open({ flushIntervalMs: 10 })
    log.write(makeRecord({ target: '/timer' }))
    // Time-based behaviour: the bound is generous for a noisy machine.
    const deadline = Date.now() + 10_000
    while ((await readLines()).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    expect(targetsOf(await readLines())).toEqual(['/timer'])
  })

  test('writes a line longer than the buffer whole', async () => {
    const log = open({ maxBufferBytes: 64 })
    const long = `/${'x'.repeat(5000)}`
    log.write(makeRecord({ target: '/a' }))
    log.write(makeRecord({ target: long }))
    log.write(makeRecord({ target: '/b' }))
    await log.flush()
    expect(targetsOf(await readLines())).toEqual(['/a', long, '/b'])
  })

  test('appends to an existing file instead of truncating it', async () => {
    await writeFile(join(dir, 'access.log'), 'earlier line\n')
    const log = open()
    log.write(makeRecord())
    await log.close()
    expect((await readLines())[0]).toBe('earlier line')
    expect(await readLines()).toHaveLength(2)
  })

  test('writes JSON lines with format json', async () => {
    const log = open({ format: 'json' })
    log.write(makeRecord({ target: '/j' }))
    await log.close()
    const lines = await readLines()
    expect(lines.map((line) => JSON.parse(line).path)).toEqual(['/j'])
  })

  test.each(['combined', 'common'] as const)('writes nginx %s lines with format %s', async (format) => {
    const log = open({ format })
    log.write(makeRecord({ target: '/n', bodyBytes: 7, userAgent: 'ua' }))
    await log.close()
    const suffix = format === 'combined' ? ' "-" "ua"' : ''
    expect(await readLines()).toEqual([`127.0.0.1 - - [25/Nov/2026:19:02:38 +0000] "GET /n HTTP/1.0" 200 7${suffix}`])
  })
})

describe('close', () => {
  test('writes what is buffered', async () => {
    const log = open()
    for (const target of upTo(3)) log.write(makeRecord({ target }))
    await log.close()
    expect(targetsOf(await readLines())).toEqual(upTo(3))
  })

  test('drops and counts later writes, reporting CLOSED once', async () => {
    const { errors, onError } = collectErrors()
    const log = open({ onError })
    await log.close()
    expect(() => {
      log.write(makeRecord())
      log.write(makeRecord())
    }).not.toThrow()
    expect(log.droppedLines).toBe(2)
    expect(errors.map((error) => error.code)).toEqual(['CLOSED'])
    expect(await readLines()).toEqual([])
  })

  test('can be called twice, and reopen after it does nothing', async () => {
    const log = open()
    log.write(makeRecord())
    await Promise.all([log.close(), log.close()])
    await log.reopen()
    await log.close()
    expect(await readLines()).toHaveLength(1)
  })
})

describe('createAccessLog', () => {
  test('throws OPEN_FAILED when the file cannot be opened', () => {
    const error = captureError(() => createAccessLog({ path: join(dir, 'missing', 'access.log') }))
    expect(error).toBeInstanceOf(LogError)
    expect((error as LogError).code).toBe('OPEN_FAILED')
  })

  test('throws OPEN_FAILED when the path is a directory', () => {
    expect(codeOf(() => createAccessLog({ path: dir }))).toBe('OPEN_FAILED')
  })

  test.each([
    { name: 'an empty path', options: { path: '' } },
    { name: 'an unknown format', options: { path: 'x.log', format: 'xml' } },
    { name: 'a format named like an Object method', options: { path: 'x.log', format: 'toString' } },
    { name: 'a negative flush interval', options: { path: 'x.log', flushIntervalMs: -1 } },
    { name: 'a NaN flush interval', options: { path: 'x.log', flushIntervalMs: Number.NaN } },
    { name: 'a zero buffer', options: { path: 'x.log', maxBufferBytes: 0 } },
    { name: 'a buffer over 64 KiB', options: { path: 'x.log', maxBufferBytes: 64 * 1024 + 1 } },
    { name: 'a fractional buffer', options: { path: 'x.log', maxBufferBytes: 1.5 } },
    { name: 'an onError that is no function', options: { path: 'x.log', onError: 'stderr' } },
  ])('throws INVALID_OPTIONS for $name', ({ options }) => {
    expect(codeOf(() => createAccessLog(options as unknown as AccessLogOptions))).toBe('INVALID_OPTIONS')
  })
})

describe('reopen', () => {
  test('after a logrotate-style rename, old lines stay in the renamed file and new lines go to a new one', async () => {
    const log = open()
    for (const target of ['/1', '/2']) log.write(makeRecord({ target }))
    await log.flush()
    log.write(makeRecord({ target: '/3' })) // still buffered at rotation time
    await rename(join(dir, 'access.log'), join(dir, 'access.log.1'))
    await log.reopen()
    log.write(makeRecord({ target: '/4' }))
    await log.close()
    expect(targetsOf(await readLines(join(dir, 'access.log.1')))).toEqual(['/1', '/2', '/3'])
    expect(targetsOf(await readLines())).toEqual(['/4'])
  })

  test('loses no line and keeps order when reopens and a close overlap with writes', async () => {
    const log = open({ maxBufferBytes: 200 })
    const pending: Promise<void>[] = []
    for (let i = 0; i < 300; i++) {
      log.write(makeRecord({ target: `/${i}` }))
      if (i % 50 === 0) pending.push(log.reopen()) // not awaited: they run while lines keep coming
      if (i % 70 === 0) await new Promise((r) => setImmediate(r))
    }
    pending.push(log.close())
    await Promise.all(pending)
    expect(targetsOf(await readLines())).toEqual(upTo(300))
  })

  test('reports REOPEN_FAILED and keeps writing to the old file when the path cannot be opened', async () => {
    const { errors, onError } = collectErrors()
    await mkdir(join(dir, 'logs'))
    const log = open({ path: join(dir, 'logs', 'access.log'), onError })
    log.write(makeRecord({ target: '/before' }))
    await rename(join(dir, 'logs'), join(dir, 'moved'))
    await expect(log.reopen()).resolves.toBeUndefined()
    log.write(makeRecord({ target: '/after' }))
    await log.close()
    expect(errors.map((error) => error.code)).toEqual(['REOPEN_FAILED'])
    expect(targetsOf(await readLines(join(dir, 'moved', 'access.log')))).toEqual(['/before', '/after'])
  })
})

describe('write errors', () => {
  test('are reported once, with the cause, and never thrown', async () => {
    const { errors, onError } = collectErrors()
    const log = open({ path: '/dev/full', onError }) // opens fine, every write fails with ENOSPC
    expect(() => {
      for (let i = 0; i < 3; i++) {
        log.write(makeRecord())
        log.flushSync()
      }
    }).not.toThrow()
    await expect(log.close()).resolves.toBeUndefined()
    expect(errors.map((error) => error.code)).toEqual(['WRITE_FAILED'])
    expect((errors[0]?.cause as NodeJS.ErrnoException | undefined)?.code).toBe('ENOSPC')
    expect(log.droppedLines).toBe(3)
  })

  test('do not escape write() even when onError throws', async () => {
    const log = open({
      path: '/dev/full',
      flushIntervalMs: 0,
      onError: () => {
        throw new Error('broken handler')
      },
    })
    expect(() => log.write(makeRecord())).not.toThrow()
    expect(log.droppedLines).toBe(1)
  })
})

function captureError(run: () => unknown): unknown {
  try {
    run()
  } catch (error) {
    return error
  }
  return undefined
}

function codeOf(run: () => unknown): LogErrorCode | undefined {
  const error = captureError(run)
  return error instanceof LogError ? error.code : undefined
}
