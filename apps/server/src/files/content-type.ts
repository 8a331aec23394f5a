import path from 'node:path'
import { CONTENT_TYPES } from '../generated/mime-table.js'

// The table is mime-types' (jshttp, backed by mime-db: what Express and friends use), generated
// ahead of time by scripts/gen-mime-table.mjs: building it at start-up cost every worker ~22 ms.
const DEFAULT_TYPE = 'application/octet-stream'

/** Content-Type for a file name, with a charset for text types. */
export function contentTypeFor(filePath: string): string {
  const extension = path.extname(filePath).slice(1).toLowerCase()
  return CONTENT_TYPES[extension] ?? DEFAULT_TYPE
}
