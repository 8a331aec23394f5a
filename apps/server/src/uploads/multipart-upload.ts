import { unlink } from 'node:fs/promises'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { finished } from 'node:stream/promises'
import busboy, { type Busboy } from 'busboy'
import { chooseUploadExtension } from './upload-extension.js'
import { beginUpload, type StoredUpload, type UploadWriter } from './upload-store.js'

// `multipart/form-data` POST /upload: a plain HTML form or `curl -F`. busboy (the
// maintained streaming parser behind multer) splits the body; each file part streams into its own
// UploadWriter, so names, durability and the temp-file clean-up are those of raw uploads, under the
// one permit the request took. Parts are committed (fsync, link, directory fsync) only once the
// whole body has parsed: a malformed or truncated body aborts every part and leaves no file at all.
// Memory stays flat: a part that outruns the disk pauses busboy, which pauses the socket.

const MAX_FILES = 64 // each part holds an open temp file until the commit
const MAX_FIELDS = 64
const MAX_FIELD_BYTES = 64 * 1024
const MULTIPART_FORM = /^multipart\/form-data\s*(;|$)/i

export type MultipartErrorCode = 'BAD_MULTIPART' | 'NO_FILE' | 'TOO_MANY_PARTS'
const MULTIPART_ERROR_STATUS: Record<MultipartErrorCode, number> = {
  BAD_MULTIPART: 400,
  NO_FILE: 400,
  TOO_MANY_PARTS: 413,
}

export class MultipartError extends Error {
  override name = 'MultipartError'
  readonly code: MultipartErrorCode
  readonly status: number
  constructor(code: MultipartErrorCode, message: string) {
    super(message) // a client reads this: short, no internals
    this.code = code
    this.status = MULTIPART_ERROR_STATUS[code]
  }
}

/** True for a `multipart/form-data` Content-Type (any parameters). */
export function isMultipartForm(contentType: string | undefined): boolean {
  return contentType !== undefined && MULTIPART_FORM.test(contentType)
}

/** A stored file of a form, with the name the client gave it (shown back to it, never used on disk). */
export interface StoredFormFile extends StoredUpload {
  readonly filename: string
}

interface Part {
  readonly filename: string
  readonly extension: string
  writer: UploadWriter | null
  /** Settles once every byte of the part is queued to its writer (or the part failed). */
  done: Promise<void>
}

function ignoreError(): void {}

/** Starts parsing a form body; throws MultipartError (400) when the Content-Type has no usable boundary. */
export function beginMultipartUpload(dir: string, contentType: string): MultipartUpload {
  let parser: Busboy
  try {
    parser = busboy({
      headers: { 'content-type': contentType },
      limits: { files: MAX_FILES, fields: MAX_FIELDS, parts: MAX_FILES + MAX_FIELDS, fieldSize: MAX_FIELD_BYTES },
      defParamCharset: 'utf8',
    })
  } catch {
    throw new MultipartError('BAD_MULTIPART', 'multipart/form-data needs a boundary')
  }
  return new MultipartUpload(dir, parser)
}

/** One form being received: fed body chunks like an UploadWriter, finished or aborted once. */
export class MultipartUpload {
  readonly #dir: string
  readonly #parser: Busboy
  readonly #parts: Part[] = []
  readonly #parsed: Promise<void>
  /** The first failure: a MultipartError (the client's), or a file-system error (ours, 500/507). */
  #error: Error | null = null
  #aborted = false
  #onDrain: (() => void) | null = null

