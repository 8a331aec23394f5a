// What a failed file-system call means for the client, in one place: every read path (file,
// listing) and every write path (upload) maps an errno through here.

export type FsFailure = 'not-found' | 'forbidden' | 'unavailable' | 'no-space' | 'failed'

/** Classifies a Node file-system error by its `code`. */
export function classifyFsError(error: unknown): FsFailure {
  switch ((error as NodeJS.ErrnoException | null)?.code) {
    case 'ENOENT':
    case 'ENOTDIR':
    case 'ELOOP':
    case 'ENAMETOOLONG':
      return 'not-found'
    case 'EACCES':
    case 'EPERM':
      return 'forbidden'
    // Out of descriptors or memory: the file may well exist; the client should try again.
    case 'EMFILE':
    case 'ENFILE':
    case 'ENOMEM':
      return 'unavailable'
    case 'ENOSPC':
    case 'EDQUOT':
      return 'no-space'
    default:
      return 'failed'
  }
}

/**
 * The status for a failed read of something the client asked for: 403 when refused, 503 (try
 * again) when out of descriptors or memory, and 404 otherwise, so that nothing about the file
 * system leaks beyond "not here".
 */
export function readErrorStatus(error: unknown): 403 | 404 | 503 {
  const failure = classifyFsError(error)
  if (failure === 'forbidden') return 403
  if (failure === 'unavailable') return 503
  return 404
}

/** The status for a failed upload write: a full disk is 507, out of descriptors 503, else 500. */
export function writeErrorStatus(error: unknown): 500 | 503 | 507 {
  const failure = classifyFsError(error)
  if (failure === 'no-space') return 507
  if (failure === 'unavailable') return 503
  return 500
}
