import type { LogError } from './errors.js'

/** One finished request, as the worker saw it. */
export interface AccessRecord {
  /** Epoch milliseconds: when the request started, or Date.now() at completion (the caller decides). */
  time: number
  workerId: number
  /** e.g. '127.0.0.1', '::1', or '-' when unknown. */
  clientAddress: string
  /** '-' when the request line could not be parsed. */
  method: string
  /** The raw request target, '-' when unknown. */
  target: string
  /** e.g. 'HTTP/1.0', 'HTTP/1.1', 'HTTP/0.9', or '-'. */
  version: string
  status: number
  /** Response bytes sent, head and body. */
  bytes: number
  durationMs: number
}

export type LogFormat = 'text' | 'json'

export interface AccessLogOptions {
  /** File to append to; '-' writes to stdout (fd 1). */
  path: string
  /** 'text' (Common-Log-Format-like, the default) or 'json' (one JSON object a line). */
  format?: LogFormat
  /** Longest time a line waits in the buffer; 0 writes every line at once. Default 50. */
  flushIntervalMs?: number
  /** Write the buffer once it holds this many bytes; 1 to 65536, default 32768. */
  maxBufferBytes?: number
  /** Called once per failure episode; the default prints one line to stderr. Never throws into write(). */
  onError?: (error: LogError) => void
}

export interface AccessLog {
  /** Queues one line; never throws and never waits (errors go to onError). */
  write(record: AccessRecord): void
  /** Writes the buffered lines now. Never rejects. */
  flush(): Promise<void>
  /** Writes the buffered lines now, synchronously: for process.on('exit') and shutdown paths. */
  flushSync(): void
  /** Log rotation: buffered lines go to the old file, later lines to a fresh open of `path`. Never rejects. */
  reopen(): Promise<void>
  /** Writes what is buffered and closes the file; later writes are dropped and counted. Never rejects. */
  close(): Promise<void>
  /** The path as given to createAccessLog ('-' for stdout). */
  readonly path: string
  /** Lines lost to write errors or written after close(). */
  readonly droppedLines: number
}
