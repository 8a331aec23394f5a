import { randomBytes } from 'node:crypto'

// Names sort by arrival time and carry a random suffix so that workers never need to agree on a
// name: collisions are left to O_EXCL-style creation (link(2) fails with EEXIST), then retried.

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
