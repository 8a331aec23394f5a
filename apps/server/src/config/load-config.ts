import path from 'node:path'
import { parseArgs } from 'node:util'
import * as z from 'zod/mini'
import en from 'zod/v4/locales/en.js'
import { type Credential, loadCredentials } from '../auth/basic-auth.js'
import { parseDuration, parseSize } from './units.js'
import { UsageError } from './usage-error.js'

// zod/mini rather than classic zod keeps the bundled supervisor ~700 KB smaller (start-up, issue 7);
// it needs a locale for readable messages ('Too big: expected number to be <=65535').
z.config(en())

// One table drives the flags, their environment variables, validation and --help, so they can
// never disagree. Flag names are part of the contract (DESIGN.md "Defaults").
const SETTINGS = {
  host: { kind: 'string', fallback: '127.0.0.1', help: 'address to listen on' },
  port: { kind: 'integer', fallback: '8080', help: 'port to listen on (0 = pick a free one and print it)' },
  workers: { kind: 'integer', fallback: '5', help: 'worker processes' },
  poolSize: { kind: 'integer', fallback: '20', help: 'requests served at once per worker (heads complete)' },
  queueSize: { kind: 'integer', fallback: '100', help: 'requests waiting per worker for a pool slot (then 503)' },
  maxConnections: {
    kind: 'integer',
    fallback: '1024',
    help: 'open connections per worker, idle ones included (then 503)',
  },
  backlog: {
    kind: 'integer',
    fallback: '4096',
    help: 'connections the kernel queues before they are accepted (capped by net.core.somaxconn)',
  },
  maxPosts: { kind: 'integer', fallback: '5', help: 'POST uploads in progress server-wide (then 503)' },
  root: { kind: 'string', fallback: './static', help: 'directory served by GET/HEAD' },
  uploadDir: { kind: 'string', fallback: '', help: 'where POST /upload stores files (default <root>/uploads)' },
  maxBody: { kind: 'size', fallback: '64MiB', help: 'largest upload accepted (then 413)' },
  maxRequestLine: { kind: 'size', fallback: '8KiB', help: 'longest request line (then 414)' },
  maxHeaderSize: { kind: 'size', fallback: '16KiB', help: 'largest header block (then 431)' },
  maxHeaders: { kind: 'integer', fallback: '100', help: 'most header fields (then 431)' },
  log: { kind: 'string', fallback: './server.log', help: "access log file, '-' for stdout" },
  logFormat: { kind: 'enum', fallback: 'text', help: 'access log format: text or json' },
  headerTimeout: { kind: 'duration', fallback: '10s', help: 'time to receive the request head (then 408)' },
  bodyTimeout: { kind: 'duration', fallback: '30s', help: 'longest pause while receiving a body (then 408)' },
  keepAlive: {
    kind: 'boolean',
    fallback: 'false',
    help: 'keep connections open for clients that ask (HTTP/1.0 keep-alive, HTTP/1.1); off: every response closes',
  },
  keepAliveTimeout: {
    kind: 'duration',
    fallback: '5s',
    help: 'with --keep-alive: how long a connection may sit idle between requests',
  },
  keepAliveRequests: {
    kind: 'integer',
    fallback: '1000',
    help: 'with --keep-alive: requests served on one connection before it closes',
  },
  shutdownGrace: { kind: 'duration', fallback: '10s', help: 'time in-flight requests get on SIGINT/SIGTERM' },
  balance: {
    kind: 'enum',
    fallback: 'supervisor',
    help: 'who spreads connections: supervisor (round-robin hand-off) or kernel (workers accept)',
  },
  pidFile: { kind: 'string', fallback: '', help: 'write the supervisor pid here, locked against a second server' },
  list: {
    kind: 'boolean',
    fallback: 'false',
    help: 'list directories that have no index.html (HTML, or JSON on Accept)',
  },
  uploadAuth: {
    kind: 'string',
    fallback: '',
    help: 'HTTP Basic for POST and /upload: user:password, or a file of user:hash lines',
  },
  authAll: { kind: 'boolean', fallback: 'false', help: 'with --upload-auth: require the credentials for GET/HEAD too' },
} as const

type SettingName = keyof typeof SETTINGS
const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[]

function isBoolean(name: SettingName): boolean {
  return SETTINGS[name].kind === 'boolean'
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)
}

function envName(name: string): string {
  return `THREADSERVE_${kebab(name).replaceAll('-', '_').toUpperCase()}`
}

