import { close, open, openSync, writeSync } from 'node:fs'
import { resolve } from 'node:path'
import { LogError, type LogErrorCode } from './errors.js'
import { formatCombinedLine, formatCommonLine } from './format-clf.js'
import { formatJsonLine, formatTextLine } from './format-line.js'
import type { AccessLog, AccessLogOptions, AccessRecord, LogFormat } from './types.js'
import { writeAll } from './write-all.js'

const STDOUT_PATH = '-'
const STDOUT_FD = 1
const STDERR_FD = 2
const NEWLINE = 0x0a
const DEFAULT_FLUSH_INTERVAL_MS = 50
const DEFAULT_MAX_BUFFER_BYTES = 32 * 1024
// One batch is one write(2) that blocks the worker while the page cache takes it: 64 KiB is a few
// microseconds on a local disk, and far below anything that makes Linux split an O_APPEND write.
const MAX_BUFFER_BYTES_LIMIT = 64 * 1024
// POSIX write(2): a write of at most PIPE_BUF bytes (4096 on Linux) to a pipe is atomic; larger ones
// may interleave with other workers' writes when stdout is a pipe they share.
const PIPE_BUF_BYTES = 4096
// Node's timers take at most a signed 32-bit delay.
const MAX_FLUSH_INTERVAL_MS = 2 ** 31 - 1
const EAGAIN_BUDGET_MS = 1000

const FORMATTERS: Readonly<Record<LogFormat, (record: AccessRecord) => string>> = {
  text: formatTextLine,
  json: formatJsonLine,
  combined: formatCombinedLine,
  common: formatCommonLine,
}

// Logs still open when the process exits get a last synchronous flush, so a request that finished
// before process.exit() keeps its line. close() removes a log from this set.
const OPEN_LOGS = new Set<AccessLogWriter>()
let isExitHookInstalled = false

function flushOpenLogs(): void {
  for (const log of OPEN_LOGS) log.flushSync()
}

