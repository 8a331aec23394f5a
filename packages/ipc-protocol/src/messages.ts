import * as z from 'zod/mini'

// zod/mini, not classic zod: the same checks, but tree-shakable. Bundled into the server it is
// ~40 KB instead of ~750 KB, which cost every process ~35 ms and ~7 MiB at start-up. Its issues
// carry no text of their own: decode.ts gives them English without touching zod's global config.

/**
 * The protocol version every message carries as `v`. A change that an older peer would
 * misread (a new required field, a changed meaning) bumps it; both ends drop other versions.
 */
export const PROTOCOL_VERSION = 1

const Version = z.literal(PROTOCOL_VERSION)
// Ids are counters, never negative; z.int() also bounds them to safe integers, so they survive
// the JSON round trip of Node's default 'json' serialization exactly.
const Id = z.int().check(z.nonnegative())
const Count = z.int().check(z.nonnegative())
// Epoch milliseconds (Date.now(), or performance.timeOrigin + performance.now()).
const EpochMs = z.number().check(z.nonnegative())

// Strict objects: both ends ship from this repo at the same version, so an unknown key is a bug
// or a version skew; it is rejected rather than silently stripped (a protocol change bumps `v`).

/** Supervisor -> worker, sent with the accepted client socket as the handle. */
export const ConnectionMessage = z.strictObject({
  type: z.literal('connection'),
  v: Version,
  id: Id,
  acceptedAt: EpochMs,
})
export type ConnectionMessage = z.infer<typeof ConnectionMessage>

/** Supervisor -> worker: the POST permit the worker asked for, to be released with `permitId`. */
export const PermitGrantMessage = z.strictObject({
  type: z.literal('permit-grant'),
  v: Version,
  requestId: Id,
  permitId: z.string().check(z.minLength(1), z.maxLength(128)),
})
export type PermitGrantMessage = z.infer<typeof PermitGrantMessage>

/** Supervisor -> worker: no permit now; the worker answers 503 with this `Retry-After`. */
export const PermitDenyMessage = z.strictObject({
  type: z.literal('permit-deny'),
  v: Version,
  requestId: Id,
  // RFC 9110 §10.2.3: Retry-After is delay-seconds, a non-negative integer.
  retryAfterSeconds: Count,
})
export type PermitDenyMessage = z.infer<typeof PermitDenyMessage>

/** Supervisor -> worker: finish in-flight requests, accept no new ones, exit by `deadline` (epoch ms). */
export const ShutdownMessage = z.strictObject({
  type: z.literal('shutdown'),
  v: Version,
  deadline: EpochMs,
})
export type ShutdownMessage = z.infer<typeof ShutdownMessage>

/** Supervisor -> worker: reopen the access log (after log rotation, on SIGHUP). */
export const LogReopenMessage = z.strictObject({
  type: z.literal('log-reopen'),
  v: Version,
})
export type LogReopenMessage = z.infer<typeof LogReopenMessage>

/**
 * Supervisor -> worker, sent with the server's bound (not yet listening) TCP handle: listen on it
 * and accept connections yourself (kernel balancing: `--balance kernel`), as node:cluster's
 * SCHED_NONE does. The supervisor never accepts on it.
 */
export const ListenMessage = z.strictObject({
  type: z.literal('listen'),
  v: Version,
})
export type ListenMessage = z.infer<typeof ListenMessage>

/**
 * Supervisor -> worker: the validated settings, as JSON text the worker parses, for a worker that
 * was forked before the supervisor had read them (ThreadServe forks its first worker while it is
 * still starting), in answer to its `settings-request`. Other workers get the same text in their
 * environment.
 */
export const ConfigureMessage = z.strictObject({
  type: z.literal('configure'),
  v: Version,
  // Opaque to this package: the server's settings. Bounded like any peer-controlled text.
  settings: z.string().check(z.minLength(2), z.maxLength(1024 * 1024)),
})
export type ConfigureMessage = z.infer<typeof ConfigureMessage>

/** Supervisor -> worker: answer with a `stats` message carrying the same `requestId`. */
export const StatsRequestMessage = z.strictObject({
  type: z.literal('stats-request'),
  v: Version,
  requestId: Id,
})
export type StatsRequestMessage = z.infer<typeof StatsRequestMessage>

/**
 * Supervisor -> worker: the answer to `health-request`. `status` is 'ok' while the server can
 * serve; 'starting' until every worker has been ready once, 'draining' once a stop signal came,
 * 'no-workers' when none is ready. `workers`: workers ready now; `permitsInUse`: uploads in
 * progress server-wide.
 */
