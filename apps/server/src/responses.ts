import { formatResponseHead, STATUS_TEXT } from '@threadserve/http10-parser'
import { httpDateNow } from './http-date.js'
import { SERVER_HEADER } from './version.js'

export type HeaderList = ReadonlyArray<readonly [string, string | number]>

const NO_HEADERS: HeaderList = []

/**
 * The head of every response this server sends: HTTP/1.0 (also to HTTP/1.1 clients, which then
 * know the connection closes), with Date, Server, Content-Length and Connection: close.
 */
export function responseHead(status: number, contentLength: number, headers: HeaderList = NO_HEADERS): string {
  return formatResponseHead(status, [
    ['Date', httpDateNow()],
    ['Server', SERVER_HEADER],
    ...headers,
    ['Content-Length', contentLength],
    ['Connection', 'close'],
  ])
}

/** A short text body for an error: the status line, and a client-safe detail when there is one. */
export function errorBody(status: number, detail?: string): string {
  const reason = STATUS_TEXT[status] ?? 'Error'
  return detail === undefined || detail === '' ? `${status} ${reason}\n` : `${status} ${reason}: ${detail}\n`
}
