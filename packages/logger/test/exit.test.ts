import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, expect, test } from 'vitest'
import {
  makeTempDir,
  parseTextLine,
  type RunningFixture,
  removeTempDir,
  spawnFixture,
  splitLines,
  stopFixture,
  withTimeout,
} from './helpers.js'

// Generous: tsx start-up alone can take seconds on a busy 2-core machine.
const FIXTURE_TIMEOUT_MS = 60_000

let dir = ''
let running: RunningFixture[] = []

beforeEach(async () => {
  dir = await makeTempDir()
  running = []
})

afterEach(async () => {
  for (const fixture of running) stopFixture(fixture.child)
  await removeTempDir(dir)
})

function run(name: string, args: unknown): RunningFixture {
  const fixture = spawnFixture(name, args)
  running.push(fixture)
  return fixture
}

function seqsOf(text: string): number[] {
  return splitLines(text).map((line) => Number(/^\/c0\/(\d+)\?/.exec(parseTextLine(line)?.target ?? '')?.[1]))
}

const upTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i)

test(
  'a child that calls process.exit() with lines still buffered has all of them in the file',
  async () => {
    const path = join(dir, 'access.log')
    const fixture = run('write-lines.ts', {
      path,
      childId: 0,
      count: 3000,
      end: 'exit',
      options: { flushIntervalMs: 600_000 },
    })
    const result = await withTimeout(fixture, FIXTURE_TIMEOUT_MS)
    expect(result.code).toBe(0)
    expect(seqsOf(await readFile(path, 'latin1'))).toEqual(upTo(3000))
  },
  FIXTURE_TIMEOUT_MS + 10_000,
)

test(
  'a pending flush timer does not keep the process alive, and its lines are still written',
  async () => {
    const path = join(dir, 'access.log')
    const fixture = run('write-lines.ts', {
      path,
      childId: 0,
      count: 10,
      end: 'return',
      options: { flushIntervalMs: 600_000 },
    })
    const result = await withTimeout(fixture, FIXTURE_TIMEOUT_MS)
    expect(result.code).toBe(0)
    expect(seqsOf(await readFile(path, 'latin1'))).toEqual(upTo(10))
  },
  FIXTURE_TIMEOUT_MS + 10_000,
)

test(
  'path "-" writes the lines to stdout',
  async () => {
    const fixture = run('write-lines.ts', {
      path: '-',
      childId: 0,
      count: 500,
      end: 'close',
      options: { format: 'text' },
    })
    const result = await withTimeout(fixture, FIXTURE_TIMEOUT_MS)
    expect(result.code).toBe(0)
    expect(seqsOf(result.stdout)).toEqual(upTo(500))
  },
  FIXTURE_TIMEOUT_MS + 10_000,
)

test(
  'the default onError prints one line to stderr however many writes fail',
  async () => {
    const result = await withTimeout(run('failing-log.ts', {}), FIXTURE_TIMEOUT_MS)
    expect(result.code).toBe(0)
    expect(result.stdout).toBe('dropped 3\n')
    expect(splitLines(result.stderr)).toEqual([
      '@threadserve/logger: WRITE_FAILED: cannot write /dev/full: ENOSPC: no space left on device, write',
    ])
  },
  FIXTURE_TIMEOUT_MS + 10_000,
)