function withUnits(parse: (text: string) => number | undefined, example: string) {
  return z.pipe(
    z.string(),
    z.transform((text: string, ctx) => {
      const value = parse(text)
      if (value === undefined)
        ctx.issues.push({ code: 'custom', message: `expected a value like ${example}, got "${text}"`, input: text })
      return value ?? 0
    }),
  )
}

// Boolean settings: a bare flag (`--list`) or `THREADSERVE_LIST=1` / `true` / `yes` (0/false/no off).
const BOOL_WORDS = ['1', 'true', 'yes', '0', 'false', 'no', ''] as const
type BoolWord = (typeof BOOL_WORDS)[number]
const Bool = z.pipe(
  z.pipe(
    z.string(),
    z.transform((text: string) => text.toLowerCase()),
  ),
  z.pipe(
    z.enum(BOOL_WORDS, { error: 'expected 1/true/yes or 0/false/no' }),
    z.transform((text: BoolWord) => text === '1' || text === 'true' || text === 'yes'),
  ),
)

// Node timers take at most 2^31 - 1 ms (about 24.8 days); a longer one fires at once.
const MAX_TIMER_MS = 2 ** 31 - 1

const Integer = z.pipe(z.string().check(z.regex(/^\d+$/, 'expected a whole number')), z.transform(Number))

/** A whole number or a size/duration, then bounded: `--workers 0` reads "Too small: ... >=1". */
function within(setting: z.ZodMiniType<number, string>, min: number, max: number) {
  return z.pipe(setting, z.number().check(z.gte(min), z.lte(max)))
}

const RawConfig = z.strictObject({
  host: z.string().check(z.minLength(1)),
  port: within(Integer, 0, 65535),
  workers: within(Integer, 1, 64),
  poolSize: within(Integer, 1, 10_000),
  queueSize: within(Integer, 0, 100_000),
  maxConnections: within(Integer, 1, 1_000_000),
  backlog: within(Integer, 1, 65535),
  maxPosts: within(Integer, 1, 10_000),
  root: z.string().check(z.minLength(1)),
  uploadDir: z.string(),
  maxBody: within(withUnits(parseSize, '64MiB'), 1, Number.MAX_SAFE_INTEGER),
  maxRequestLine: within(withUnits(parseSize, '8KiB'), 64, 1024 * 1024),
  maxHeaderSize: within(withUnits(parseSize, '16KiB'), 64, 16 * 1024 * 1024),
  maxHeaders: within(Integer, 1, 10_000),
  log: z.string().check(z.minLength(1)),
  logFormat: z.enum(['text', 'json']),
  headerTimeout: within(withUnits(parseDuration, '10s'), 1, MAX_TIMER_MS),
  bodyTimeout: within(withUnits(parseDuration, '30s'), 1, MAX_TIMER_MS),
  keepAlive: Bool,
  keepAliveTimeout: within(withUnits(parseDuration, '5s'), 1, MAX_TIMER_MS),
  keepAliveRequests: within(Integer, 1, 1_000_000),
  shutdownGrace: within(withUnits(parseDuration, '10s'), 0, MAX_TIMER_MS),
  balance: z.enum(['supervisor', 'kernel']),
  pidFile: z.string(),
  list: Bool,
  uploadAuth: z.string(),
  authAll: Bool,
})

/** Resolved settings: paths absolute, sizes in bytes, durations in milliseconds. */
export interface Config {
  readonly host: string
  readonly port: number
  readonly workers: number
  readonly poolSize: number
  readonly queueSize: number
  readonly maxConnections: number
  /** listen(2) backlog: a burst of connects bigger than this, arriving faster than they are accepted, is lost. */
  readonly backlog: number
  readonly maxPosts: number
  readonly root: string
  readonly uploadDir: string
  readonly maxBodyBytes: number
  readonly maxRequestLineBytes: number
  readonly maxHeaderBytes: number
  readonly maxHeaderCount: number
  readonly logPath: string
  readonly logFormat: 'text' | 'json'
  readonly headerTimeoutMs: number
  readonly bodyTimeoutMs: number
  /** --keep-alive: persistent connections for clients that ask; off, every response closes (DESIGN.md). */
  readonly keepAlive: boolean
  readonly keepAliveTimeoutMs: number
  readonly keepAliveRequests: number
  readonly shutdownGraceMs: number
  /** 'supervisor': it accepts and hands sockets round-robin; 'kernel': workers accept on a shared handle. */
  readonly balance: 'supervisor' | 'kernel'
  readonly pidFile: string | null
  /** --list: directories without index.html get a listing (issue 8). */
  readonly listDirectories: boolean
  /** --upload-auth, hashed: null when uploads are open to anyone. */
  readonly uploadAuth: readonly Credential[] | null
  readonly authAll: boolean
}

