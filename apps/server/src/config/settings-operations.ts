import * as z from 'zod/mini'
import type { Setting } from './setting-types.js'
import { between, FLAG, HEALTH_PATH, MAX_TIMER_MS, NON_EMPTY } from './setting-values.js'

// The settings for logging, processes and running behind a load balancer (settings.ts joins the tables).

export const OPERATION_SETTINGS = {
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