  constructor(dir: string, parser: Busboy) {
    this.#dir = dir
    this.#parser = parser
    parser.on('file', (_field: string, stream: Readable, info: busboy.FileInfo) => this.#onFile(stream, info))
    parser.on('filesLimit', () => this.#fail(new MultipartError('TOO_MANY_PARTS', `at most ${MAX_FILES} files`)))
    parser.on('fieldsLimit', () => this.#fail(new MultipartError('TOO_MANY_PARTS', `at most ${MAX_FIELDS} fields`)))
    parser.on('partsLimit', () => this.#fail(new MultipartError('TOO_MANY_PARTS', 'too many parts')))
    parser.on('drain', () => this.#drained())
    this.#parsed = new Promise((resolve) => {
      parser.on('error', () => {
        this.#fail(new MultipartError('BAD_MULTIPART', 'malformed multipart body'))
        resolve()
      })
      parser.on('close', resolve)
    })
  }

  /** Feeds body bytes; false means "pause the client until onDrain fires". */
  write(chunk: Buffer): boolean {
    if (this.#error !== null || this.#aborted) return true // the body is read and dropped
    // busboy keeps what it cannot pass on yet, and `chunk` may be the shared read buffer: a copy.
    return this.#parser.write(Buffer.from(chunk))
  }

  /** Calls `fn` once the parser (and the disk behind it) wants more. */
  onDrain(fn: () => void): void {
    this.#onDrain = fn
  }

  /** The whole body has arrived: checks the form is complete, then commits every file. */
  async finish(): Promise<StoredFormFile[]> {
    if (this.#error === null) {
      this.#parser.end()
      await this.#parsed
      await Promise.allSettled(this.#parts.map((part) => part.done))
    }
    const error = this.#error
    if (error !== null) {
      await this.abort()
      throw error
    }
    // An empty file input of a form arrives as a part without a filename and without bytes.
    const kept: Part[] = []
    for (const part of this.#parts) {
      if (part.filename === '' && part.writer !== null && part.writer.size === 0) await part.writer.abort()
      else kept.push(part)
    }
    if (kept.length === 0) {
      await this.abort()
      throw new MultipartError('NO_FILE', 'the form has no file')
    }
    const stored: StoredFormFile[] = []
    try {
      for (const part of kept) {
        const writer = part.writer as UploadWriter
        part.writer = null
        stored.push({ ...(await writer.commit(part.extension)), filename: part.filename })
      }
    } catch (commitError) {
      // All or nothing: files already committed for this request go too.
      await Promise.all(stored.map((file) => unlink(path.join(this.#dir, file.name)).catch(() => {})))
      await this.abort()
      throw commitError
    }
    return stored
  }

  /** Drops everything of this request: temp files, and nothing is committed. Safe to call twice. */
  async abort(): Promise<void> {
    this.#aborted = true
    this.#error ??= new MultipartError('BAD_MULTIPART', 'upload aborted')
    if (!this.#parser.destroyed) this.#parser.destroy()
    this.#drained()
    await Promise.allSettled(this.#parts.map((part) => part.done))
    await Promise.all(this.#parts.map((part) => part.writer?.abort()))
  }

  #fail(error: Error): void {
    this.#error ??= error
    this.#drained() // a client paused for back-pressure must be read again, to reach the end
  }

  #drained(): void {
    const resume = this.#onDrain
    this.#onDrain = null
    resume?.()
  }

  #onFile(stream: Readable, info: busboy.FileInfo): void {
    const filename = info.filename ?? ''
    const part: Part = {
      filename,
      extension: chooseUploadExtension(info.mimeType, filename === '' ? undefined : filename),
      writer: null,
      done: Promise.resolve(),
    }
    this.#parts.push(part)
    // busboy may destroy the part (body cut short) while its temp file is still opening, before
    // #receivePart listens: the error is seen there through finished(), never as an uncaught one.
    stream.on('error', ignoreError)
    part.done = this.#receivePart(part, stream).catch((error: unknown) => {
      stream.resume()
      // A temp file that cannot be created is our problem (507/500); a part cut short is the client's.
      const isFsError = typeof (error as NodeJS.ErrnoException).syscall === 'string'
      this.#fail(isFsError ? (error as Error) : new MultipartError('BAD_MULTIPART', 'malformed multipart body'))
    })
  }

  async #receivePart(part: Part, stream: Readable): Promise<void> {
    if (this.#error !== null) {
      stream.resume()
      return
    }
    // Until the temp file is open the part's bytes wait in the stream (busboy then stops parsing).
    const writer = await beginUpload(this.#dir)
    part.writer = writer
    if (this.#aborted) {
      stream.resume()
      return
    }
    stream.on('data', (chunk: Buffer) => {
      if (this.#error !== null || writer.write(chunk)) return
      stream.pause()
      writer.onDrain(() => stream.resume())
    })
    await finished(stream) // rejects for a part that was destroyed, even before this line
  }
}
