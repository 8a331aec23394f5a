import type { FileHandle } from 'node:fs/promises'
import type { ParsedTarget, RequestHead } from '@threadserve/http10-parser'
import { buildListingResponse } from '../browser/directory-listing.js'
import { parseHttpDate } from '../files/http-date.js'
import type { FileInfo, Lookup } from '../files/static-files.js'
import { readErrorStatus } from './fs-error-status.js'
import { errorBody, type HeaderList } from './responses.js'
import type { WorkerServices } from './services.js'

// GET and HEAD of a path under the root: a file (from the cache, or streamed), a redirect for a
// directory without its slash, a listing (--list), or an error. What it needs of the connection
// is the FileExchange below; how bytes reach the socket is the connection's business.

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
  /** 200 with exactly `size` bytes read from `handle` (closed when done). */
  respondStream(handle: FileHandle, size: number, headers: HeaderList): void
}

/** Answers a GET (`wantBody`) or HEAD of `target`. */
export async function serveFile(
  exchange: FileExchange,
  head: RequestHead,
  target: ParsedTarget,
  wantBody: boolean,
): Promise<void> {
  let found: Lookup
  try {
    found = await exchange.services.files.lookup(target, wantBody)
  } catch {
    found = { kind: 'not-found' }
  }
  if (exchange.closed) return
  switch (found.kind) {
    case 'not-found':
      return exchange.respondError(404)
    case 'forbidden':
      return exchange.respondError(403)
    case 'unavailable':
      return exchange.respondBusy()
    case 'redirect':
      return exchange.respond(301, [['Location', found.location]], errorBody(301))
    case 'directory':
      return serveListing(exchange, head, target, found, wantBody)
  }
  const { file, body } = found
  const headers: HeaderList = [
    ['Content-Type', file.contentType],
    ['Last-Modified', file.lastModified],
  ]
  const since = head.get('if-modified-since')
  if (since !== undefined) {
    const sinceMs = parseHttpDate(since)
    // Last-Modified has whole seconds, so compare whole seconds (RFC 9110 §13.1.3).
    if (sinceMs !== undefined && Math.floor(file.mtimeMs / 1000) * 1000 <= sinceMs) {
      return exchange.respond(304, headers, null, file.size)
    }
  }
  if (!wantBody || file.size === 0) return exchange.respond(200, headers, null, file.size)
  if (body !== null) return exchange.respond(200, headers, body)
  await streamFile(exchange, file, headers)
}

async function streamFile(exchange: FileExchange, file: FileInfo, headers: HeaderList): Promise<void> {
  let handle: FileHandle
  try {
    handle = await exchange.services.files.open(file)
  } catch (error) {
    const status = readErrorStatus(error)
    return status === 503 ? exchange.respondBusy() : exchange.respondError(status)
  }
  if (exchange.closed) {
    await handle.close()
    return
  }
  exchange.respondStream(handle, file.size, headers)
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
