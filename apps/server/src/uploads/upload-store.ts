import { createHash } from 'node:crypto'
import { constants } from 'node:fs'
import { type FileHandle, link, open, unlink } from 'node:fs/promises'
import path from 'node:path'
import { tempName } from './temp-files.js'
import { createUploadName } from './upload-name.js'

// Stream to a hidden temp file in the upload dir, fsync, give it its final
// name without ever replacing an existing file, fsync the directory, and only then answer 201.

const HIGH_WATER_BYTES = 1024 * 1024 // pause the client above this much queued for the disk
// Body bytes are copied into staging buffers of this size, written with one writev per batch and
// then reused (by this worker's next upload too): the chunks written come from the worker's
// shared read buffer (transport/read-buffer.ts), and a 1 GiB upload allocates a few buffers, not 16,384.
const STAGE_BYTES = 256 * 1024
const MAX_SPARE_STAGES = HIGH_WATER_BYTES / STAGE_BYTES + 2
const spareStages: Buffer[] = []
// Write-behind: every this many bytes written, a datasync starts in the background, so the disk
// writes a large upload while the rest arrives and the fsync before the 201 has only the tail
// left (64 MiB: ~60 ms between the last byte and the 201 before this).
const WRITE_BEHIND_BYTES = 8 * 1024 * 1024

function takeStage(): Buffer {
  return spareStages.pop() ?? Buffer.allocUnsafeSlow(STAGE_BYTES)
}

/** Gives back a staging buffer (or a view of its start) once nothing reads from it any more. */
function returnStage(view: Buffer): void {
  if (view.byteOffset !== 0 || view.buffer.byteLength !== STAGE_BYTES || spareStages.length >= MAX_SPARE_STAGES) return
  spareStages.push(view.length === STAGE_BYTES ? view : Buffer.from(view.buffer, 0, STAGE_BYTES))
}
const MAX_NAME_ATTEMPTS = 16

export interface StoredUpload {
  readonly name: string
  readonly size: number
  readonly sha256: string
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY)
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** Opens a new upload in `dir`: a hidden temp file created with O_EXCL. */
export async function beginUpload(dir: string): Promise<UploadWriter> {
  const tempPath = path.join(dir, tempName(process.pid))
  const handle = await open(tempPath, 'wx', 0o644)
  return new UploadWriter(dir, tempPath, handle)
}

/**
 * One upload being written. `write` copies chunks into staging buffers and says when the caller
 * should stop reading from the client; full buffers go to disk in order, one writev per batch.
 */
export class UploadWriter {
  readonly #dir: string
  readonly #tempPath: string
  readonly #handle: FileHandle
  readonly #hash = createHash('sha256')
  #queue: Buffer[] = []
  #queuedBytes = 0
  #stage: Buffer | null = null // being filled; queued when full or at commit
  #staged = 0
  #size = 0
  #writing: Promise<void> | null = null
  #error: Error | null = null
  #closed = false
  #unsynced = 0 // bytes written since the last write-behind datasync started
  #syncing: Promise<void> | null = null
  // A failed write-behind datasync: Linux reports a writeback error to an fd once, so the final
  // fsync might not see it again; commit() must.
  #syncError: Error | null = null
  #onDrain: (() => void) | null = null
  #onFailure: ((error: Error) => void) | null = null

  constructor(dir: string, tempPath: string, handle: FileHandle) {
    this.#dir = dir
    this.#tempPath = tempPath
    this.#handle = handle
  }

  get size(): number {
    return this.#size
  }

