import type { ParserLimits } from '@threadserve/http10-parser'
import type { AccessLog } from '@threadserve/logger'
import type { BasicAuthenticator } from '../auth/basic-auth.js'
import type { Config } from '../config/config.js'
import type { StaticFiles } from '../files/static-files.js'

// What a worker process gives every connection it serves: one object per worker, built in
// worker.ts. Connections never reach for process-wide state any other way.

/** The supervisor's answer to a health check (--health-path). */
export interface HealthReport {
  readonly status: 'ok' | 'starting' | 'draining' | 'no-workers'
  /** Workers ready now. */
  readonly workers: number
  /** Uploads in progress server-wide. */
  readonly permitsInUse: number
}

export type PermitAnswer = { granted: true; permitId: string } | { granted: false; retryAfterSeconds: number }

/** What a worker gives each connection: settings, the log, the file resolver and the permit desk. */
export interface WorkerServices {
  readonly config: Config
  /** The request limits from `config`, built once per worker rather than once per connection. */
  readonly parserLimits: Readonly<ParserLimits>
  readonly workerId: number
  readonly log: AccessLog
  readonly files: StaticFiles
  /** --host is a loopback address or name: requests must name a local host (request-guards.ts). */
  readonly loopbackOnly: boolean
  /** The upload directory's real path with a trailing separator: files under it are uploads. */
  readonly uploadRealDir: string | null
  /** URL path under which stored uploads can be fetched (e.g. '/uploads/'), or null when not served. */
  readonly uploadUrlPrefix: string | null
  /** `--upload-auth`: checks HTTP Basic credentials; absent or null when uploads are open. */
  readonly auth?: BasicAuthenticator | null
  /** An upload permit from the supervisor, for an upload from `client` (its address). */
  requestPermit(client: string): Promise<PermitAnswer>
  releasePermit(permitId: string): void
  /** The server's health, from the supervisor; rejects when it does not answer in time. */
  requestHealth(): Promise<HealthReport>
  /**
   * A pool slot for a request whose head is complete and checked (credentials too): 'granted'
   * now, 'queued' (slotGranted() is called later), or 'full' (503). Reading a head, or waiting
   * for a password check, holds no slot, so idle clients and wrong passwords cannot starve
   * requests that are ready to be served.
   */
  claimSlot(connection: SlotHolder): 'granted' | 'queued' | 'full'
  /**
   * Gives back the slot (or queue place) of a request that is done: its response is written to
   * the socket, or its file is streaming, so a client slow to read it holds a descriptor, never a
   * slot. A no-op when it holds none.
   */
  releaseSlot(connection: SlotHolder): void
  /** The worker is shutting down: persistent connections close after their current response. */
  isDraining(): boolean
}

/** What the worker's pool needs of a connection whose request waited for a slot. */
export interface SlotHolder {
  /** The queued request got its slot: serve it now. */
  slotGranted(): void
}