export const HealthMessage = z.strictObject({
  type: z.literal('health'),
  v: Version,
  requestId: Id,
  status: z.enum(['ok', 'starting', 'draining', 'no-workers']),
  workers: Count,
  permitsInUse: Count,
})
export type HealthMessage = z.infer<typeof HealthMessage>

/** Worker -> supervisor: ask for the server's health (a load balancer's check); answered by `health`. */
export const HealthRequestMessage = z.strictObject({
  type: z.literal('health-request'),
  v: Version,
  requestId: Id,
})
export type HealthRequestMessage = z.infer<typeof HealthRequestMessage>

/** Worker -> supervisor: started and listening for connections. */
export const ReadyMessage = z.strictObject({
  type: z.literal('ready'),
  v: Version,
  workerId: Id,
  pid: z.int().check(z.positive()),
})
export type ReadyMessage = z.infer<typeof ReadyMessage>

/**
 * Worker -> supervisor: a worker forked before the supervisor was ready for it asks for its
 * settings (`configure`). Node drops an IPC message that arrives before the receiver listens, so
 * the worker repeats this until the answer comes; both ends ignore the repeats.
 */
export const SettingsRequestMessage = z.strictObject({
  type: z.literal('settings-request'),
  v: Version,
})
export type SettingsRequestMessage = z.infer<typeof SettingsRequestMessage>

/** Worker -> supervisor: listening on the handle of a 'listen' message (kernel balancing). */
export const ListeningMessage = z.strictObject({
  type: z.literal('listening'),
  v: Version,
})
export type ListeningMessage = z.infer<typeof ListeningMessage>

/** Worker -> supervisor: ask for one of the server-wide POST permits. */
export const PermitRequestMessage = z.strictObject({
  type: z.literal('permit-request'),
  v: Version,
  requestId: Id,
  /** The uploading client's address: the supervisor caps the permits one address may hold. */
  client: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
})
export type PermitRequestMessage = z.infer<typeof PermitRequestMessage>

/** Worker -> supervisor: give back a permit received in `permit-grant`. */
export const PermitReleaseMessage = z.strictObject({
  type: z.literal('permit-release'),
  v: Version,
  permitId: z.string().check(z.minLength(1), z.maxLength(128)),
})
export type PermitReleaseMessage = z.infer<typeof PermitReleaseMessage>

/** Worker -> supervisor: the answer to `stats-request`. */
export const StatsMessage = z.strictObject({
  type: z.literal('stats'),
  v: Version,
  requestId: Id,
  inFlight: Count,
  queued: Count,
  served: Count,
  rssBytes: Count,
  /** Connections closed for a missing, bad, late or cut-short PROXY header (--proxy-protocol). */
  proxyHeadersRefused: z.optional(Count),
})
export type StatsMessage = z.infer<typeof StatsMessage>

/** Every message the supervisor sends to a worker. */
export const SupervisorMessage = z.discriminatedUnion('type', [
  ConnectionMessage,
  PermitGrantMessage,
  PermitDenyMessage,
  ShutdownMessage,
  LogReopenMessage,
  StatsRequestMessage,
  ListenMessage,
  ConfigureMessage,
  HealthMessage,
])
export type SupervisorMessage = z.infer<typeof SupervisorMessage>

/** Every message a worker sends to the supervisor. */
export const WorkerMessage = z.discriminatedUnion('type', [
  ReadyMessage,
  PermitRequestMessage,
  PermitReleaseMessage,
  StatsMessage,
  ListeningMessage,
  SettingsRequestMessage,
  HealthRequestMessage,
])
export type WorkerMessage = z.infer<typeof WorkerMessage>

/**
 * Which message types answer a request, by request type. `Channel.request` resolves only with one
 * of these: both ends number their requests independently, so a bare `requestId` match would let a
 * worker's `permit-request` #1 resolve the supervisor's pending `stats-request` #1.
 */
export const REPLY_TYPES = {
  'permit-request': ['permit-grant', 'permit-deny'],
  'stats-request': ['stats'],
  'health-request': ['health'],
} as const satisfies Record<string, readonly string[]>

/** A message type that `Channel.request` can send: 'permit-request' | 'stats-request' | 'health-request'. */
export type RequestType = keyof typeof REPLY_TYPES
/** The message types that answer request type `R`. */
export type ReplyType<R extends RequestType> = (typeof REPLY_TYPES)[R][number]