function reportToStderr(error: LogError): void {
  try {
    writeSync(STDERR_FD, `@threadserve/logger: ${error.code}: ${error.message}\n`)
  } catch {
    // stderr is gone too: nothing is left to tell.
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function openForAppend(path: string): Promise<number> {
  return new Promise((done, fail) => {
    open(path, 'a', (error, fd) => (error === null ? done(fd) : fail(error)))
  })
}

function closeFd(fd: number): Promise<unknown> {
  return new Promise((done) => close(fd, (error) => done(error)))
}

function countNewlines(text: string, start: number, end: number): number {
  let count = 0
  for (let i = text.indexOf('\n', start); i !== -1 && i < end; i = text.indexOf('\n', i + 1)) count++
  return count
}

interface WriterSettings {
  path: string
  format: (record: AccessRecord) => string
  flushIntervalMs: number
  maxBufferBytes: number
  onError: (error: LogError) => void
}

function invalid(message: string): LogError {
  return new LogError('INVALID_OPTIONS', message)
}

// 'text', 'json', 'combined' or 'common': the error names the formats FORMATTERS knows.
const FORMAT_NAMES = Object.keys(FORMATTERS).map((name) => `'${name}'`)
const FORMAT_LIST = `${FORMAT_NAMES.slice(0, -1).join(', ')} or ${FORMAT_NAMES.at(-1)}`

function readSettings(options: AccessLogOptions): WriterSettings {
  if (typeof options !== 'object' || options === null) throw invalid('options must be an object')
  const { path, format = 'text', flushIntervalMs = DEFAULT_FLUSH_INTERVAL_MS } = options
  const { maxBufferBytes = DEFAULT_MAX_BUFFER_BYTES, onError = reportToStderr } = options
  if (typeof path !== 'string' || path.length === 0) throw invalid('path must be a non-empty string')
  if (typeof format !== 'string' || !Object.hasOwn(FORMATTERS, format)) throw invalid(`format must be ${FORMAT_LIST}`)
  if (!(Number.isFinite(flushIntervalMs) && flushIntervalMs >= 0 && flushIntervalMs <= MAX_FLUSH_INTERVAL_MS)) {
    throw invalid(`flushIntervalMs must be a number from 0 to ${MAX_FLUSH_INTERVAL_MS}`)
  }
  if (!(Number.isInteger(maxBufferBytes) && maxBufferBytes >= 1 && maxBufferBytes <= MAX_BUFFER_BYTES_LIMIT)) {
    throw invalid(`maxBufferBytes must be an integer from 1 to ${MAX_BUFFER_BYTES_LIMIT}`)
  }
  if (typeof onError !== 'function') throw invalid('onError must be a function')
  return { path, format: FORMATTERS[format], flushIntervalMs, maxBufferBytes, onError }
}

/**
 * Lines are buffered and written as whole-line batches with one write(2) each on an O_APPEND fd:
 * Linux appends each such write atomically at the end of the file, so workers sharing the file
 * never tear or interleave a line and need no lock. Writes are synchronous, like nginx's
 * `access_log ... buffer=32k flush=...`: one batch costs microseconds, keeps lines in order, and
 * leaves nothing in flight at exit.
 */
class AccessLogWriter implements AccessLog {
  readonly path: string
  readonly #openPath: string
  readonly #isStdout: boolean
  readonly #format: (record: AccessRecord) => string
  readonly #flushIntervalMs: number
  readonly #maxBatchBytes: number
  readonly #onError: (error: LogError) => void
  readonly #onTimer = (): void => {
    this.#timer = undefined
    this.#writePending()
  }
  #fd: number
  #pending = ''
  #pendingLines = 0
  #timer: NodeJS.Timeout | undefined = undefined
  #isClosed = false
  /** A WRITE_FAILED was reported and no write has succeeded since: report the next episode, not every batch. */
  #isFailing = false
  /** A failed write left the start of a line in the file: the next batch starts with '\n'. */
  #isLineTorn = false
  #isClosedReported = false
  #droppedLines = 0
  /** reopen() and close() run one after the other, in call order; this chain never rejects. */
  #lifecycle: Promise<void> = Promise.resolve()

  constructor(settings: WriterSettings) {
    this.path = settings.path
    this.#isStdout = settings.path === STDOUT_PATH
    // Resolved once, so a reopen after process.chdir() still finds the same file.
    this.#openPath = this.#isStdout ? STDOUT_PATH : resolve(settings.path)
    this.#format = settings.format
    this.#flushIntervalMs = settings.flushIntervalMs
    this.#maxBatchBytes = this.#isStdout ? Math.min(settings.maxBufferBytes, PIPE_BUF_BYTES) : settings.maxBufferBytes
    this.#onError = settings.onError
    if (this.#isStdout) {
      this.#fd = STDOUT_FD
    } else {
      try {
        this.#fd = openSync(this.#openPath, 'a')
      } catch (error) {
        throw new LogError('OPEN_FAILED', `cannot open ${settings.path}: ${messageOf(error)}`, { cause: error })
      }
    }
    OPEN_LOGS.add(this)
    if (!isExitHookInstalled) {
      process.on('exit', flushOpenLogs)
      isExitHookInstalled = true
    }
  }

  get droppedLines(): number {
    return this.#droppedLines
  }

  write(record: AccessRecord): void {
    if (this.#isClosed) {
      this.#droppedLines++
      if (!this.#isClosedReported) {
        this.#isClosedReported = true
        this.#report('CLOSED', `write after close of ${this.path}: line dropped`, undefined)
      }
      return
    }
    const line = this.#format(record)
    // Never let a batch outgrow the limit: write what is pending first. A line longer than the
    // limit then goes alone, in one write of its own.
    if (this.#pendingLines > 0 && this.#pending.length + line.length > this.#maxBatchBytes) this.#writePending()
    this.#pending += line
    this.#pendingLines++
    if (this.#pending.length >= this.#maxBatchBytes || this.#flushIntervalMs === 0) {
      this.#writePending()
    } else if (this.#timer === undefined) {
      // unref: a buffered line must never keep a process alive; the exit hook writes it.
      this.#timer = setTimeout(this.#onTimer, this.#flushIntervalMs).unref()
    }
  }

  flush(): Promise<void> {
    this.#writePending()
    return Promise.resolve()
  }

  flushSync(): void {
    this.#writePending()
  }

  reopen(): Promise<void> {
    if (this.#isStdout || this.#isClosed) return this.#lifecycle
    this.#lifecycle = this.#lifecycle.then(() => this.#reopenNow())
    return this.#lifecycle
  }

  close(): Promise<void> {
    if (this.#isClosed) return this.#lifecycle
    this.#writePending()
    this.#isClosed = true
    OPEN_LOGS.delete(this)
    // fd 1 belongs to the process, not to this log.
    if (this.#isStdout) return this.#lifecycle
    this.#lifecycle = this.#lifecycle.then(() => this.#closeQuietly(this.#fd))
    return this.#lifecycle
  }

  async #reopenNow(): Promise<void> {
    let fd: number
    try {
      fd = await openForAppend(this.#openPath)
    } catch (error) {
      // Keep writing to the old file: losing lines is worse than a missed rotation.
      this.#report('REOPEN_FAILED', `cannot reopen ${this.path}: ${messageOf(error)}`, error)
      return
    }
    if (this.#isClosed) {
      // close() already wrote the buffer to the old fd and closes it after this step.
      await this.#closeQuietly(fd)
      return
    }
    // Lines buffered so far belong to the file that logrotate renamed away.
    this.#writePending()
    const oldFd = this.#fd
    this.#fd = fd
    this.#isLineTorn = false // a torn fragment stays in the old file
    await this.#closeQuietly(oldFd)
  }

  async #closeQuietly(fd: number): Promise<void> {
    const error = await closeFd(fd)
    if (error !== null && error !== undefined) {
      this.#report('CLOSE_FAILED', `cannot close ${this.path}: ${messageOf(error)}`, error)
    }
  }

  #writePending(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer)
      this.#timer = undefined
    }
    const lines = this.#pendingLines
    if (lines === 0) return
    const prefixLength = this.#isLineTorn ? 1 : 0
    const batch = this.#isLineTorn ? `\n${this.#pending}` : this.#pending
    this.#pending = ''
    this.#pendingLines = 0
    const failure = writeAll(this.#fd, batch, this.#isFailing ? 0 : EAGAIN_BUDGET_MS)
    if (failure === undefined) {
      this.#isFailing = false
      this.#isLineTorn = false
      return
    }
    const { writtenBytes } = failure
    if (writtenBytes > 0) this.#isLineTorn = batch.charCodeAt(writtenBytes - 1) !== NEWLINE
    this.#droppedLines += lines - countNewlines(batch, prefixLength, writtenBytes)
    if (this.#isFailing) return
    this.#isFailing = true
    this.#report('WRITE_FAILED', `cannot write ${this.path}: ${messageOf(failure.error)}`, failure.error)
  }

  #report(code: LogErrorCode, message: string, cause: unknown): void {
    const error = cause === undefined ? new LogError(code, message) : new LogError(code, message, { cause })
    try {
      this.#onError(error)
    } catch {
      // onError runs inside write(), which must never throw: fall back to stderr.
      reportToStderr(error)
    }
  }
}

/**
 * Opens (creating if needed) the access log at `options.path` for appending; '-' is stdout.
 * Throws LogError OPEN_FAILED or INVALID_OPTIONS; after that, nothing it returns throws or rejects.
 * @example
 * const log = createAccessLog({ path: './server.log', format: 'json' })
 * log.write({ time: Date.now(), workerId: 1, clientAddress: '127.0.0.1', method: 'GET', target: '/',
 *   version: 'HTTP/1.0', status: 200, bytes: 512, durationMs: 0.8 })
 * process.on('SIGHUP', () => void log.reopen())
 */
export function createAccessLog(options: AccessLogOptions): AccessLog {
  return new AccessLogWriter(readSettings(options))
}
