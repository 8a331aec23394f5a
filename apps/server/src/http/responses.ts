import { formatResponseHead, STATUS_TEXT } from '@threadserve/http10-parser'
import { SERVER_HEADER } from '../common/version.js'
import { httpDateNow } from '../files/http-date.js'

export type HeaderList = ReadonlyArray<readonly [string, string | number]>

const NO_HEADERS: HeaderList = []

/**
 * The head of every response this server sends: HTTP/1.0 (also to HTTP/1.1 clients), with Date,
 * Server, Content-Length (not on a 204) and `Connection: close`, or `Connection: keep-alive`
 * when the connection stays open for another request (`--keep-alive`, see keep-alive.ts).
 */
export function responseHead(
  status: number,
  contentLength: number,
  headers: HeaderList = NO_HEADERS,
  keepAlive = false,
): string {
  const connection = keepAlive ? 'keep-alive' : 'close'
  // RFC 9110 §8.6: a 204 has no content and must not send Content-Length.
  if (status === 204) {
    return formatResponseHead(status, [
      ['Date', httpDateNow()],
      ['Server', SERVER_HEADER],
      ...headers,
      ['Connection', connection],
    ])
  }
  return formatResponseHead(status, [
    ['Date', httpDateNow()],
    ['Server', SERVER_HEADER],
    ...headers,
    ['Content-Length', contentLength],
    ['Connection', connection],
  ])
}

/** A short text body for an error: the status line, and a client-safe detail when there is one. */
export function errorBody(status: number, detail?: string): string {
  const reason = STATUS_TEXT[status] ?? 'Error'
  return detail === undefined || detail === '' ? `${status} ${reason}\n` : `${status} ${reason}: ${detail}\n`
}
