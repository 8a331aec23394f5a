import { constants } from 'node:fs'
import { access, mkdir, open, stat } from 'node:fs/promises'
import type { Config } from '../config/config.js'
import { UsageError } from '../config/usage-error.js'

// Start-up checks that turn the usual operator mistakes into one clear line (exit code 2) before
// any worker starts, instead of a stack trace or a worker crash loop.

function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code
  if (code === 'ENOENT') return 'does not exist'
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied'
  if (code === 'ENOTDIR') return 'is not a directory'
  return code ?? (error as Error).message
}

export async function checkStartup(config: Config): Promise<void> {
  try {
    const rootStats = await stat(config.root)
    if (!rootStats.isDirectory()) throw new UsageError(`--root: ${config.root} is not a directory`)
    await access(config.root, constants.R_OK | constants.X_OK)
  } catch (error) {
    if (error instanceof UsageError) throw error
    throw new UsageError(`--root: ${config.root} ${reason(error)}`)
  }
  try {
    await mkdir(config.uploadDir, { recursive: true })
    await access(config.uploadDir, constants.W_OK | constants.X_OK)
  } catch (error) {
    throw new UsageError(`--upload-dir: ${config.uploadDir} ${reason(error)}`)
  }
  if (config.logPath !== '-') {
    try {
      await (await open(config.logPath, 'a')).close()
    } catch (error) {
      throw new UsageError(`--log: cannot append to ${config.logPath}: ${reason(error)}`)
    }
  }
}
