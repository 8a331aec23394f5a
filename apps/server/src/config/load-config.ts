import { statSync } from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { UPLOAD_ROUTE } from '../common/routes.js'
import { type Config, firstIssue, parseConfig } from './config.js'
import { helpText } from './describe-settings.js'
import { convertSetting } from './setting-kinds.js'
import { envNamesOf, SETTING_NAMES, SETTINGS, type Setting } from './settings.js'
import { UsageError } from './usage-error.js'

export type CliResult = { kind: 'help'; text: string } | { kind: 'version' } | { kind: 'run'; config: Config }

interface ParsedArgs {
  readonly flags: Record<string, string | boolean | undefined>
  /** The directory to serve, when given as the one argument (`threadserve ./public`). */
  readonly dir: string | undefined
}

function readArgs(argv: readonly string[]): ParsedArgs {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean', short: 'v' },
  }
  for (const name of SETTING_NAMES) {
    const setting: Setting<unknown> = SETTINGS[name]
    const type = setting.kind === 'boolean' ? 'boolean' : 'string'
    options[setting.flag] = setting.short === undefined ? { type } : { type, short: setting.short }
  }
  let parsed: { values: ParsedArgs['flags']; positionals: string[] }
  try {
    // `pnpm --filter server start -- --port 0` may hand the script a literal leading `--`.
    const args = argv[0] === '--' ? argv.slice(1) : [...argv]
    parsed = parseArgs({ args, options, strict: true, allowPositionals: true })
  } catch (error) {
    throw new UsageError(`${(error as Error).message.split('\n')[0]} (see --help)`)
  }
  const [dir, ...extra] = parsed.positionals
  if (extra.length > 0) throw new UsageError(`one directory to serve, not ${parsed.positionals.length}: ${extra[0]}`)
  if (dir !== undefined && parsed.values.root !== undefined) {
    throw new UsageError(`DIR and --root both name the directory to serve: give one`)
  }
  return { flags: parsed.values, dir }
}

// The one argument is checked here rather than at start-up (supervisor/preflight.ts, which checks
// --root) so that its error names what the user typed: `DIR: ./pubic does not exist`.
function checkDirArgument(dir: string): void {
  let isDirectory: boolean
  try {
    isDirectory = statSync(dir).isDirectory()
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new UsageError(`DIR: ${dir} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`}`)
  }
  if (!isDirectory) throw new UsageError(`DIR: ${dir} is not a directory`)
}

/**
 * Reads flags (and the one argument, DIR, which is --root), then THREADSERVE_* environment
 * variables (and PORT), then defaults. Relative paths resolve against the directory the user ran
 * the command from (pnpm sets INIT_CWD to it). Throws UsageError with a one-line message for
 * anything invalid.
 */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): CliResult {
  const { flags, dir } = readArgs(argv)
  if (flags.help === true) return { kind: 'help', text: helpText() }
  if (flags.version === true) return { kind: 'version' }

  const baseDir = env.INIT_CWD ?? process.cwd()
  if (dir !== undefined) {
    flags.root = dir
    checkDirArgument(path.resolve(baseDir, dir))
  }
  const values: Record<string, unknown> = {}
  for (const name of SETTING_NAMES) {
    const setting: Setting<unknown> = SETTINGS[name]
    const flag = flags[setting.flag]
    const envName = envNamesOf(setting).find((name) => env[name] !== undefined)
    const fromEnv = envName === undefined ? undefined : env[envName]
    let source = `--${setting.flag}`
    if (name === 'root' && dir !== undefined) source = 'DIR'
    else if (flag === undefined && envName !== undefined) source = envName
    const text = flag !== undefined ? String(flag) : (fromEnv ?? setting.fallback)
    const converted = convertSetting(setting.kind, text, { baseDir, source })
    if (!converted.ok) throw new UsageError(`${source}: ${converted.message}`)
    // The one default that depends on another setting (root comes first in the table).
    const value =
      name === 'uploadDir' && converted.value === '' ? path.join(String(values.root), 'uploads') : converted.value
    const checked = setting.value.safeParse(value)
    if (!checked.success) throw new UsageError(`${source}: ${firstIssue(checked.error)}`)
    values[name] = checked.data
  }
  if (values.authAll === true && values.uploadAuth === null) throw new UsageError('--auth-all: needs --upload-auth')
  if (values.logHealth === true && values.healthPath === '') throw new UsageError('--log-health: needs --health-path')
  // The upload route (http/router.ts; not imported: the supervisor loads no request-serving code)
  // answers GET with its page and POST with uploads: a health check cannot share it.
  if (values.healthPath === UPLOAD_ROUTE) throw new UsageError(`--health-path: ${UPLOAD_ROUTE} is the upload route`)
  return { kind: 'run', config: parseConfig(values) }
}
