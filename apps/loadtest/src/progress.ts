import type { RunProgress } from './run.js'

/**
 * A live progress line on a TTY, rewritten in place: requests done, the rate over the last
 * interval, errors. Silent when the stream is not a TTY (piped, redirected, CI).
 * @example
 * const line = createProgressLine(process.stderr)
 * runLoad(options, { onProgress: line.update }).finally(line.clear)
 */
export function createProgressLine(stream: NodeJS.WriteStream): {
  update: (progress: RunProgress) => void
  clear: () => void
} {
  const startMs = Date.now()
  let lastMs = startMs
  let lastCompleted = 0
  let shown = false
  return {
    update(progress: RunProgress): void {
      if (!stream.isTTY) return
      const now = Date.now()
      const rate = now > lastMs ? ((progress.completed - lastCompleted) * 1000) / (now - lastMs) : 0
      lastMs = now
      lastCompleted = progress.completed
      const seconds = ((now - startMs) / 1000).toFixed(1)
      const text = `[${seconds}s] ${progress.completed.toLocaleString('en-US')} requests, ${Math.round(rate).toLocaleString('en-US')} req/s, ${progress.errors.toLocaleString('en-US')} errors`
      stream.write(`\r\x1b[2K${text}`)
      shown = true
    },
    clear(): void {
      if (shown) stream.write('\r\x1b[2K')
      shown = false
    },
  }
}
