import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import type { AccessLogOptions, LogFormat } from '../src/index.js'
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

const CHILDREN = 4
const LINES_PER_CHILD = 20_000
const TIMEOUT_MS = 120_000

// Each child batches differently, so the file sees big and small appends, timer flushes, lone
// long lines, and line-at-a-time writes racing each other.
const CHILD_OPTIONS: Omit<AccessLogOptions, 'path' | 'onError'>[] = [
  {},
  { maxBufferBytes: 512 },
  { flushIntervalMs: 0 },
  { flushIntervalMs: 1, maxBufferBytes: 64 * 1024 },
]

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

function targetOf(format: LogFormat, line: string): string | undefined {
  if (format === 'text') return parseTextLine(line)?.target
  try {
    const parsed = JSON.parse(line) as { path?: unknown; status?: unknown }
    return typeof parsed.path === 'string' && parsed.status === 200 ? parsed.path : undefined
  } catch {
    return undefined
  }
}

describe.each(['text', 'json'] as const)('%s format', (format) => {
  test(
    `${CHILDREN} processes x ${LINES_PER_CHILD} lines into one file: every line whole, present, and in its writer's order`,
    async () => {
      const path = join(dir, 'access.log')
      for (let childId = 0; childId < CHILDREN; childId++) {
        const options = { ...CHILD_OPTIONS[childId], format }
        const args = { path, childId, count: LINES_PER_CHILD, end: 'close', waitForGo: true, options }
        running.push(spawnFixture('write-lines.ts', args, true))
      }
      // Start them together, so their writes really overlap.
      await Promise.all(running.map(({ child }) => new Promise((ready) => child.once('message', ready))))
      for (const { child } of running) child.send('go')
      const results = await Promise.all(running.map((fixture) => withTimeout(fixture, TIMEOUT_MS)))
      expect(results.map((result) => result.code)).toEqual([0, 0, 0, 0])

      const lines = splitLines(await readFile(path, 'latin1'))
      expect(lines).toHaveLength(CHILDREN * LINES_PER_CHILD)
      const nextSeq = new Array<number>(CHILDREN).fill(0)
      const malformed: string[] = []
      for (const line of lines) {
        const match = /^\/c(\d)\/(\d+)\?/.exec(targetOf(format, line) ?? '')
        if (match === null) {
          malformed.push(line)
          continue
        }
        const childId = Number(match[1])
        expect(Number(match[2])).toBe(nextSeq[childId])
        nextSeq[childId] = (nextSeq[childId] ?? 0) + 1
      }
      expect(malformed.slice(0, 3)).toEqual([])
      expect(nextSeq).toEqual(new Array(CHILDREN).fill(LINES_PER_CHILD))
    },
    TIMEOUT_MS + 30_000,
  )
})