export type CliResult = { kind: 'help'; text: string } | { kind: 'version' } | { kind: 'run'; config: Config }

/**
 * Reads flags, then THREADSERVE_* environment variables, then defaults. Relative paths resolve
 * against the directory the user ran the command from (pnpm sets INIT_CWD to it).
 * Throws UsageError with a one-line message for anything invalid.
 */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): CliResult {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean', short: 'v' },
  }
  for (const name of SETTING_NAMES) options[kebab(name)] = { type: isBoolean(name) ? 'boolean' : 'string' }
  let values: Record<string, string | boolean | undefined>
  try {
    // `pnpm --filter server start -- --port 0` hands the script a literal leading `--`.
    const args = argv[0] === '--' ? argv.slice(1) : [...argv]
    values = parseArgs({ args, options, strict: true, allowPositionals: false }).values
  } catch (error) {
    throw new UsageError(`${(error as Error).message.split('\n')[0]} (see --help)`)
  }
  if (values.help === true) return { kind: 'help', text: helpText() }
  if (values.version === true) return { kind: 'version' }

  const raw: Record<string, string> = {}
  const sources: Record<string, string> = {}
  for (const name of SETTING_NAMES) {
    const flag = values[kebab(name)]
    const fromEnv = env[envName(name)]
    if (flag !== undefined) {
      raw[name] = String(flag)
      sources[name] = `--${kebab(name)}`
    } else if (fromEnv !== undefined) {
      raw[name] = fromEnv
      sources[name] = envName(name)
    } else {
      raw[name] = SETTINGS[name].fallback
      sources[name] = `--${kebab(name)}`
    }
  }
  const result = RawConfig.safeParse(raw)
  if (!result.success) {
    const issue = result.error.issues[0]
    const name = String(issue?.path[0] ?? '')
    throw new UsageError(`${sources[name] ?? 'options'}: ${issue?.message ?? 'invalid value'}`)
  }
  const parsed = result.data
  if (parsed.authAll && parsed.uploadAuth === '') throw new UsageError(`${sources.authAll}: needs --upload-auth`)
  const base = env.INIT_CWD ?? process.cwd()
  const root = path.resolve(base, parsed.root)
  return {
    kind: 'run',
    config: Object.freeze({
      host: parsed.host,
      port: parsed.port,
      workers: parsed.workers,
      poolSize: parsed.poolSize,
      queueSize: parsed.queueSize,
      maxConnections: parsed.maxConnections,
      backlog: parsed.backlog,
      maxPosts: parsed.maxPosts,
      root,
      uploadDir: parsed.uploadDir === '' ? path.join(root, 'uploads') : path.resolve(base, parsed.uploadDir),
      maxBodyBytes: parsed.maxBody,
      maxRequestLineBytes: parsed.maxRequestLine,
      maxHeaderBytes: parsed.maxHeaderSize,
      maxHeaderCount: parsed.maxHeaders,
      logPath: parsed.log === '-' ? '-' : path.resolve(base, parsed.log),
      logFormat: parsed.logFormat,
      headerTimeoutMs: parsed.headerTimeout,
      bodyTimeoutMs: parsed.bodyTimeout,
      keepAlive: parsed.keepAlive,
      keepAliveTimeoutMs: parsed.keepAliveTimeout,
      keepAliveRequests: parsed.keepAliveRequests,
      shutdownGraceMs: parsed.shutdownGrace,
      balance: parsed.balance,
      pidFile: parsed.pidFile === '' ? null : path.resolve(base, parsed.pidFile),
      listDirectories: parsed.list,
      uploadAuth: parsed.uploadAuth === '' ? null : loadCredentials(parsed.uploadAuth, base, sources.uploadAuth ?? ''),
      authAll: parsed.authAll,
    }),
  }
}

function helpText(): string {
  const lines = [
    'Usage: threadserve [options]',
    '',
    'A multi-process HTTP/1.0 file server: GET/HEAD from --root, POST /upload stores new files.',
    'Every option can also be set with its environment variable; flags win over the environment.',
    '',
  ]
  for (const name of SETTING_NAMES) {
    const setting = SETTINGS[name]
    const fallback = setting.fallback === '' ? '' : ` (default ${setting.fallback})`
    lines.push(`${`  --${kebab(name)}${isBoolean(name) ? '' : ' <value>'}`.padEnd(30)}${setting.help}${fallback}`)
    lines.push(`${' '.repeat(30)}env ${envName(name)}`)
  }
  lines.push(`${'  -h, --help'.padEnd(30)}show this help`, `${'  -v, --version'.padEnd(30)}print the version`)
  return `${lines.join('\n')}\n`
}
