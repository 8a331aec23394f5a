import path from 'node:path'
import mime from 'mime-types'

// mime-types (jshttp, backed by mime-db) is the maintained table Express and friends use; looking
// it up once per extension keeps it off the per-request path.
const DEFAULT_TYPE = 'application/octet-stream'
const byExtension = new Map<string, string>()

/** Content-Type for a file name, with a charset for text types. */
export function contentTypeFor(filePath: string): string {
  const extension = path.extname(filePath).toLowerCase()
  let type = byExtension.get(extension)
  if (type === undefined) {
    type = (extension !== '' && mime.contentType(extension)) || DEFAULT_TYPE
    byExtension.set(extension, type)
  }
  return type
}
