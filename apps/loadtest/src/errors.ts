/** A bad command line or option value: reported as one line, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

/**
 * Why a request failed without a complete response. Kinds are added, never renamed (the JSON
 * report and the README list them).
 */
export const ERROR_KINDS = ['refused', 'reset', 'timeout', 'malformed', 'closed', 'other'] as const
export type ErrorKind = (typeof ERROR_KINDS)[number]

/** Responses that arrived whole but failed an optional `--expect-*`/`--check-*` check. */
export const CHECK_KINDS = ['status', 'length', 'sha256'] as const
export type CheckKind = (typeof CHECK_KINDS)[number]

export const ErrorKindIndex = { refused: 0, reset: 1, timeout: 2, malformed: 3, closed: 4, other: 5 } as const
export const CheckKindIndex = { status: 0, length: 1, sha256: 2 } as const

/** Maps a socket error code to its kind (ECONNREFUSED -> refused, ECONNRESET/EPIPE -> reset). */
export function classifySocketError(code: string | undefined): number {
  if (code === 'ECONNREFUSED') return ErrorKindIndex.refused
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED') return ErrorKindIndex.reset
  if (code === 'ETIMEDOUT') return ErrorKindIndex.timeout
  return ErrorKindIndex.other
}
