import type { RequestHead } from '@threadserve/http10-parser'
import { writeErrorStatus } from '../http/fs-error-status.js'
import type { HeaderList } from '../http/responses.js'
import type { PermitAnswer, WorkerServices } from '../http/services.js'
import {
  beginMultipartUpload,
  isMultipartForm,
  MultipartError,
  MultipartUpload,
  type StoredFormFile,
} from './multipart-upload.js'
import { chooseUploadExtension, filenameHintOf } from './upload-extension.js'
import { renderFormUploadReply } from './upload-result.js'
import { beginUpload, type StoredUpload, type UploadWriter } from './upload-store.js'

// One POST /upload, from the permit to the 201: ask the supervisor for one of the server-wide
// upload permits, open the temp file (or the multipart parser), write the body as it arrives
// while keeping memory flat, commit durably, answer. Body bytes that arrive before the file is
// open wait here; whatever happens, the permit goes back and no temp file stays behind.

/** What an upload needs from the connection it arrived on. */
export interface UploadHost {
  readonly services: WorkerServices
  /** The client's address ('-' when unknown): the supervisor caps the permits one address holds. */
  readonly clientAddress: string
  /** The client has gone (the socket is destroyed): stop and give everything back. */
  readonly closed: boolean
  /** Flow control: stop reading the client while the disk is behind or the file is not open yet. */
  pauseReading(): void
  resumeReading(): void
  /** Answers the request. Called at most once per upload. */
  respond(status: number, headers: HeaderList, body: string): void
  respondError(status: number, detail?: string, headers?: HeaderList): void
  /** 503 with Retry-After (out of descriptors). */
  respondBusy(): void
}

const State = { Permit: 0, Body: 1, Committing: 2, Done: 3 } as const
type State = (typeof State)[keyof typeof State]

export class UploadRequest {
  readonly #host: UploadHost
  readonly #head: RequestHead
  #state: State = State.Permit
  #writer: UploadWriter | MultipartUpload | null = null
  #permitId: string | null = null
  #pending: Buffer[]
  #bodyComplete: boolean
  #diskBusy = false

  /** `buffered`: body bytes that came while the request waited for a slot or its credentials. */
  constructor(host: UploadHost, head: RequestHead, buffered: Buffer[], bodyComplete: boolean) {
    this.#host = host
    this.#head = head
    this.#pending = buffered
    this.#bodyComplete = bodyComplete
  }

  /** Still wants body bytes: waiting for its permit and file, or writing. */
  get receiving(): boolean {
    return this.#state === State.Permit || this.#state === State.Body
  }

  /** Writing the body to disk: a stall here is the client's (the body timeout applies). */
  get writing(): boolean {
    return this.#state === State.Body
  }

