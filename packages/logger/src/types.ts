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
  /** Response bytes sent, head and body (nginx's $bytes_sent). */
  bytes: number
  durationMs: number
  /** Response body bytes sent (nginx's $body_bytes_sent); combined and common log `0` without it. */
  bodyBytes?: number | undefined
  /** The User-Agent header as received (latin1, one code unit per byte). */
  userAgent?: string | undefined
  /** The Referer header as received (latin1, one code unit per byte). */
  referer?: string | undefined
  /** The user name of a Basic Authorization header (nginx's $remote_user), latin1 like the headers. */
  remoteUser?: string | undefined
}

/** 'text' and 'json' are ThreadServe's own; 'combined' and 'common' are nginx's, byte for byte. */
export type LogFormat = 'text' | 'json' | 'combined' | 'common'

export interface AccessLogOptions {
  /** File to append to; '-' writes to stdout (fd 1). */
  path: string
  /** 'text' (the default), 'json' (one JSON object a line), or nginx's 'combined' or 'common'. */
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
