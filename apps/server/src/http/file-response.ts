import type { ParsedTarget, RequestHead } from '@threadserve/http10-parser'
import { buildListingResponse } from '../browser/directory-listing.js'
import { evaluatePreconditions } from '../files/conditional.js'
import { acceptedPrecompressed } from '../files/content-coding.js'
import { formatEtag } from '../files/etag.js'
import { type FileInfo, isSameVersion, type Lookup } from '../files/static-files.js'
import { uploadSafetyHeaders } from '../files/upload-safety.js'
import { readErrorStatus } from './fs-error-status.js'
import type { FileSlice } from './response-writer.js'
import { errorBody, type HeaderList } from './responses.js'
import type { WorkerServices } from './services.js'

// GET and HEAD of a path under the root: a file (from the cache, or streamed; whole, or one
// byte range; or 304), a redirect for a directory without its slash, a listing (--list), or an
// error. What it needs of the connection is the FileExchange below; how bytes reach the socket
// is the connection's business.

/** What serving a file needs from the connection it arrived on. */
export interface FileExchange {
  readonly services: WorkerServices
  /** The client has gone: stop, answer nothing. */
  readonly closed: boolean
  /** A whole response; `contentLength` when `body` is null but the head announces a size (HEAD, 304). */
  respond(status: number, headers: HeaderList, body: string | Buffer | null, contentLength?: number): void
  respondError(status: number, detail?: string, headers?: HeaderList): void
  /** 503 with Retry-After: out of descriptors or memory. */
  respondBusy(): void
  /** `status` (200 or 206) with a slice of an open file, streamed; the handle is closed when done. */
  respondStream(status: number, headers: HeaderList, slice: FileSlice): void
}

// A file opened for streaming that turns out to be another version than its lookup described is
// looked up again, this many times at most (a file rewritten continuously gets a 503).
const MAX_LOOKUPS = 3

/** Answers a GET (`wantBody`) or HEAD of `target`. */
export async function serveFile(
  exchange: FileExchange,
  head: RequestHead,
  target: ParsedTarget,
  wantBody: boolean,
): Promise<void> {
  const services = exchange.services
  const cors = corsHeaders(services)
  for (let attempt = 0; attempt < MAX_LOOKUPS; attempt++) {
    let found: Lookup
    try {
      found = await services.files.lookup(target, wantBody)
    } catch {
      found = { kind: 'not-found' }
    }
    if (exchange.closed) return
    switch (found.kind) {
      case 'not-found':
        return exchange.respondError(404, undefined, cors)
      case 'forbidden':
        return exchange.respondError(403, undefined, cors)
      case 'unavailable':
        return exchange.respondBusy()
      case 'redirect':
        return exchange.respond(301, [['Location', found.location], ...cors], errorBody(301))
      case 'directory':
        return serveListing(exchange, head, target, found, wantBody)
    }
    let { file, body } = found
    let coding: string | undefined
    if (services.config.precompressed) {
      for (const candidate of acceptedPrecompressed(head.get('accept-encoding'))) {
        const sibling = await services.files.sibling(file, candidate.suffix)
        if (sibling === null) continue
        file = sibling
        body = null
        coding = candidate.coding
        break
      }
      if (exchange.closed) return
    }
    const served = await serveVersion(exchange, head, file, body, coding, wantBody, cors)
    if (served) return
  }
  exchange.respondBusy()
}

/** Answers from one version of a file; false when it changed before it could be opened. */
async function serveVersion(
  exchange: FileExchange,
  head: RequestHead,
  file: FileInfo,
  body: Buffer | null,
  coding: string | undefined,
  wantBody: boolean,
  cors: HeaderList,
): Promise<boolean> {
  const etag = coding === undefined ? file.etag : formatEtag(file.mtimeMs, file.size, coding)
  const headers = fileHeaders(exchange.services, file, etag, coding, cors)
  const outcome = evaluatePreconditions(
    {
      ifNoneMatch: head.get('if-none-match'),
      ifModifiedSince: head.get('if-modified-since'),
      range: head.get('range'),
      ifRange: head.get('if-range'),
    },
    { etag, lastModifiedMs: file.mtimeMs, size: file.size },
  )
  if (outcome.status === 304) {
    // RFC 9110 §8.6: a 304 may carry Content-Length only as the length a 200 would have had; a 0
    // there is wrong, and a cache that refreshes its stored fields from the 304 would keep it.
    exchange.respond(304, headers, null, file.size)
    return true
  }
  if (outcome.status === 416) {
    // The size is the selected coding's, so the answer varies with Accept-Encoding as a 200 does.
    const unsatisfiable: HeaderList = exchange.services.config.precompressed
      ? [['Content-Range', `bytes */${file.size}`], ['Vary', 'Accept-Encoding'], ...cors]
      : [['Content-Range', `bytes */${file.size}`], ...cors]
    exchange.respondError(416, undefined, unsatisfiable)
    return true
  }
  const start = outcome.status === 206 ? outcome.range.start : 0
  const end = outcome.status === 206 ? outcome.range.end : file.size - 1
  const ranged: HeaderList =
    outcome.status === 206 ? [...headers, ['Content-Range', `bytes ${start}-${end}/${file.size}`]] : headers
  if (body !== null) {
    exchange.respond(
      outcome.status,
      ranged,
      start === 0 && end === body.length - 1 ? body : body.subarray(start, end + 1),
    )
    return true
  }
  let handle: Awaited<ReturnType<WorkerServices['files']['open']>>
  try {
    handle = await exchange.services.files.open(file)
  } catch (error) {
    const status = readErrorStatus(error)
    if (status === 503) exchange.respondBusy()
    else exchange.respondError(status, undefined, cors)
    return true
  }
  if (handle === null) return false // another version since the lookup: look again
  // HEAD and an empty file send no bytes, but only once the file could be opened: a HEAD gets
  // the status GET would (RFC 9110 §9.3.2), 403 for a file the server may not read, as nginx,
  // which opens the file for HEAD too.
  if (exchange.closed || !wantBody || file.size === 0) {
    await handle.close()
    if (!exchange.closed) exchange.respond(outcome.status, ranged, null, end - start + 1)
    return true
  }
  const verify = async (open: typeof handle & object): Promise<boolean> => isSameVersion(await open.stat(), file)
  exchange.respondStream(outcome.status, ranged, { handle, start, end, verify })
  return true
}

