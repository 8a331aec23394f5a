import { parseArgs } from 'node:util'
import { DURATION_HINT, SIZE_HINT } from '@threadserve/units'
import { UsageError } from './errors.js'
import { parseCount, parseDurationOption, parseSizeOption } from './option-values.js'

/** Everything one load run needs; plain data, so it travels to generator workers over IPC as is. */
export interface LoadOptions {
  readonly url: string
  readonly host: string
  readonly port: number
  /** Origin-form target with the query, e.g. `/file.txt?x=1`. */
  readonly path: string
  readonly method: string
  readonly headers: ReadonlyArray<readonly [string, string]>
  readonly bodyFile: string | null
  readonly bodySize: number | null
  readonly keepAlive: boolean
  readonly connections: number
  readonly durationMs: number | null
  readonly requests: number | null
  /** Open loop: requests per second over all connections (and workers); null = closed loop. */
  readonly rate: number | null
  readonly workers: number
  readonly timeoutMs: number
  readonly warmupMs: number
  readonly expectStatus: number | null
  readonly checkLength: boolean
  readonly expectSha256: string | null
  readonly json: boolean
  readonly quiet: boolean
}

export const DEFAULT_DURATION_MS = 10_000

export const USAGE = `Usage: loadtest URL [options]

HTTP/1.0 load generator: one request per connection (as ab does) unless --keep-alive.

  -c, --connections N      concurrent connections (default 10)
  -d, --duration TIME      run for TIME (default 10s unless -n)
  -n, --requests N         stop after N requests (with -d: whichever comes first)
  -R, --rate R             open loop: R requests/s in total, latency from the intended send time
  -m, --method M           GET (default; POST when a body is given), HEAD, POST, PUT, ...
  -b, --body-file PATH     request body from a file
  -s, --body-size SIZE     request body of SIZE random bytes
  -H, --header "N: v"      extra request header (repeatable)
  -k, --keep-alive         HTTP/1.0 keep-alive: reuse connections the server keeps open
  -w, --workers N          generator processes, merged into one report (default 1)
  -t, --timeout TIME       a request with no byte for TIME fails as a timeout (default 10s)
      --warmup TIME        send load for TIME before measuring (default 0)
      --expect-status N    count responses with another status as check failures
      --check-length       require Content-Length and exactly that many body bytes
      --expect-sha256 HEX  count responses whose body has another sha256 as check failures
      --json               print the report as JSON (machine-readable)
  -q, --quiet              no live progress line (it is shown only on a TTY anyway)
  -h, --help               this text
  -v, --version            print the version

TIME is ${DURATION_HINT}.
SIZE is ${SIZE_HINT}.
`

const OPTIONS = {
  connections: { type: 'string', short: 'c' },
  duration: { type: 'string', short: 'd' },
  requests: { type: 'string', short: 'n' },
  rate: { type: 'string', short: 'R' },
  method: { type: 'string', short: 'm' },
  'body-file': { type: 'string', short: 'b' },
  'body-size': { type: 'string', short: 's' },
  header: { type: 'string', short: 'H', multiple: true },
  'keep-alive': { type: 'boolean', short: 'k' },
  workers: { type: 'string', short: 'w' },
  timeout: { type: 'string', short: 't' },
  warmup: { type: 'string' },
  'expect-status': { type: 'string' },
  'check-length': { type: 'boolean' },
  'expect-sha256': { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const

export type ParsedCommand = { kind: 'help' } | { kind: 'version' } | { kind: 'run'; options: LoadOptions }

const METHOD_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ-'
const TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

function parseHeader(text: string): [string, string] {
  const colon = text.indexOf(':')
  const name = colon > 0 ? text.slice(0, colon) : ''
  const value = text.slice(colon + 1).trim()
  if (name === '' || [...name].some((c) => !TOKEN_CHARS.includes(c))) {
    throw new UsageError(`--header: expected "Name: value", got "${text}"`)
  }
  // A CR or LF in a value would split the request (RFC 9110 §5.5): refuse it.
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i)
    if ((code < 0x20 && code !== 0x09) || code === 0x7f)
      throw new UsageError(`--header: control character in "${text}"`)
  }
  return [name, value]
}

