import path from 'node:path'
import { parseArgs } from 'node:util'
import { type Config, firstIssue, parseConfig } from './config.js'
import { helpText } from './describe-settings.js'
import { convertSetting } from './setting-kinds.js'
import { envNameOf, SETTING_NAMES, SETTINGS } from './settings.js'
import { UsageError } from './usage-error.js'

export type CliResult = { kind: 'help'; text: string } | { kind: 'version' } | { kind: 'run'; config: Config }

type ParsedFlags = Record<string, string | boolean | undefined>

function readFlags(argv: readonly string[]): ParsedFlags {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean', short: 'v' },
  }
  for (const name of SETTING_NAMES) {
    const setting = SETTINGS[name]
    options[setting.flag] = { type: setting.kind === 'boolean' ? 'boolean' : 'string' }
  }
  try {
    // `pnpm --filter server start -- --port 0` hands the script a literal leading `--`.
    const args = argv[0] === '--' ? argv.slice(1) : [...argv]
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values
  } catch (error) {
    throw new UsageError(`${(error as Error).message.split('\n')[0]} (see --help)`)
  }
}

/**
 * Reads flags, then THREADSERVE_* environment variables, then defaults. Relative paths resolve
 * against the directory the user ran the command from (pnpm sets INIT_CWD to it).
 * Throws UsageError with a one-line message for anything invalid.
 */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): CliResult {
  const flags = readFlags(argv)
  if (flags.help === true) return { kind: 'help', text: helpText() }
  if (flags.version === true) return { kind: 'version' }

  const baseDir = env.INIT_CWD ?? process.cwd()
  const values: Record<string, unknown> = {}
  for (const name of SETTING_NAMES) {
    const setting = SETTINGS[name]
    const flag = flags[setting.flag]
    const fromEnv = env[envNameOf(setting.flag)]
    const source = flag === undefined && fromEnv !== undefined ? envNameOf(setting.flag) : `--${setting.flag}`
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
  if (values.healthPath === '/upload') throw new UsageError('--health-path: /upload is the upload route')
  return { kind: 'run', config: parseConfig(values) }
}