// A file's headers depend only on its version (FileInfo) and the worker's settings: for a file
// served from the cache they are built once, not once per response.
const HEADERS_OF_FILE = new WeakMap<FileInfo, HeaderList>()

/** The headers of a file response, whatever its status (200, 206 and 304 alike). */
function fileHeaders(
  services: WorkerServices,
  file: FileInfo,
  etag: string,
  coding: string | undefined,
  cors: HeaderList,
): HeaderList {
  if (coding === undefined) {
    const known = HEADERS_OF_FILE.get(file)
    if (known !== undefined) return known
  }
  const headers: [string, string][] = [
    ['Content-Type', file.contentType],
    ['Last-Modified', file.lastModified],
    ['ETag', etag],
    ['Accept-Ranges', 'bytes'],
  ]
  if (coding !== undefined) headers.push(['Content-Encoding', coding])
  if (services.config.precompressed) headers.push(['Vary', 'Accept-Encoding'])
  const isUpload = services.uploadRealDir !== null && file.realPath.startsWith(services.uploadRealDir)
  if (isUpload) {
    for (const [name, value] of uploadSafetyHeaders(file.contentType)) headers.push([name, String(value)])
  } else {
    headers.push(['X-Content-Type-Options', 'nosniff'])
    if (services.config.cacheControl !== '') headers.push(['Cache-Control', services.config.cacheControl])
  }
  headers.push(['Referrer-Policy', 'no-referrer'])
  for (const [name, value] of cors) headers.push([name, String(value)])
  if (coding === undefined) HEADERS_OF_FILE.set(file, headers)
  return headers
}

const NO_HEADERS: HeaderList = []

// Response headers a script on another origin may read besides the CORS-safelisted ones (Fetch
// standard): what it needs to revalidate and to resume (ETag, Content-Range).
const EXPOSED = 'ETag, Content-Range, Accept-Ranges, Content-Encoding'

// The lists for a worker's settings, built once, not per request.
const CORS_OF_CONFIG = new WeakMap<WorkerServices['config'], { cors: HeaderList; preflight: HeaderList }>()

function corsLists(config: WorkerServices['config']): { cors: HeaderList; preflight: HeaderList } {
  let lists = CORS_OF_CONFIG.get(config)
  if (lists === undefined) {
    const cors = buildCorsHeaders(config.cors)
    lists = { cors, preflight: [...cors, ...PREFLIGHT] }
    CORS_OF_CONFIG.set(config, lists)
  }
  return lists
}

/** --cors: who may read our answers from another origin (the Fetch standard's CORS protocol). */
export function corsHeaders(services: WorkerServices): HeaderList {
  return corsLists(services.config).cors
}

function buildCorsHeaders(origin: string): HeaderList {
  if (origin === '') return NO_HEADERS
  return origin === '*'
    ? [
        ['Access-Control-Allow-Origin', '*'],
        ['Access-Control-Expose-Headers', EXPOSED],
      ]
    : [
        ['Access-Control-Allow-Origin', origin],
        ['Access-Control-Expose-Headers', EXPOSED],
        ['Vary', 'Origin'],
      ]
}

// A preflight's answer: GET and HEAD may be sent, with the request headers a file download uses
// (ranges and revalidation).
const PREFLIGHT: HeaderList = [
  ['Access-Control-Allow-Methods', 'GET, HEAD'],
  ['Access-Control-Allow-Headers', 'Range, If-Range, If-None-Match, If-Modified-Since'],
  ['Access-Control-Max-Age', 600],
]

/** --cors: the answer to a preflight (OPTIONS with Access-Control-Request-Method). */
export function preflightHeaders(services: WorkerServices): HeaderList {
  return corsLists(services.config).preflight
}

/** `--list`: a directory without index.html, as HTML or JSON (browser/directory-listing.ts). */
async function serveListing(
  exchange: FileExchange,
  head: RequestHead,
  target: ParsedTarget,
  found: { readonly realPath: string; readonly root: string },
  wantBody: boolean,
): Promise<void> {
  let listing: Awaited<ReturnType<typeof buildListingResponse>>
  try {
    listing = await buildListingResponse(found.root, found.realPath, target.pathname, head.get('accept'))
  } catch (error) {
    const status = readErrorStatus(error)
    return status === 503 ? exchange.respondBusy() : exchange.respondError(status)
  }
  if (exchange.closed) return
  exchange.respond(200, listing.headers, wantBody ? listing.body : null, listing.body.length)
}