function parseUrl(text: string): URL {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new UsageError(`URL: not a valid URL: "${text}"`)
  }
  if (url.protocol !== 'http:') throw new UsageError(`URL: only http:// is supported, got "${url.protocol}"`)
  if (url.username !== '' || url.password !== '') throw new UsageError('URL: credentials in the URL are not supported')
  return url
}

/**
 * Parses the command line (without `node` and the script) into options; throws UsageError.
 * @example
 * const command = parseCommand(['http://127.0.0.1:8080/a.txt', '-c', '32', '-d', '5s'])
 */
export function parseCommand(argv: readonly string[]): ParsedCommand {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; args: string[] }>>
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true })
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error)
    throw new UsageError(message ?? 'bad arguments')
  }
  const { values, positionals } = parsed
  if (values.help === true) return { kind: 'help' }
  if (values.version === true) return { kind: 'version' }
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0 ? 'missing URL (try --help)' : `expected one URL, got ${positionals.length}`,
    )
  }
  const url = parseUrl(positionals[0] as string)
  if (values['body-file'] !== undefined && values['body-size'] !== undefined) {
    throw new UsageError('--body-file and --body-size: give one or the other')
  }
  const bodySize = values['body-size'] === undefined ? null : parseSizeOption('--body-size', values['body-size'])
  const bodyFile = values['body-file'] ?? null
  const hasBody = bodyFile !== null || bodySize !== null
  const method = values.method ?? (hasBody ? 'POST' : 'GET')
  if (method === '' || [...method].some((c) => !METHOD_CHARS.includes(c))) {
    throw new UsageError(`--method: expected an uppercase method such as GET or POST, got "${method}"`)
  }
  const connections = parseCount('--connections', values.connections ?? '10', 1, 100_000)
  const workers = parseCount('--workers', values.workers ?? '1', 1, 64)
  if (workers > connections) throw new UsageError(`--workers: ${workers} workers need at least ${workers} connections`)
  const requests = values.requests === undefined ? null : parseCount('--requests', values.requests)
  let durationMs = values.duration === undefined ? null : parseDurationOption('--duration', values.duration)
  if (durationMs !== null && durationMs <= 0) throw new UsageError('--duration: must be more than 0')
  if (durationMs === null && requests === null) durationMs = DEFAULT_DURATION_MS
  let rate: number | null = null
  if (values.rate !== undefined) {
    rate = Number(values.rate)
    if (values.rate.trim() === '' || !Number.isFinite(rate) || rate <= 0) {
      throw new UsageError(`--rate: expected a positive number of requests per second, got "${values.rate}"`)
    }
  }
  const timeoutMs = parseDurationOption('--timeout', values.timeout ?? '10s')
  if (timeoutMs <= 0) throw new UsageError('--timeout: must be more than 0')
  const warmupMs = values.warmup === undefined ? 0 : parseDurationOption('--warmup', values.warmup)
  const expectStatus =
    values['expect-status'] === undefined ? null : parseCount('--expect-status', values['expect-status'], 100, 599)
  const expectSha256 = values['expect-sha256']?.toLowerCase() ?? null
  if (expectSha256 !== null && !/^[0-9a-f]{64}$/.test(expectSha256)) {
    throw new UsageError('--expect-sha256: expected 64 hex digits')
  }
  return {
    kind: 'run',
    options: {
      url: url.href,
      // URL keeps IPv6 literals bracketed; net.connect wants them bare.
      host: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
      port: url.port === '' ? 80 : Number(url.port),
      path: `${url.pathname}${url.search}`,
      method,
      headers: (values.header ?? []).map(parseHeader),
      bodyFile,
      bodySize,
      keepAlive: values['keep-alive'] === true,
      connections,
      durationMs,
      requests,
      rate,
      workers,
      timeoutMs,
      warmupMs,
      expectStatus,
      checkLength: values['check-length'] === true,
      expectSha256,
      json: values.json === true,
      quiet: values.quiet === true,
    },
  }
}

function share(total: number, parts: number, index: number): number {
  return Math.floor(total / parts) + (index < total % parts ? 1 : 0)
}

/** The part of the load that generator worker `index` of `options.workers` runs. */
export function splitOptions(options: LoadOptions, index: number): LoadOptions {
  const parts = options.workers
  return {
    ...options,
    workers: 1,
    connections: share(options.connections, parts, index),
    requests: options.requests === null ? null : share(options.requests, parts, index),
    rate: options.rate === null ? null : options.rate / parts,
  }
}
