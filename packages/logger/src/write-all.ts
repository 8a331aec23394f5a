import { writeSync } from 'node:fs'

/** Why a write stopped: the error, and how many bytes of the batch reached the file before it. */
export interface WriteFailure {
  error: unknown
  writtenBytes: number
}

const SLEEPER = new Int32Array(new SharedArrayBuffer(4))

function sleepMs(ms: number): void {
  Atomics.wait(SLEEPER, 0, 0, ms)
}

function errorCode(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined
}

/**
 * Writes an ASCII batch with as few write(2) calls as the kernel allows: one, unless it writes
 * short (a full disk, a signal) and the rest follows. EAGAIN only comes from a non-blocking pipe
 * on stdout (libuv sets O_NONBLOCK on it, and the flag is shared by every process holding the
 * pipe); it is retried for up to `eagainBudgetMs`, as sonic-boom does.
 */
export function writeAll(fd: number, batch: string, eagainBudgetMs: number): WriteFailure | undefined {
  let writtenBytes = 0
  let waitedMs = 0
  let rest = batch
  while (rest.length > 0) {
    try {
      const n = writeSync(fd, rest)
      if (n === 0) return { error: new Error('write(2) wrote 0 bytes'), writtenBytes }
      writtenBytes += n
      // ASCII invariant (format-line.ts): bytes and UTF-16 code units count alike.
      rest = n === rest.length ? '' : rest.slice(n)
    } catch (error) {
      if (errorCode(error) === 'EAGAIN' && waitedMs < eagainBudgetMs) {
        sleepMs(1)
        waitedMs++
        continue
      }
      return { error, writtenBytes }
    }
  }
  return undefined
}
