// Which handler a request goes to, from its method and path alone: a pure function, so the
// routing table can be read (and tested) in one place.

import { UPLOAD_ROUTE } from '../common/routes.js'

export type Route =
  | { readonly kind: 'upload-page' }
  | { readonly kind: 'file' }
  | { readonly kind: 'upload' }
  /** --cors: a browser's CORS preflight (OPTIONS), answered 204 with what may be asked. */
  | { readonly kind: 'preflight' }
  /** 405, with the methods the path does allow (RFC 9110 §15.5.6 requires `Allow`). */
  | { readonly kind: 'method-not-allowed'; readonly allow: string }

export interface RouteOptions {
  /** --upload-auth is set. */
  readonly authEnabled: boolean
  /** --auth-all: GET and HEAD need the credentials too. */
  readonly authAll: boolean
}

const UPLOAD_PAGE: Route = { kind: 'upload-page' }
const FILE: Route = { kind: 'file' }
const UPLOAD: Route = { kind: 'upload' }
const PREFLIGHT: Route = { kind: 'preflight' }
const ONLY_READ: Route = { kind: 'method-not-allowed', allow: 'GET, HEAD' }
const READ_OR_UPLOAD: Route = { kind: 'method-not-allowed', allow: 'GET, HEAD, POST' }

/** The handler for `method` on `pathname`; OPTIONS is a preflight only with `cors` (--cors) on. */
export function routeRequest(method: string, pathname: string, cors = false): Route {
  const isUploadRoute = pathname === UPLOAD_ROUTE
  if (method === 'OPTIONS' && cors) return PREFLIGHT
  if (method === 'GET' || method === 'HEAD') return isUploadRoute ? UPLOAD_PAGE : FILE
  if (method === 'POST' && isUploadRoute) return UPLOAD
  return isUploadRoute ? READ_OR_UPLOAD : ONLY_READ
}

/**
 * Whether the request must carry credentials: --upload-auth guards every POST and the upload
 * page; --auth-all every GET and HEAD as well.
 */
export function needsCredentials(method: string, pathname: string, options: RouteOptions): boolean {
  if (!options.authEnabled) return false
  if (method === 'POST') return true
  return (method === 'GET' || method === 'HEAD') && (options.authAll || pathname === UPLOAD_ROUTE)
}
