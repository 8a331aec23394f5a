import { type ParsedTarget, ParseError, parseTarget, type RequestHead } from '@threadserve/http10-parser'
import { BASIC_CHALLENGE, type BasicAuthenticator, type Verdict } from '../auth/basic-auth.js'
import { UPLOAD_PAGE } from '../browser/upload-page.js'
import type { Exchange } from './exchange.js'
import { preflightHeaders, serveFile } from './file-response.js'
import { answerHealth, isHealthCheck } from './health.js'
import { checkHost, isCrossSite } from './request-guards.js'
import { needsCredentials, routeRequest } from './router.js'

// A request whose head is complete: its Host and target are checked and its credentials when
// the route needs them, then, once it holds a pool slot, it goes to its handler (router.ts).
// Checks come before the slot: a password check is scrypt (tens of ms, at most two at a time per
// worker), and a request waiting for one must not hold a slot, or a flood of wrong passwords
// would keep requests whose credentials are already accepted (no scrypt) from being served.

/** What dispatching needs from the connection. */
export interface DispatchTarget {
  /** The answering side. */
  readonly exchange: Exchange
  /** The request is answered now or soon: body bytes that come are not wanted. */
  enterResponding(): void
  /** Credentials are being checked: reading pauses; a POST keeps its early body bytes for later. */
  enterAuthorizing(isPost: boolean): void
  /** Already answered (a timeout, the client ended): nothing more to send. */
  readonly answered: boolean
  /** POST /upload: the upload takes over the exchange. */
  beginUpload(head: RequestHead): void
  /** The request passed its checks: serve it (serveRequest) once it holds a pool slot, or answer 503. */
  serveWithSlot(target: ParsedTarget): void
}

/** Checks `head` and its credentials, then has the connection serve it (serveWithSlot). */
export function dispatchRequest(connection: DispatchTarget, head: RequestHead): void {
  const exchange = connection.exchange
  const config = exchange.services.config
  // --health-path: before every check and the pool slot; logged only with --log-health.
  if (isHealthCheck(head, config.healthPath)) {
    if (!config.logHealth) exchange.skipLog()
    void answerHealth(connection)
    return
  }
  const badHost = checkHost(head, exchange.services.loopbackOnly)
  if (badHost !== null) {
    exchange.respondError(badHost.status, badHost.reason)
    return
  }
  if (head.method === 'POST' && !config.allowCrossSiteUploads && isCrossSite(head)) {
    exchange.respondError(403, 'uploads from pages of other sites are not accepted')
    return
  }
  let target: ParsedTarget
  try {
    target = parseTarget(head.target)
  } catch (error) {
    if (!(error instanceof ParseError)) throw error
    // A target that reaches for what is not served (NUL, encoded slashes, above the root) is
    // "not here" and says no more; a malformed one says what is wrong with it.
    exchange.respondError(error.status, error.code === 'FORBIDDEN_TARGET' ? undefined : error.message)
    return
  }
  const auth = exchange.services.auth ?? null
  const authAll = config.authAll
  if (auth !== null && needsCredentials(head.method, target.pathname, { authEnabled: true, authAll })) {
    void authorize(connection, head, target, auth)
    return
  }
  connection.serveWithSlot(target)
}

// RFC 7617 / RFC 1945 §11: a 401 with the challenge. A POST is answered before its body is read
// (the socket stays paused) and before it asks for a permit.
async function authorize(
  connection: DispatchTarget,
  head: RequestHead,
  target: ParsedTarget,
  auth: BasicAuthenticator,
): Promise<void> {
  const exchange = connection.exchange
  connection.enterAuthorizing(head.method === 'POST')
  let verdict: Verdict
  try {
    verdict = await auth.verify(head.get('authorization'))
  } catch {
    verdict = 'denied'
  }
  if (exchange.closed || connection.answered) return // ended meanwhile
  if (verdict === 'busy') return exchange.respondBusy()
  if (verdict === 'denied') {
    return exchange.respondError(401, 'credentials required', [['WWW-Authenticate', BASIC_CHALLENGE]])
  }
  connection.serveWithSlot(target)
}

/** Serves a checked request that holds a pool slot: the handler its route names. */
export function serveRequest(connection: DispatchTarget, head: RequestHead, target: ParsedTarget): void {
  const exchange = connection.exchange
  const chosen = routeRequest(head.method, target.pathname, exchange.services.config.cors !== '')
  const wantBody = head.method === 'GET'
  switch (chosen.kind) {
    case 'upload-page':
      connection.enterResponding()
      exchange.respond(200, UPLOAD_PAGE.headers, wantBody ? UPLOAD_PAGE.body : null, UPLOAD_PAGE.body.length)
      return
    case 'file':
      connection.enterResponding()
      void serveFile(exchange, head, target, wantBody)
      return
    case 'upload':
      connection.beginUpload(head)
      return
    case 'preflight':
      exchange.respond(204, preflightHeaders(exchange.services), null)
      return
    case 'method-not-allowed':
      exchange.respondError(405, undefined, [['Allow', chosen.allow]])
  }
}
