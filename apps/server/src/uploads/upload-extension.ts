import { EXTENSIONS } from '../generated/mime-table.js'

// Apart from upload-name.ts so that the supervisor, which needs upload names (its temp-file sweep)
// but never an extension, does not load the MIME table.

const SAFE_EXTENSION = /^[a-z0-9]{1,16}$/
const FALLBACK_EXTENSION = 'bin'

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
    const extension = extensionOfType(contentType)
    if (extension !== undefined && SAFE_EXTENSION.test(extension)) return extension
  }
  return FALLBACK_EXTENSION
}

// mime-types' own rule for the media type of a Content-Type: what precedes the first ';' or space.
const MEDIA_TYPE = /^\s*([^;\s]*)(?:;|\s|$)/

/** The preferred extension of a Content-Type's media type, as mime.extension() gives it. */
export function extensionOfType(contentType: string): string | undefined {
  const mediaType = MEDIA_TYPE.exec(contentType)?.[1]
  return mediaType === undefined ? undefined : EXTENSIONS[mediaType.toLowerCase()]
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
