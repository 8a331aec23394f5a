import * as z from 'zod/mini'

// Every setting, once: its flag, what kind of text it takes, its default, its help line, its
// --help group and the check its value must pass. The flags, the THREADSERVE_* environment
// variables, --help, the README's settings table, the Config type and the worker's validation
// of the settings it receives are all derived from this table (config.ts, load-config.ts,
// describe-settings.ts), so none of them can disagree with another.

/** How a setting's text becomes its value (setting-kinds.ts). */
export type SettingKind =
  | 'text'
  | 'integer'
  | 'size'
  | 'duration'
  | 'boolean'
  | 'enum'
  | 'path'
  | 'optional-path'
  | 'log-path'
  | 'credentials'

/** The --help sections, in order. */
export const SETTING_GROUPS = ['serving', 'uploads', 'limits', 'logging', 'processes', 'production'] as const
export type SettingGroup = (typeof SETTING_GROUPS)[number]

export interface Setting<T> {
  /** The flag without its dashes; the environment variable is THREADSERVE_ + this in capitals. */
  readonly flag: string
  /** A one-letter alias (`-p`), for the few settings typed most, as http-server and serve spell them. */
  readonly short?: string
  /** Another environment variable, read when THREADSERVE_<FLAG> is not set (PORT, as hosts set it). */
  readonly otherEnv?: string
  readonly kind: SettingKind
  readonly group: SettingGroup
  /** The default, as text a user could have typed ('' = none, or derived: see `help`). */
  readonly fallback: string
  readonly help: string
  /** The check the converted value must pass; its output type is the setting's type in Config. */
  readonly value: z.ZodMiniType<T>
}

// Node timers take at most 2^31 - 1 ms (about 24.8 days); a longer one fires at once.
const MAX_TIMER_MS = 2 ** 31 - 1

function between(min: number, max: number) {
  return z.number().check(z.int(), z.gte(min), z.lte(max))
}
const NON_EMPTY = z.string().check(z.minLength(1))
const FLAG = z.boolean()

// A header value we send as given: visible ASCII and spaces only (RFC 9110 §5.5), never a CR or
// LF that would end the header early.
const HEADER_VALUE = z.string().check(z.regex(/^[\x20-\x7e]*$/, 'expected printable ASCII, no line breaks'))
// --cors: '' (off), '*', or one origin as a browser sends it: scheme://host[:port], no path.
const CORS_ORIGIN = z
  .string()
  .check(
    z.regex(
      /^(|\*|https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?|https?:\/\/\[[0-9A-Fa-f:.]+\](:\d{1,5})?)$/,
      "expected '*' or an origin such as https://example.com",
    ),
  )

