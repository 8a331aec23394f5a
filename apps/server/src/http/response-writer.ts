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

/** A byte range of a file to send (inclusive, as in Content-Range). */
export interface FileSlice {
  readonly handle: FileHandle
  readonly start: number
  readonly end: number
  /** After the last byte is read: whether the file is still the version the head described. */
  readonly verify: (handle: FileHandle) => Promise<boolean>
}

/**
 * Writes the head, then exactly the slice's bytes (Content-Length promises that many, even if
 * the file grows meanwhile). If the file changed while it was read (shrank, or was rewritten in
 * place), the bytes sent may mix two versions: the client must see a truncated response (a
 * reset), never one that looks complete. Returns how to cancel (the client went away) and the
 * head's size. The handle is closed in every case.
 */
export function streamResponse(
  socket: Socket,
  frame: ResponseFrame,
  slice: FileSlice,
  onWritten: (error?: Error | null) => void,
): { cancel: () => void; headBytes: number } {
  const { handle, start, end } = slice
  const length = end - start + 1
  // autoClose off: the handle must stay open for the check after the last byte.
  const stream = handle.createReadStream({ start, end, highWaterMark: STREAM_CHUNK_BYTES, autoClose: false })
  let closed = false
  const release = (): void => {
    if (closed) return
    closed = true
    handle.close().catch(() => {})
  }
  socket.resume()
  const head = frame.withHead ? responseHead(frame.status, length, frame.headers, frame.persist) : ''
  if (head !== '') socket.write(head, 'latin1')
  stream.on('error', () => {
    release()
    socket.destroy()
  })
  stream.on('end', () => {
    const complete = stream.bytesRead === length
    const checked = complete ? slice.verify(handle).catch(() => false) : Promise.resolve(false)
    void checked.then((intact) => {
      release()
      if (!intact) socket.destroy()
      else if (socket.destroyed) return
      else if (frame.persist) socket.write(EMPTY, onWritten)
      else socket.end()
    })
  })
  stream.pipe(socket, { end: false })
  const cancel = (): void => {
    stream.destroy()
    release()
  }
  return { cancel, headBytes: head.length }
}
