import { randomBytes } from 'node:crypto'
import mime from 'mime-types'

// Names sort by arrival time and carry a random suffix so that workers never need to agree on a
// name: collisions are left to O_EXCL-style creation (link(2) fails with EEXIST), then retried.

const SAFE_EXTENSION = /^[a-z0-9]{1,16}$/
const FALLBACK_EXTENSION = 'bin'

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0')
}

/** `2026-11-25T19-02-38-123Z-3f9a1c2e.txt`: UTC time with milliseconds, a random suffix, an extension. */
export function createUploadName(extension: string, nowMs = Date.now()): string {
  const t = new Date(nowMs)
  const stamp =
    `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1, 2)}-${pad(t.getUTCDate(), 2)}` +
    `T${pad(t.getUTCHours(), 2)}-${pad(t.getUTCMinutes(), 2)}-${pad(t.getUTCSeconds(), 2)}-${pad(t.getUTCMilliseconds(), 3)}Z`
  return `${stamp}-${randomBytes(4).toString('hex')}.${extension}`
}

/**
 * The extension for a stored upload: from a filename hint when it has a plain one (the name
 * itself is never used: it is the client's, and only its extension is useful), else from the
 * Content-Type, else "bin".
 */
export function chooseUploadExtension(contentType: string | undefined, filenameHint: string | undefined): string {
  if (filenameHint !== undefined) {
    const dot = filenameHint.lastIndexOf('.')
    const extension = dot >= 0 ? filenameHint.slice(dot + 1).toLowerCase() : ''
    if (SAFE_EXTENSION.test(extension)) return extension
  }
  if (contentType !== undefined) {
    const extension = mime.extension(contentType)
    if (extension !== false && SAFE_EXTENSION.test(extension)) return extension
  }
  return FALLBACK_EXTENSION
}

const DISPOSITION_FILENAME = /filename\*?=(?:UTF-8'')?"?([^";]*)"?/i

/** The filename hint of a raw upload: `X-File-Name`, or the filename in `Content-Disposition`. */
export function filenameHintOf(
  xFileName: string | undefined,
  contentDisposition: string | undefined,
): string | undefined {
  if (xFileName !== undefined && xFileName !== '') return xFileName
  if (contentDisposition === undefined) return undefined
  const match = DISPOSITION_FILENAME.exec(contentDisposition)
  return match?.[1] || undefined
}