// --health-path: '' (off) or an absolute path of RFC 3986 pchars without '%', so that the raw
// request target can be compared with it as it is, never decoded.
const HEALTH_PATH = z
  .string()
  .check(z.regex(/^(|\/[A-Za-z0-9._~!$&'()*+,;=:@/-]*)$/, "expected a path such as '/healthz' (no '%', '?' or spaces)"))

const CREDENTIALS = z.nullable(z.array(z.strictObject({ user: z.string(), hash: z.string() })))

export const SETTINGS = {
  host: {
    flag: 'host',
    short: 'a',
    kind: 'text',
    group: 'serving',
    fallback: '127.0.0.1',
    help: 'address to listen on',
    value: NON_EMPTY,
  },
  port: {
    flag: 'port',
    short: 'p',
    otherEnv: 'PORT',
    kind: 'integer',
    group: 'serving',
    fallback: '8080',
    help: 'port to listen on (0 = pick a free one and print it)',
    value: between(0, 65535),
  },
  root: {
    flag: 'root',
    kind: 'path',
    group: 'serving',
    fallback: '.',
    help: 'directory served by GET/HEAD; also given as the one argument, DIR',
    value: NON_EMPTY,
  },
  listDirectories: {
    flag: 'list',
    kind: 'boolean',
    group: 'serving',
    fallback: 'false',
    help: 'list directories that have no index.html (HTML, or JSON on Accept)',
    value: FLAG,
  },
  precompressed: {
    flag: 'precompressed',
    kind: 'boolean',
    group: 'serving',
    fallback: 'false',
    help: 'serve file.br / file.gz in place of file to clients that accept them (Content-Encoding, Vary)',
    value: FLAG,
  },
  cacheControl: {
    flag: 'cache-control',
    kind: 'text',
    group: 'serving',
    fallback: '',
    help: "a Cache-Control header for served files, e.g. 'no-cache' or 'public, max-age=3600' (uploads keep their own)",
    value: HEADER_VALUE,
  },
  cors: {
    flag: 'cors',
    kind: 'text',
    group: 'serving',
    fallback: '',
    help: "allow cross-origin GET/HEAD from this origin, or '*' (Access-Control-Allow-Origin; OPTIONS preflight)",
    value: CORS_ORIGIN,
  },
  keepAlive: {
    flag: 'keep-alive',
    kind: 'boolean',
    group: 'serving',
    fallback: 'false',
    help: 'keep connections open for clients that ask (HTTP/1.0 keep-alive, HTTP/1.1); off: every response closes',
    value: FLAG,
  },
  keepAliveTimeoutMs: {
    flag: 'keep-alive-timeout',
    kind: 'duration',
    group: 'serving',
    fallback: '5s',
    help: 'with --keep-alive: how long a connection may sit idle between requests',
    value: between(1, MAX_TIMER_MS),
  },
  keepAliveRequests: {
    flag: 'keep-alive-requests',
    kind: 'integer',
    group: 'serving',
    fallback: '1000',
    help: 'with --keep-alive: requests served on one connection before it closes',
    value: between(1, 1_000_000),
  },
  uploadDir: {
    flag: 'upload-dir',
    kind: 'path',
    group: 'uploads',
    fallback: '',
    help: 'where POST /upload stores files (default <root>/uploads)',
    value: NON_EMPTY,
  },
  maxPosts: {
    flag: 'max-posts',
    kind: 'integer',
    group: 'uploads',
    fallback: '5',
    help: 'POST uploads in progress server-wide (then 503)',
    value: between(1, 10_000),
  },
  maxPostsPerClient: {
    flag: 'max-posts-per-client',
    kind: 'integer',
    group: 'uploads',
    fallback: '0',
    help: 'of those, the most one client address may hold (then 503); 0: one fewer than --max-posts, so no one address can take them all',
    value: between(0, 10_000),
  },
  allowCrossSiteUploads: {
    flag: 'allow-cross-site-uploads',
    kind: 'boolean',
    group: 'uploads',
    fallback: 'false',
    help: "accept POST /upload from pages of other sites (by default a browser's cross-site Origin or Sec-Fetch-Site is refused with 403)",
    value: FLAG,
  },
  maxBodyBytes: {
    flag: 'max-body',
    kind: 'size',
    group: 'uploads',
    fallback: '64MiB',
    help: 'largest upload accepted (then 413)',
    value: between(1, Number.MAX_SAFE_INTEGER),
  },
  uploadAuth: {
    flag: 'upload-auth',
    kind: 'credentials',
    group: 'uploads',
    fallback: '',
    help: 'HTTP Basic for POST and /upload: a file of user:hash lines (or user:password, which other users can read in the process list: prefer the file or the environment variable)',
    value: CREDENTIALS,
  },
  authAll: {
    flag: 'auth-all',
    kind: 'boolean',
    group: 'uploads',
    fallback: 'false',
    help: 'with --upload-auth: require the credentials for GET/HEAD too',
    value: FLAG,
  },
  poolSize: {
    flag: 'pool-size',
    kind: 'integer',
    group: 'limits',
    fallback: '20',
    help: 'requests served at once per worker (heads complete)',
    value: between(1, 10_000),
  },
  queueSize: {
    flag: 'queue-size',
    kind: 'integer',
    group: 'limits',
    fallback: '100',
    help: 'requests waiting per worker for a pool slot (then 503)',
    value: between(0, 100_000),
  },
  maxConnections: {
    flag: 'max-connections',
    kind: 'integer',
    group: 'limits',
    fallback: '1024',
    help: 'open connections per worker, idle ones included (then 503)',
    value: between(1, 1_000_000),
  },
  backlog: {
    flag: 'backlog',
    kind: 'integer',
    group: 'limits',
    fallback: '4096',
    help: 'connections the kernel queues before they are accepted (capped by net.core.somaxconn)',
    value: between(1, 65535),
  },
  maxRequestLineBytes: {
    flag: 'max-request-line',
    kind: 'size',
    group: 'limits',
    fallback: '8KiB',
    help: 'longest request line (then 414)',
    value: between(64, 1024 * 1024),
  },
  maxHeaderBytes: {
    flag: 'max-header-size',
    kind: 'size',
    group: 'limits',
    fallback: '16KiB',
    help: 'largest header block (then 431)',
    value: between(64, 16 * 1024 * 1024),
  },
  maxHeaderCount: {
    flag: 'max-headers',
    kind: 'integer',
    group: 'limits',
    fallback: '100',
    help: 'most header fields (then 431)',
    value: between(1, 10_000),
  },
  headerTimeoutMs: {
    flag: 'header-timeout',
    kind: 'duration',
    group: 'limits',
    fallback: '10s',
    help: 'time to receive the request head (then 408)',
    value: between(1, MAX_TIMER_MS),
  },
  bodyTimeoutMs: {
    flag: 'body-timeout',
    kind: 'duration',
    group: 'limits',
    fallback: '30s',
    help: 'longest pause while receiving a body (then 408)',
    value: between(1, MAX_TIMER_MS),
  },
  minRateBytes: {
    flag: 'min-rate',
    kind: 'size',
    group: 'limits',
    fallback: '1KiB',
    help: 'slowest a client may send a body or read a response, per second, averaged over --rate-window (then cut off; 0: no minimum)',
    value: between(0, Number.MAX_SAFE_INTEGER),
  },
  rateWindowMs: {
    flag: 'rate-window',
    kind: 'duration',
    group: 'limits',
    fallback: '10s',
    help: 'the window --min-rate is averaged over; the first one is a grace period',
    value: between(100, MAX_TIMER_MS),
  },
  logPath: {
    flag: 'log',
    kind: 'log-path',
    group: 'logging',
    fallback: '-',
    help: "access log file, '-' for stdout",
    value: NON_EMPTY,
  },
  logFormat: {
    flag: 'log-format',
    kind: 'enum',
    group: 'logging',
    fallback: 'combined',
    help: "access log format: combined (nginx's, read by log tools), common, json or text (ours: worker, duration)",
    value: z.enum(['text', 'json', 'combined', 'common']),
  },
  workers: {
    flag: 'workers',
    kind: 'integer',
    group: 'processes',
    fallback: '5',
    help: 'worker processes',
    value: between(1, 64),
  },
  balance: {
    flag: 'balance',
    kind: 'enum',
    group: 'processes',
    fallback: 'supervisor',
    help: 'who spreads connections: supervisor (round-robin hand-off) or kernel (workers accept)',
    value: z.enum(['supervisor', 'kernel']),
  },
  shutdownGraceMs: {
    flag: 'shutdown-grace',
    kind: 'duration',
    group: 'processes',
    fallback: '10s',
    help: 'time in-flight requests get on SIGINT/SIGTERM',
    value: between(0, MAX_TIMER_MS),
  },
  pidFile: {
    flag: 'pid-file',
    kind: 'optional-path',
    group: 'processes',
    fallback: '',
    help: 'write the supervisor pid here, locked against a second server',
    value: z.nullable(NON_EMPTY),
  },
  proxyProtocol: {
    flag: 'proxy-protocol',
    kind: 'boolean',
    group: 'production',
    fallback: 'false',
    help: "every connection starts with a PROXY protocol header (v1 or v2, from HAProxy or nginx); its address is the client's. Without one: closed",
    value: FLAG,
  },
  healthPath: {
    flag: 'health-path',
    kind: 'text',
    group: 'production',
    fallback: '',
    help: 'answer GET/HEAD of this path with JSON health: 200 while serving, 503 while starting or draining (takes no pool slot, permit or credentials)',
    value: HEALTH_PATH,
  },
  logHealth: {
    flag: 'log-health',
    kind: 'boolean',
    group: 'production',
    fallback: 'false',
    help: 'with --health-path: write health checks to the access log (left out by default)',
    value: FLAG,
  },
  drainDelayMs: {
    flag: 'drain-delay',
    kind: 'duration',
    group: 'production',
    fallback: '0',
    help: 'on SIGTERM: keep serving this long with health checks at 503, so that load balancers move clients away, then stop',
    value: between(0, MAX_TIMER_MS),
  },
} as const satisfies Record<string, Setting<unknown>>

export type SettingName = keyof typeof SETTINGS
export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[]

/** THREADSERVE_<FLAG_IN_CAPS>: `--max-body` is THREADSERVE_MAX_BODY. */
export function envNameOf(flag: string): string {
  return `THREADSERVE_${flag.replaceAll('-', '_').toUpperCase()}`
}
