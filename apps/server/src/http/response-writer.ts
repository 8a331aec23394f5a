import type { FileHandle } from 'node:fs/promises'
import type { Socket } from 'node:net'
import { type HeaderList, responseHead } from './responses.js'

// Putting a response on the wire: the head and a body in one writev, or the head and a file
// streamed after it. The connection decides whether the connection persists; this writes what
// that means (Connection: keep-alive and a callback once written, or a half-close).

const EMPTY = Buffer.alloc(0)
const STREAM_CHUNK_BYTES = 64 * 1024

export interface ResponseFrame {
  readonly status: number
  readonly headers: HeaderList
  /** An HTTP/0.9 Simple-Response is the body alone (RFC 1945 §6). */
  readonly withHead: boolean
  /** Keep the connection: `onWritten` is called once the response is handed to the kernel. */
  readonly persist: boolean
}

/**
 * Writes a whole response; returns the head's size in bytes. Not persistent: ends our side (a
 * half-close: later request bytes are read and dropped by the caller, a lingering close).
 */
export function writeResponse(
  socket: Socket,
  frame: ResponseFrame,
  body: string | Buffer | null,
  contentLength: number | undefined,
  onWritten: (error?: Error | null) => void,
): number {
  if (socket.destroyed || socket.writableEnded) return 0
  const bodyBytes = body === null ? null : typeof body === 'string' ? Buffer.from(body) : body
  socket.cork() // head and body leave in one writev; end() or uncork() sends them
  const head = frame.withHead
    ? responseHead(frame.status, contentLength ?? bodyBytes?.length ?? 0, frame.headers, frame.persist)
    : ''
  if (head !== '') socket.write(head, 'latin1')
  if (frame.persist) {
    socket.write(bodyBytes ?? EMPTY, onWritten)
    socket.uncork()
  } else {
    if (bodyBytes !== null) socket.write(bodyBytes)
    socket.end()
    socket.resume()
  }
  return head.length
}

/**
 * Writes the head, then exactly `size` bytes of `handle` (Content-Length promises that many,
 * even if the file grows meanwhile). Returns the stream, for the caller to destroy if the client
 * goes, and the head's size. A file that shrinks under us delivers fewer bytes than promised: the client must see a
 * truncated response (a reset), not a short one that looks complete.
 */
export function streamResponse(
  socket: Socket,
  frame: ResponseFrame,
  handle: FileHandle,
  size: number,
  onWritten: (error?: Error | null) => void,
): { stream: ReturnType<FileHandle['createReadStream']>; headBytes: number } {
  const stream = handle.createReadStream({ start: 0, end: size - 1, highWaterMark: STREAM_CHUNK_BYTES })
  socket.resume()
  const head = frame.withHead ? responseHead(frame.status, size, frame.headers, frame.persist) : ''
  if (head !== '') socket.write(head, 'latin1')
  stream.on('error', () => socket.destroy())
  stream.on('end', () => {
    if (stream.bytesRead < size) socket.destroy()
    else if (socket.destroyed) return
    else if (frame.persist) socket.write(EMPTY, onWritten)
    else socket.end()
  })
  stream.pipe(socket, { end: false })
  return { stream, headBytes: head.length }
}