  /**
   * Copies a chunk (it may be the shared read buffer); false means "pause the source until
   * onDrain fires". After a failed write (a full disk) chunks are dropped: the upload can only be
   * aborted, and onFailure said so.
   */
  write(chunk: Buffer): boolean {
    if (this.#error !== null) return true
    this.#hash.update(chunk)
    this.#size += chunk.length
    for (let offset = 0; offset < chunk.length; ) {
      if (this.#stage === null) this.#stage = takeStage()
      const copied = chunk.copy(this.#stage, this.#staged, offset)
      this.#staged += copied
      offset += copied
      if (this.#staged === STAGE_BYTES) this.#queueStage()
    }
    return this.#queuedBytes < HIGH_WATER_BYTES
  }

  /** Queues the staging buffer's bytes for the disk, and starts writing if nothing is. */
  #queueStage(): void {
    const stage = this.#stage
    if (stage !== null && this.#staged > 0) {
      this.#queue.push(this.#staged === STAGE_BYTES ? stage : stage.subarray(0, this.#staged))
      this.#queuedBytes += this.#staged
      this.#stage = null
      this.#staged = 0
    }
    // #drain awaits a write before it settles, so #writing never holds a finished drain.
    if (this.#writing === null && this.#queue.length > 0) this.#writing = this.#drain()
  }

  /** Calls `fn` once if a write fails (ENOSPC...), so the caller can answer at once. */
  onFailure(fn: (error: Error) => void): void {
    this.#onFailure = fn
  }

  /** Calls `fn` once the queue has gone back under the high-water mark (or failed). */
  onDrain(fn: () => void): void {
    this.#onDrain = fn
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0 && this.#error === null) {
        const batch = this.#queue
        this.#queue = []
        let offset = 0
        const total = this.#queuedBytes
        this.#queuedBytes = 0
        while (offset < total) {
          const { bytesWritten } = await this.#handle.writev(offset === 0 ? batch : [concatTail(batch, offset)])
          if (bytesWritten === 0) throw new Error('write made no progress')
          offset += bytesWritten
        }
        for (const written of batch) returnStage(written)
        this.#unsynced += total
        if (this.#unsynced >= WRITE_BEHIND_BYTES && this.#syncing === null) this.#writeBehind()
        const resume = this.#onDrain
        this.#onDrain = null
        resume?.()
      }
    } catch (error) {
      this.#error = error as Error
      this.#queue = []
      this.#queuedBytes = 0
      const resume = this.#onDrain
      const fail = this.#onFailure
      this.#onDrain = null
      this.#onFailure = null
      resume?.()
      fail?.(error as Error)
    } finally {
      this.#writing = null
    }
  }

  #writeBehind(): void {
    this.#unsynced = 0
    this.#syncing = this.#handle.datasync().then(
      () => {
        this.#syncing = null
      },
      (error: Error) => {
        this.#syncing = null
        this.#syncError ??= error
      },
    )
  }

  async #flushed(): Promise<void> {
    if (this.#error === null) this.#queueStage()
    await this.#settled()
    if (this.#error !== null) throw this.#error
  }

  async #settled(): Promise<void> {
    for (let writing = this.#writing; writing !== null; writing = this.#writing) {
      await writing
      if (this.#writing === writing) break // never spin on a drain that already finished
    }
  }

  /** Makes the upload durable under a new unique name and returns what was stored. */
  async commit(extension: string): Promise<StoredUpload> {
    try {
      await this.#flushed()
      await this.#syncing
      if (this.#syncError !== null) throw this.#syncError
      await this.#handle.sync()
      await this.#close()
      const name = await this.#linkUnique(extension)
      await unlink(this.#tempPath)
      await syncDirectory(this.#dir)
      return { name, size: this.#size, sha256: this.#hash.digest('hex') }
    } catch (error) {
      await this.abort()
      throw error
    }
  }

  // link(2) never replaces an existing file (EEXIST), unlike rename(2): the O_EXCL of names.
  async #linkUnique(extension: string): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      const name = createUploadName(extension)
      try {
        await link(this.#tempPath, path.join(this.#dir, name))
        return name
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= MAX_NAME_ATTEMPTS) throw error
      }
    }
  }

  async #close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#handle.close()
  }

  /** Drops the upload: nothing of it stays on disk. Safe to call more than once. */
  async abort(): Promise<void> {
    this.#error ??= new Error('upload aborted')
    this.#onFailure = null
    await this.#settled()
    await this.#syncing
    if (this.#stage !== null) returnStage(this.#stage)
    this.#stage = null
    try {
      await this.#close()
    } catch {
      // Closing a broken handle can fail too; the unlink below is what matters.
    }
    await unlink(this.#tempPath).catch(() => {})
  }
}

function concatTail(batch: readonly Buffer[], offset: number): Buffer {
  return Buffer.concat(batch).subarray(offset)
}
