import { performance } from 'node:perf_hooks'
import type { ParsedTarget, RequestHead } from '@threadserve/http10-parser'
import type { AccessRecord } from '@threadserve/logger'
import { parseBasicAuthorization } from '../auth/basic-auth.js'
import type { UploadRequest } from '../uploads/upload-request.js'

// What a connection knows about the request it is serving: one record, set up front and reset
// as a whole when a persistent connection moves on to its next request.

const CLIENT_CLOSED_STATUS = 499 // nginx's code for "client closed the request": logged, never sent

export class RequestState {
  /** Epoch ms and monotonic ms when the request's first byte came (the access log's time and duration). */
  startedAt = Date.now()
  startedTick = performance.now()
  head: RequestHead | null = null
  /** The checked target, kept while the request waits in the queue for a pool slot. */
  target: ParsedTarget | null = null
  /** The status sent, 0 until a response starts. */
  status = 0
  logged = false
  /** The client asked for a persistent connection and may have one (--keep-alive). */
  keepAlive = false
  /** The parser saw the whole request: only then is the next byte a new request. */
  requestDone = false
  /** Bytes came after the request (or while it was not read): a non-persistent answer lingers. */
  extraBytes = false
  /** The whole body has arrived. */
  bodyComplete = false
  /** Body bytes received so far (--min-rate). */
  bodyReceived = 0
  upload: UploadRequest | null = null
  /** Body bytes that came while the request waited for a slot or its credentials (copies). */
  pendingBody: Buffer[] = []
  /** Stops the file being streamed, if any (the client went away). */
  cancelStream: (() => void) | null = null
  /** The transport's bytesWritten when this request began: the log counts only this response's bytes. */
  bytesAtStart = 0
  /** The response head's size: the log's body bytes are the rest (nginx's $body_bytes_sent). */
  headBytes = 0

  /** Forgets the request answered; the next one's clock starts with its first byte (restartClock). */
  reset(bytesAtStart: number): void {
    this.head = null
    this.target = null
    this.status = 0
    this.logged = false
    this.keepAlive = false
    this.requestDone = false
    this.extraBytes = false
    this.bodyComplete = false
    this.bodyReceived = 0
    this.upload = null
    this.pendingBody = []
    this.cancelStream = null
    this.bytesAtStart = bytesAtStart
    this.headBytes = 0
  }

  /** The next request's first byte arrived: its time starts now. */
  restartClock(): void {
    this.startedAt = Date.now()
    this.startedTick = performance.now()
  }

  /**
   * The access-log line of this request, once: null if it was logged already, or if nothing was
   * asked and nothing answered. `bytesWritten` is the transport's count so far.
   */
  accessRecord(workerId: number, clientAddress: string, bytesWritten: number): AccessRecord | null {
    const head = this.head
    if (this.logged || (head === null && this.status === 0)) return null
    this.logged = true
    return {
      time: this.startedAt,
      workerId,
      clientAddress,
      method: head?.method ?? '-',
      target: head?.target ?? '-',
      version: head === null ? '-' : `HTTP/${head.version}`,
      status: this.status === 0 ? CLIENT_CLOSED_STATUS : this.status,
      bytes: bytesWritten - this.bytesAtStart,
      bodyBytes: Math.max(0, bytesWritten - this.bytesAtStart - this.headBytes),
      durationMs: Math.round((performance.now() - this.startedTick) * 1000) / 1000,
      userAgent: head?.get('user-agent'),
      referer: head?.get('referer'),
      remoteUser: parseBasicAuthorization(head?.get('authorization'))?.user,
    }
  }
}