  /** Asks for a permit, opens the file, then writes what arrived meanwhile. Reading is paused until then. */
  async start(): Promise<void> {
    const host = this.#host
    host.pauseReading()
    let answer: PermitAnswer
    try {
      answer = await host.services.requestPermit(host.clientAddress)
    } catch {
      answer = { granted: false, retryAfterSeconds: 1 }
    }
    if (answer.granted) this.#permitId = answer.permitId
    if (host.closed || this.#state !== State.Permit) return this.#releasePermit()
    if (!answer.granted) {
      this.#state = State.Done
      return host.respondError(503, 'too many uploads in progress', [['Retry-After', answer.retryAfterSeconds]])
    }
    try {
      const uploadDir = host.services.config.uploadDir
      const contentType = this.#head.get('content-type')
      this.#writer = isMultipartForm(contentType)
        ? beginMultipartUpload(uploadDir, contentType as string)
        : await beginUpload(uploadDir)
    } catch (error) {
      this.#state = State.Done
      this.#releasePermit()
      if (error instanceof MultipartError) return host.respondError(error.status, error.message)
      return this.#respondStoreError(error)
    }
    if (host.closed || this.#state !== State.Permit) return this.abort()
    const writer = this.#writer
    if (!(writer instanceof MultipartUpload)) writer.onFailure((error) => this.#failed(error))
    this.#state = State.Body
    const pending = this.#pending
    this.#pending = []
    for (const chunk of pending) this.#write(chunk)
    if (this.#bodyComplete) void this.#commit()
    else if (!this.#diskBusy) host.resumeReading()
  }

  /** Body bytes from the client (valid only during the call): copied until the file is open, then written. */
  push(chunk: Buffer): void {
    if (this.#state === State.Permit)
      this.#pending.push(Buffer.from(chunk)) // may be the shared read buffer
    else if (this.#state === State.Body) this.#write(chunk)
  }

  /** The last body byte arrived. */
  bodyEnded(): void {
    this.#bodyComplete = true
    if (this.#state === State.Body) void this.#commit()
  }

  /** The client went away, stalled or ended early: remove the temp file, give the permit back. */
  async abort(): Promise<void> {
    this.#state = State.Done
    const writer = this.#writer
    this.#writer = null
    this.#pending = []
    if (writer !== null) await writer.abort()
    this.#releasePermit()
  }

  #write(chunk: Buffer): void {
    const writer = this.#writer
    if (writer === null || writer.write(chunk)) return
    // The disk is behind: stop reading from the client until it catches up (flat memory).
    this.#diskBusy = true
    this.#host.pauseReading()
    writer.onDrain(() => {
      this.#diskBusy = false
      if (this.#state === State.Body) this.#host.resumeReading()
    })
  }

  async #commit(): Promise<void> {
    const writer = this.#writer
    if (writer === null) return
    this.#state = State.Committing
    if (writer instanceof MultipartUpload) return this.#commitForm(writer)
    const head = this.#head
    const extension = chooseUploadExtension(
      head.get('content-type'),
      filenameHintOf(head.get('x-file-name'), head.get('content-disposition')),
    )
    let stored: StoredUpload
    try {
      stored = await writer.commit(extension)
    } catch (error) {
      this.#finish()
      return this.#respondStoreError(error)
    }
    this.#finish()
    const prefix = this.#host.services.uploadUrlPrefix
    const headers: HeaderList =
      prefix === null
        ? [['Content-Type', 'application/json']]
        : [
            ['Content-Type', 'application/json'],
            ['Location', `${prefix}${stored.name}`],
          ]
    this.#host.respond(201, headers, `${JSON.stringify(stored)}\n`)
  }

  /** A multipart form: every file part committed, or none (see multipart-upload.ts). */
  async #commitForm(writer: MultipartUpload): Promise<void> {
    let files: StoredFormFile[]
    try {
      files = await writer.finish()
    } catch (error) {
      this.#finish()
      if (error instanceof MultipartError) return this.#host.respondError(error.status, error.message)
      return this.#respondStoreError(error)
    }
    this.#finish()
    const reply = renderFormUploadReply(files, this.#host.services.uploadUrlPrefix, this.#head.get('accept'))
    this.#host.respond(201, reply.headers, reply.body)
  }

  /** The disk refused a write mid-body (full disk): answer now instead of reading the rest. */
  #failed(error: Error): void {
    if (this.#state !== State.Body) return
    this.#state = State.Committing // the rest of the body is dropped from here on
    // Answer once the temp file is gone, so that the space is free when the client hears of it.
    void this.abort().finally(() => this.#respondStoreError(error))
  }

  #finish(): void {
    this.#state = State.Done
    this.#writer = null
    this.#releasePermit()
  }

  #releasePermit(): void {
    if (this.#permitId === null) return
    this.#host.services.releasePermit(this.#permitId)
    this.#permitId = null
  }

  #respondStoreError(error: unknown): void {
    const status = writeErrorStatus(error)
    if (status === 503) this.#host.respondBusy()
    else this.#host.respondError(status, 'could not store the upload')
  }
}
