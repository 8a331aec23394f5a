import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { UsageError } from './errors.js'
import type { LoadOptions } from './options.js'
import { VERSION } from './version.js'

const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH'])

/** The request body the options ask for: a file's bytes, random bytes, or none. */
export async function loadBody(options: LoadOptions): Promise<Buffer | null> {
  if (options.bodySize !== null) return randomBytes(options.bodySize)
  if (options.bodyFile === null) return null
  try {
    return await readFile(options.bodyFile)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error'
    throw new UsageError(`--body-file: cannot read "${options.bodyFile}" (${code})`)
  }
}

/**
 * The one request every connection sends, head and body in a single Buffer (one write, no copy
 * per request).
 * @example
 * const request = buildRequest(options, Buffer.from('hello'))
 */
export function buildRequest(options: LoadOptions, body: Buffer | null): Buffer {
  const own = new Set(options.headers.map(([name]) => name.toLowerCase()))
  const hostHeader = new URL(options.url).host
  let head = `${options.method} ${options.path} HTTP/1.0\r\n`
  if (!own.has('host')) head += `Host: ${hostHeader}\r\n`
  if (!own.has('user-agent')) head += `User-Agent: loadtest/${VERSION}\r\n`
  if (!own.has('accept')) head += 'Accept: */*\r\n'
  // RFC 9112 §9.3 / RFC 1945 keep-alive extension: HTTP/1.0 connections persist only on request.
  if (options.keepAlive && !own.has('connection')) head += 'Connection: keep-alive\r\n'
  const bodyLength = body === null ? 0 : body.length
  if (body !== null || METHODS_WITH_BODY.has(options.method)) {
    if (!own.has('content-length')) head += `Content-Length: ${bodyLength}\r\n`
    if (bodyLength > 0 && !own.has('content-type')) head += 'Content-Type: application/octet-stream\r\n'
  }
  for (const [name, value] of options.headers) head += `${name}: ${value}\r\n`
  head += '\r\n'
  const headBytes = Buffer.from(head, 'latin1')
  return body === null ? headBytes : Buffer.concat([headBytes, body])
}
