import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import type { AccessRecord } from '../src/index.js'

export const FIXTURE_DIR: string = join(import.meta.dirname, 'fixtures')
const PACKAGE_DIR = join(import.meta.dirname, '..')

// What formatTextLine promises: every field but the quoted request line is one run of visible
// ASCII, and the request line is exactly three such runs with no '"' inside.
const TEXT_LINE =
  /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z|-) w(-?\d+|-) ([!#-~]+) "([!#-~]+) ([!#-~]+) ([!#-~]+)" (-?\d+|-) (-?\d+|-) (-?\d+(?:\.\d+)?(?:e[-+]\d+)?ms|-)$/

export interface TextLine {
  time: string
  worker: string
  client: string
  method: string
  target: string
  version: string
  status: string
  bytes: string
  duration: string
}

/** Reverses escapeTextField: `\xHH` and `\uHHHH` are the only escapes it writes. */
export function unescapeTextField(field: string): string {
  return field.replace(/\\x([0-9a-f]{2})|\\u([0-9a-f]{4})/g, (_, byte: string | undefined, unit: string | undefined) =>
    String.fromCharCode(Number.parseInt(byte ?? unit ?? '', 16)),
  )
}

/** Parses one text line (without its '\n'), or returns undefined when it is not well-formed. */
export function parseTextLine(line: string): TextLine | undefined {
  const match = TEXT_LINE.exec(line)
  if (match === null) return undefined
  const [, time, worker, client, method, target, version, status, bytes, duration] = match as unknown as string[]
  // A backslash that starts no escape would mean a field was not escaped.
  for (const field of [client, method, target, version]) {
    if (/\\(?!x[0-9a-f]{2}|u[0-9a-f]{4})/.test(field as string)) return undefined
  }
  return {
    time: time as string,
    worker: worker as string,
    client: unescapeTextField(client as string),
    method: unescapeTextField(method as string),
    target: unescapeTextField(target as string),
    version: unescapeTextField(version as string),
    status: status as string,
    bytes: bytes as string,
    duration: duration as string,
  }
}

/** The lines of a log file's text, checking that it ends with a newline (no torn last line). */
export function splitLines(text: string): string[] {
  if (text.length === 0) return []
  if (!text.endsWith('\n')) throw new Error('log does not end with a newline')
  return text.slice(0, -1).split('\n')
}

export function makeRecord(overrides: Partial<AccessRecord> = {}): AccessRecord {
  return {
    time: Date.UTC(2026, 10, 25, 19, 2, 38, 123),
    workerId: 3,
    clientAddress: '127.0.0.1',
    method: 'GET',
    target: '/test.txt',
    version: 'HTTP/1.0',
    status: 200,
    bytes: 1234,
    durationMs: 1.2,
    ...overrides,
  }
}

export async function makeTempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'threadserve-logger-'))
}

export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true })
}

export interface FixtureResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface RunningFixture {
  child: ChildProcess
  result: Promise<FixtureResult>
}

/** Runs test/fixtures/<name> under tsx with one JSON argument; `ipc` opens a message channel. */
export function spawnFixture(name: string, args: unknown, ipc = false): RunningFixture {
  const child = spawn(process.execPath, ['--import', 'tsx', join(FIXTURE_DIR, name), JSON.stringify(args)], {
    cwd: PACKAGE_DIR,
    stdio: ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('latin1').on('data', (chunk: string) => {
    stdout += chunk
  })
  child.stderr?.setEncoding('latin1').on('data', (chunk: string) => {
    stderr += chunk
  })
  const result = new Promise<FixtureResult>((done, fail) => {
    child.once('error', fail)
    child.once('close', (code, signal) => done({ code, signal, stdout, stderr }))
  })
  return { child, result }
}

/** Stops a fixture that is still running, by its pid. */
export function stopFixture(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
}

/** Resolves with the fixture's result, or rejects (and stops it) after `timeoutMs`. */
export function withTimeout(fixture: RunningFixture, timeoutMs: number): Promise<FixtureResult> {
  return new Promise((done, fail) => {
    const timer = setTimeout(() => {
      stopFixture(fixture.child)
      fail(new Error(`fixture did not exit within ${timeoutMs} ms`))
    }, timeoutMs)
    fixture.result.then(
      (result) => {
        clearTimeout(timer)
        done(result)
      },
      (error: unknown) => {
        clearTimeout(timer)
        fail(error)
      },
    )
  })
}

/** Any access record whose text fields are drawn from `text` (the properties of the formats). */
export function anyRecord(text: fc.Arbitrary<string>): fc.Arbitrary<AccessRecord> {
  return fc.record<AccessRecord>({
    time: fc.integer({ min: 0, max: 4_102_444_800_000 }),
    workerId: fc.nat(64),
    clientAddress: text,
    method: text,
    target: text,
    version: text,
    status: fc.integer({ min: 100, max: 599 }),
    bytes: fc.nat(),
    durationMs: fc.double({ min: 0, max: 1e6, noNaN: true }),
    bodyBytes: fc.option(fc.nat(), { nil: undefined }),
    userAgent: fc.option(text, { nil: undefined }),
    referer: fc.option(text, { nil: undefined }),
    remoteUser: fc.option(text, { nil: undefined }),
  })
}
