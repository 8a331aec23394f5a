// Watches every write(2) batch the writer hands to writeAll, without writing anything.
import fc from 'fast-check'
import { beforeEach, describe, expect, test, vi } from 'vitest'
import { type AccessLogOptions, createAccessLog, type LogError } from '../src/index.js'
import { type WriteFailure, writeAll } from '../src/write-all.js'
import { makeRecord } from './helpers.js'

vi.mock('../src/write-all.js', () => ({ writeAll: vi.fn() }))

const writeAllMock = vi.mocked(writeAll)
let batches: string[] = []

beforeEach(() => {
  batches = []
  writeAllMock.mockReset()
  writeAllMock.mockImplementation((_fd, batch) => {
    batches.push(batch)
    return undefined
  })
})

function failure(writtenBytes: number): WriteFailure {
  return { error: Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' }), writtenBytes }
}

function linesOf(batch: string): number {
  return batch.split('\n').length - 1
}

async function writeAllOf(targets: string[], options: AccessLogOptions): Promise<string[]> {
  const log = createAccessLog(options)
  const lines = targets.map((target) => makeRecord({ target }))
  for (const record of lines) log.write(record)
  await log.close()
  return batches
}

describe('batches', () => {
  test('hold whole lines, stay within maxBufferBytes unless one line is longer, and keep every line in order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat(400), { maxLength: 60 }),
        fc.integer({ min: 1, max: 1000 }),
        async (lengths, maxBufferBytes) => {
          batches = []
          const targets = lengths.map((length, i) => `/${i}/${'x'.repeat(length)}`)
          const written = await writeAllOf(targets, { path: '/dev/null', flushIntervalMs: 60_000, maxBufferBytes })
          for (const batch of written) {
            expect(batch.endsWith('\n')).toBe(true)
            if (linesOf(batch) > 1) expect(batch.length).toBeLessThanOrEqual(maxBufferBytes)
          }
          const expected = targets.map((target) => `"GET ${target} HTTP/1.0"`)
          expect(written.join('').match(/"GET \S+ HTTP\/1.0"/g) ?? []).toEqual(expected)
        },
      ),
    )
  })

  test('to stdout stay within PIPE_BUF (4096 bytes), so pipe writes are atomic', async () => {
    const targets = Array.from({ length: 500 }, (_, i) => `/${i}`)
    const written = await writeAllOf(targets, { path: '-', flushIntervalMs: 60_000, maxBufferBytes: 65_536 })
    expect(written.length).toBeGreaterThan(1)
    for (const batch of written) expect(batch.length).toBeLessThanOrEqual(4096)
    expect(written.join('').split('\n')).toHaveLength(501)
  })

  test('are written one write(2) each, in call order, to the same fd', async () => {
    const targets = Array.from({ length: 100 }, (_, i) => `/${i}`)
    await writeAllOf(targets, { path: '/dev/null', flushIntervalMs: 60_000, maxBufferBytes: 1000 })
    const fds = new Set(writeAllMock.mock.calls.map(([fd]) => fd))
    expect(fds.size).toBe(1)
    expect(writeAllMock.mock.calls.length).toBe(batches.length)
  })
})

describe('failed batches', () => {
  test('are reported once per failure episode: again only after a write succeeded', async () => {
    const errors: LogError[] = []
    const log = createAccessLog({ path: '/dev/null', flushIntervalMs: 0, onError: (error) => errors.push(error) })
    writeAllMock
      .mockReturnValueOnce(failure(0))
      .mockReturnValueOnce(failure(0))
      .mockReturnValueOnce(undefined)
      .mockReturnValueOnce(failure(0))
    for (let i = 0; i < 5; i++) log.write(makeRecord())
    await log.close()
    expect(errors.map((error) => error.code)).toEqual(['WRITE_FAILED', 'WRITE_FAILED'])
    expect(log.droppedLines).toBe(3)
  })

  test('that leave part of a line in the file make the next batch start on a new line', async () => {
    const log = createAccessLog({ path: '/dev/null', flushIntervalMs: 0, onError: () => {} })
    writeAllMock.mockImplementationOnce((_fd, batch) => {
      batches.push(batch)
      return failure(10) // the kernel took 10 bytes, then the disk was full
    })
    log.write(makeRecord({ target: '/torn' }))
    log.write(makeRecord({ target: '/next' }))
    await log.close()
    expect(batches).toHaveLength(2)
    expect(batches[1]?.startsWith('\n2026-')).toBe(true)
    expect(log.droppedLines).toBe(1)
  })

  test('count only the lines that did not reach the file', async () => {
    const log = createAccessLog({ path: '/dev/null', flushIntervalMs: 60_000, onError: () => {} })
    for (let i = 0; i < 3; i++) log.write(makeRecord({ target: `/${i}` }))
    writeAllMock.mockImplementationOnce((_fd, batch) => failure(batch.indexOf('\n') + 1)) // first line only
    await log.close()
    expect(log.droppedLines).toBe(2)
  })
})
