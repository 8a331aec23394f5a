import type { FileHandle } from 'node:fs/promises'
import type { Transport, WriteDone } from '../transport/transport.js'
import { type HeaderList, responseHead } from './responses.js'

// Putting a response on the wire: the head and a body in one writev, or the head and a file
// streamed after it. The connection decides whether the connection persists; this writes what
// that means (Connection: keep-alive and a callback once written, or the end of our side).

const STREAM_CHUNK_BYTES = 64 * 1024
// Chunk buffers of finished streams, kept for the next ones: a stream reads into one buffer,
// reused once its write is in the kernel, instead of a new 64 KiB buffer per chunk.
const SPARE_CHUNKS_KEPT = 8
const spareChunks: Buffer[] = []

export interface ResponseFrame {
  readonly status: number
  readonly headers: HeaderList
  /** An HTTP/0.9 Simple-Response is the body alone (RFC 1945 §6). */
  readonly withHead: boolean
  /** Keep the connection: `onWritten` is called once the response is handed to the kernel. */
  readonly persist: boolean
  /**
   * Not persistent, and the request was read whole with nothing after it: close as soon as the
   * response is in the kernel. Otherwise a non-persistent response half-closes and the caller
   * reads and drops what still comes (a lingering close), so a client still sending sees the
   * response, not a reset.
   */
  readonly closeAtOnce: boolean
}

/** Ends the connection after a non-persistent response, as the frame says. */
function finish(transport: Transport, frame: ResponseFrame): void {
  if (frame.closeAtOnce) transport.endAndClose()
  else {
    transport.end()
    transport.resume()
  }
}

/** Writes a whole response; returns the head's size in bytes. */
export function writeResponse(
  transport: Transport,
  frame: ResponseFrame,
  body: string | Buffer | null,
  contentLength: number | undefined,
  onWritten: WriteDone,
): number {
  if (transport.destroyed || transport.ended) return 0
  const bodyBytes = body === null ? null : typeof body === 'string' ? Buffer.from(body) : body
  const head = frame.withHead
    ? responseHead(frame.status, contentLength ?? bodyBytes?.length ?? 0, frame.headers, frame.persist)
    : ''
  if (frame.persist) {
    transport.write(head, bodyBytes, onWritten)
    return head.length
  }
  if (head !== '' || bodyBytes !== null) transport.write(head, bodyBytes)
  finish(transport, frame)
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
 * the file grows meanwhile), one 64 KiB chunk at a time, each read once the previous one is in
 * the kernel (a slow reader slows the reads: memory stays one chunk per stream). If the file
 * changed while it was read (shrank, or was rewritten in place), the bytes sent may mix two
 * versions: the client must see a truncated response (a reset), never one that looks complete.
 * Returns how to cancel (the client went away) and the head's size. The handle is closed in
 * every case.
 */
export function streamResponse(
  transport: Transport,
  frame: ResponseFrame,
  slice: FileSlice,
  onWritten: WriteDone,
): { cancel: () => void; headBytes: number } {
  const stream = new FileStream(transport, frame, slice, onWritten)
  const head = frame.withHead
    ? responseHead(frame.status, slice.end - slice.start + 1, frame.headers, frame.persist)
    : ''
  transport.resume() // reading goes on: a lingering or persistent connection's next bytes
  if (head !== '') transport.write(head, null)
  void stream.run()
  return { cancel: () => stream.cancel(), headBytes: head.length }
}

class FileStream {
  readonly #transport: Transport
  readonly #frame: ResponseFrame
  readonly #slice: FileSlice
  readonly #onWritten: WriteDone
  #cancelled = false
  #handleClosed = false

  constructor(transport: Transport, frame: ResponseFrame, slice: FileSlice, onWritten: WriteDone) {
    this.#transport = transport
    this.#frame = frame
    this.#slice = slice
    this.#onWritten = onWritten
  }

  cancel(): void {
    this.#cancelled = true
    this.#closeHandle()
  }

  async run(): Promise<void> {
    const { handle, start, end } = this.#slice
    const transport = this.#transport
    const chunk = spareChunks.pop() ?? Buffer.allocUnsafeSlow(STREAM_CHUNK_BYTES)
    let intact = false
    try {
      let position = start
      while (position <= end && !this.#cancelled) {
        const want = Math.min(STREAM_CHUNK_BYTES, end - position + 1)
        const { bytesRead } = await handle.read(chunk, 0, want, position)
        if (bytesRead === 0 || this.#cancelled || transport.destroyed) break // shrank, or the client left
        await new Promise<void>((resolve, reject) =>
          transport.write('', chunk.subarray(0, bytesRead), (error) => (error ? reject(error) : resolve())),
        )
        position += bytesRead
      }
      intact = position > end && !this.#cancelled && (await this.#slice.verify(handle).catch(() => false))
    } catch {
      intact = false // a read error, or the client went away mid-write
    } finally {
      this.#closeHandle()
      // Every write of it has completed (each was awaited): free for the next stream.
      if (spareChunks.length < SPARE_CHUNKS_KEPT) spareChunks.push(chunk)
    }
    if (this.#cancelled || transport.destroyed) return
    if (!intact) transport.destroy()
    else if (this.#frame.persist) transport.write('', null, this.#onWritten)
    else finish(transport, this.#frame)
  }

  #closeHandle(): void {
    if (this.#handleClosed) return
    this.#handleClosed = true
    this.#slice.handle.close().catch(() => {})
  }
}
