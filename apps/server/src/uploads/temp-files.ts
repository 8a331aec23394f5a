import { randomBytes } from 'node:crypto'
import { readdir, unlink } from 'node:fs/promises'
import path from 'node:path'

// The hidden temp files uploads are written to before they get their final name
// (upload-store.ts), and their removal after a crash. The supervisor loads only this module of
// uploads/: it sweeps the upload dir at start-up and after a worker dies.

const TEMP_PREFIX = '.upload-'
const TEMP_SUFFIX = '.part'

/** The temp-file name of an upload in progress: hidden, and tagged with the writer's pid for clean-up. */
export function tempName(pid: number): string {
  return `${TEMP_PREFIX}${pid}-${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`
}

/** Removes temp files left by a crash: all of them at start-up, or those of one dead worker's pid. */
export async function removeTempFiles(dir: string, pid?: number): Promise<number> {
  const prefix = pid === undefined ? TEMP_PREFIX : `${TEMP_PREFIX}${pid}-`
  let names: string[]
  try {
    names = await readdir(dir)
  } catch {
    return 0
  }
  let removed = 0
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith(TEMP_SUFFIX)) continue
    try {
      await unlink(path.join(dir, name))
      removed++
    } catch {
      // Another process removed it first: the goal is reached either way.
    }
  }
  return removed
}
