import type { RequestHead } from '@threadserve/http10-parser'
import type { HeaderList } from './responses.js'
import type { HealthReport, WorkerServices } from './services.js'

// --health-path: a load balancer's check, answered with the server's health as JSON, 200 while
// it serves and 503 otherwise. It is answered as soon as its head is complete: it takes no pool
// slot (a full pool must not make a busy host look dead, nor a check wait behind the queue), no
// upload permit and no credentials (a balancer has none), and it is not logged unless
// --log-health (one line every few seconds per balancer would drown the log). The figures come
// from the supervisor over IPC; one that does not answer in time is reported as 503.

const SUPERVISOR_SILENT = '{"status":"no-supervisor"}\n'
const HEADERS: HeaderList = [
  ['Content-Type', 'application/json'],
  ['Cache-Control', 'no-store'],
]
const QUESTION_MARK = 0x3f

/** What answering a health check needs of the connection. */
export interface HealthTarget {
  /** The request is being answered: later bytes are not this request's. */
  enterResponding(): void
  readonly exchange: {
    readonly services: WorkerServices
    /** The client has gone. */
    readonly closed: boolean
    respond(status: number, headers: HeaderList, body: string): void
  }
}

/**
 * True for GET or HEAD of `healthPath` ('' = off), a query string allowed. The raw target is
 * compared: --health-path admits no '%', so no spelling of it needs decoding.
 */
export function isHealthCheck(head: RequestHead, healthPath: string): boolean {
  if (healthPath === '' || (head.method !== 'GET' && head.method !== 'HEAD')) return false
  const { target } = head
  if (!target.startsWith(healthPath)) return false
  return target.length === healthPath.length || target.charCodeAt(healthPath.length) === QUESTION_MARK
}

/** The JSON body for `report` (null: the supervisor did not answer). */
export function healthBody(report: HealthReport | null): string {
  if (report === null) return SUPERVISOR_SILENT
  const { status, workers, permitsInUse } = report
  return `${JSON.stringify({ status, workers, permitsInUse })}\n`
}

/** Asks the supervisor and answers: 200 when it says 'ok', else 503. */
export async function answerHealth(connection: HealthTarget): Promise<void> {
  const { exchange } = connection
  connection.enterResponding()
  let report: HealthReport | null
  try {
    report = await exchange.services.requestHealth()
  } catch {
    report = null // timed out, or the supervisor is gone
  }
  if (exchange.closed) return
  exchange.respond(report?.status === 'ok' ? 200 : 503, HEADERS, healthBody(report))
}
