import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import type * as z from 'zod/mini'
import {
  ConfigureMessage,
  ConnectionMessage,
  decodeSupervisorMessage,
  decodeWorkerMessage,
  HealthMessage,
  HealthRequestMessage,
  IpcError,
  isConnectionMessage,
  ListeningMessage,
  ListenMessage,
  LogReopenMessage,
  PermitDenyMessage,
  PermitGrantMessage,
  PermitReleaseMessage,
  PermitRequestMessage,
  PROTOCOL_VERSION,
  REPLY_TYPES,
  ReadyMessage,
  SettingsRequestMessage,
  ShutdownMessage,
  StatsMessage,
  StatsRequestMessage,
  SupervisorMessage,
  WorkerMessage,
} from '../src/index.js'

type Direction = 'supervisor' | 'worker'
type Sample = Record<string, unknown>

const UNION = { supervisor: SupervisorMessage, worker: WorkerMessage } as const
const DECODE = { supervisor: decodeSupervisorMessage, worker: decodeWorkerMessage } as const
const OTHER = { supervisor: 'worker', worker: 'supervisor' } as const

interface Case {
  name: string
  schema: z.ZodMiniType
  from: Direction
  valid: Sample[]
  invalid: { why: string; value: Sample }[]
}

const CASES: Case[] = [
  {
    name: 'connection',
    schema: ConnectionMessage,
    from: 'supervisor',
    valid: [
      { type: 'connection', v: 1, id: 0, acceptedAt: 0 },
      { type: 'connection', v: 1, id: Number.MAX_SAFE_INTEGER, acceptedAt: 1_732_560_000_000.25 },
    ],
    invalid: [
      { why: 'negative id', value: { type: 'connection', v: 1, id: -1, acceptedAt: 1 } },
      { why: 'fractional id', value: { type: 'connection', v: 1, id: 1.5, acceptedAt: 1 } },
      { why: 'unsafe integer id', value: { type: 'connection', v: 1, id: 2 ** 53, acceptedAt: 1 } },
      { why: 'negative acceptedAt', value: { type: 'connection', v: 1, id: 1, acceptedAt: -1 } },
      { why: 'NaN acceptedAt', value: { type: 'connection', v: 1, id: 1, acceptedAt: Number.NaN } },
      { why: 'infinite acceptedAt', value: { type: 'connection', v: 1, id: 1, acceptedAt: Number.POSITIVE_INFINITY } },
      { why: 'numeric string id', value: { type: 'connection', v: 1, id: '1', acceptedAt: 1 } },
    ],
  },
  {
    name: 'permit-grant',
    schema: PermitGrantMessage,
    from: 'supervisor',
    valid: [{ type: 'permit-grant', v: 1, requestId: 1, permitId: 'p' }],
    invalid: [
      { why: 'empty permitId', value: { type: 'permit-grant', v: 1, requestId: 1, permitId: '' } },
      { why: 'permitId over 128', value: { type: 'permit-grant', v: 1, requestId: 1, permitId: 'x'.repeat(129) } },
    ],
  },
  {
    name: 'permit-deny',
    schema: PermitDenyMessage,
    from: 'supervisor',
    valid: [
      { type: 'permit-deny', v: 1, requestId: 1, retryAfterSeconds: 0 },
      { type: 'permit-deny', v: 1, requestId: 7, retryAfterSeconds: 120 },
    ],
    invalid: [
      { why: 'fractional retry', value: { type: 'permit-deny', v: 1, requestId: 1, retryAfterSeconds: 0.5 } },
      { why: 'negative retry', value: { type: 'permit-deny', v: 1, requestId: 1, retryAfterSeconds: -1 } },
    ],
  },
  {
    name: 'shutdown',
    schema: ShutdownMessage,
    from: 'supervisor',
    valid: [{ type: 'shutdown', v: 1, deadline: 1_732_560_010_000 }],
    invalid: [{ why: 'deadline as a date string', value: { type: 'shutdown', v: 1, deadline: '2024-11-25' } }],
  },
  {
    name: 'log-reopen',
    schema: LogReopenMessage,
    from: 'supervisor',
    valid: [{ type: 'log-reopen', v: 1 }],
    invalid: [{ why: 'v as a string', value: { type: 'log-reopen', v: '1' } }],
  },
  {
    name: 'listening',
    schema: ListeningMessage,
    from: 'worker',
    valid: [{ type: 'listening', v: 1 }],
    invalid: [{ why: 'an unknown field', value: { type: 'listening', v: 1, port: 8080 } }],
  },
  {
    name: 'listen',
    schema: ListenMessage,
    from: 'supervisor',
    valid: [{ type: 'listen', v: 1 }],
    invalid: [
      { why: 'an unknown field', value: { type: 'listen', v: 1, port: 8080 } },
      { why: 'version 2', value: { type: 'listen', v: 2 } },
    ],
  },
  {
    name: 'configure',
    schema: ConfigureMessage,
    from: 'supervisor',
    valid: [
      { type: 'configure', v: 1, settings: '{"root":"/srv"}' },
      { type: 'configure', v: 1, settings: '{}' },
    ],
    invalid: [
      { why: 'no settings', value: { type: 'configure', v: 1 } },
      { why: 'settings not text', value: { type: 'configure', v: 1, settings: { root: '/srv' } } },
      { why: 'settings too short to be a JSON object', value: { type: 'configure', v: 1, settings: '' } },
      { why: 'settings over 1 MiB', value: { type: 'configure', v: 1, settings: `"${'x'.repeat(1024 * 1024)}"` } },
      { why: 'an unknown field', value: { type: 'configure', v: 1, settings: '{}', extra: 1 } },
    ],
  },
  {
    name: 'settings-request',
    schema: SettingsRequestMessage,
    from: 'worker',
    valid: [{ type: 'settings-request', v: 1 }],
    invalid: [{ why: 'an unknown field', value: { type: 'settings-request', v: 1, id: 1 } }],
  },
  {
    name: 'stats-request',
    schema: StatsRequestMessage,
    from: 'supervisor',
    valid: [{ type: 'stats-request', v: 1, requestId: 3 }],
    invalid: [{ why: 'null requestId', value: { type: 'stats-request', v: 1, requestId: null } }],
  },
  {
    name: 'ready',
    schema: ReadyMessage,
    from: 'worker',
    valid: [{ type: 'ready', v: 1, workerId: 0, pid: 1 }],
    invalid: [
      { why: 'pid 0', value: { type: 'ready', v: 1, workerId: 0, pid: 0 } },
      { why: 'negative workerId', value: { type: 'ready', v: 1, workerId: -2, pid: 10 } },
    ],
  },
  {
    name: 'permit-request',
    schema: PermitRequestMessage,
    from: 'worker',
    valid: [
      { type: 'permit-request', v: 1, requestId: 0 },
      { type: 'permit-request', v: 1, requestId: 1, client: '127.0.0.2' },
    ],
    invalid: [
      { why: 'fractional requestId', value: { type: 'permit-request', v: 1, requestId: 0.1 } },
      { why: 'empty client', value: { type: 'permit-request', v: 1, requestId: 1, client: '' } },
    ],
  },
  {
    name: 'permit-release',
    schema: PermitReleaseMessage,
    from: 'worker',
    valid: [{ type: 'permit-release', v: 1, permitId: '4f1c-1' }],
    invalid: [{ why: 'empty permitId', value: { type: 'permit-release', v: 1, permitId: '' } }],
  },
  {
    name: 'stats',
    schema: StatsMessage,
    from: 'worker',
    valid: [{ type: 'stats', v: 1, requestId: 1, inFlight: 0, queued: 0, served: 1e9, rssBytes: 52_428_800 }],
    invalid: [
      {
        why: 'negative queue',
        value: { type: 'stats', v: 1, requestId: 1, inFlight: 0, queued: -1, served: 0, rssBytes: 1 },
      },
    ],
  },
  {
    name: 'health-request',
    schema: HealthRequestMessage,
    from: 'worker',
    valid: [{ type: 'health-request', v: 1, requestId: 0 }],
    invalid: [
      { why: 'no requestId', value: { type: 'health-request', v: 1 } },
      { why: 'negative requestId', value: { type: 'health-request', v: 1, requestId: -1 } },
    ],
  },
  {
    name: 'health',
    schema: HealthMessage,
    from: 'supervisor',
    valid: [
      { type: 'health', v: 1, requestId: 1, status: 'ok', workers: 5, permitsInUse: 0 },
      { type: 'health', v: 1, requestId: 2, status: 'starting', workers: 1, permitsInUse: 0 },
      { type: 'health', v: 1, requestId: 3, status: 'draining', workers: 5, permitsInUse: 3 },
      { type: 'health', v: 1, requestId: 4, status: 'no-workers', workers: 0, permitsInUse: 0 },
    ],
    invalid: [
      {
        why: 'an unknown status',
        value: { type: 'health', v: 1, requestId: 1, status: 'fine', workers: 1, permitsInUse: 0 },
      },
      {
        why: 'fractional workers',
        value: { type: 'health', v: 1, requestId: 1, status: 'ok', workers: 1.5, permitsInUse: 0 },
      },
      {
        why: 'negative permitsInUse',
        value: { type: 'health', v: 1, requestId: 1, status: 'ok', workers: 1, permitsInUse: -1 },
      },
    ],
  },
]

const VALID = CASES.flatMap(({ name, schema, from, valid }) => valid.map((value) => ({ name, schema, from, value })))
const INVALID = CASES.flatMap(({ name, schema, from, invalid }) =>
  invalid.map(({ why, value }) => ({ name: `${name}: ${why}`, schema, from, value })),
)
const KNOWN_TYPES = new Set(CASES.map(({ name }) => name))

// A value whose JS type differs from `like`'s (null counts as its own type).
function otherTypeThan(like: unknown): fc.Arbitrary<unknown> {
  const kind = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value)
  return fc.anything().filter((value) => kind(value) !== kind(like))
}

function rejectedEverywhere(schema: z.ZodMiniType, from: Direction, value: unknown): boolean {
  return (
    !schema.safeParse(value).success && !UNION[from].safeParse(value).success && DECODE[from](value) instanceof IpcError
  )
}

describe('valid messages', () => {
  test.each(VALID)('$name: $value is accepted by its schema and its union, unchanged', ({ schema, from, value }) => {
    expect(schema.parse(value)).toEqual(value)
    expect(UNION[from].parse(value)).toEqual(value)
    expect(DECODE[from](value)).toEqual(value)
  })

  test.each(VALID)('$name is rejected when it travels the wrong way', ({ from, value }) => {
    expect(UNION[OTHER[from]].safeParse(value).success).toBe(false)
  })
})

// Fields a message may leave out (checked by the tables above when present).
const OPTIONAL_FIELDS = new Set(['client'])

describe('invalid messages', () => {
  test.each(INVALID)('$name is rejected', ({ schema, from, value }) => {
    expect(rejectedEverywhere(schema, from, value)).toBe(true)
  })

  test('a message without any one of its required fields is rejected', () => {
    fc.assert(
      fc.property(fc.constantFrom(...VALID), fc.nat(), ({ schema, from, value }, pick) => {
        const keys = Object.keys(value).filter((key) => !OPTIONAL_FIELDS.has(key))
        const { [keys[pick % keys.length] as string]: _dropped, ...rest } = value
        expect(rejectedEverywhere(schema, from, rest)).toBe(true)
      }),
    )
  })

  test('a message with any one field of another JS type is rejected', () => {
    const mutated = fc.constantFrom(...VALID).chain((sample) =>
      fc.constantFrom(...Object.keys(sample.value)).chain((key) =>
        otherTypeThan(sample.value[key]).map((replacement) => ({
          sample,
          value: { ...sample.value, [key]: replacement },
        })),
      ),
    )
    fc.assert(
      fc.property(mutated, ({ sample, value }) => {
        expect(rejectedEverywhere(sample.schema, sample.from, value)).toBe(true)
      }),
    )
  })

  test('a message with any other version is rejected as VERSION_UNSUPPORTED', () => {
    const version = fc.anything().filter((v) => v !== PROTOCOL_VERSION && v !== undefined)
    fc.assert(
      fc.property(fc.constantFrom(...VALID), version, ({ schema, from, value }, v) => {
        const message = { ...value, v }
        expect(rejectedEverywhere(schema, from, message)).toBe(true)
        expect((DECODE[from](message) as IpcError).code).toBe('VERSION_UNSUPPORTED')
      }),
    )
  })

  test('a message with an unknown type is rejected', () => {
    const unknownType = fc.string().filter((type) => !KNOWN_TYPES.has(type))
    fc.assert(
      fc.property(fc.constantFrom(...VALID), unknownType, ({ schema, from, value }, type) => {
        expect(rejectedEverywhere(schema, from, { ...value, type })).toBe(true)
      }),
    )
  })

  test('a message with an extra key is rejected', () => {
    fc.assert(
      fc.property(fc.constantFrom(...VALID), fc.string(), fc.anything(), ({ schema, from, value }, key, extra) => {
        fc.pre(!(key in value) && key !== '__proto__')
        expect(rejectedEverywhere(schema, from, { ...value, [key]: extra })).toBe(true)
      }),
    )
  })
})

describe('decoding', () => {
  test('never throws, and a rejection is an IpcError with a one-line message', () => {
    fc.assert(
      fc.property(fc.constantFrom<Direction>('supervisor', 'worker'), fc.anything(), (from, raw) => {
        const result = DECODE[from](raw)
        if (result instanceof IpcError) {
          expect(['INVALID_MESSAGE', 'VERSION_UNSUPPORTED']).toContain(result.code)
          expect(result.message).not.toMatch(/[\r\n]/)
        } else {
          expect(UNION[from].parse(raw)).toEqual(result)
        }
      }),
    )
  })

  test.each([
    { raw: 'ready', code: 'INVALID_MESSAGE' },
    { raw: null, code: 'INVALID_MESSAGE' },
    { raw: { type: 'ready', workerId: 1, pid: 1 }, code: 'INVALID_MESSAGE' },
    { raw: { type: 'ready', v: 2, workerId: 1, pid: 1 }, code: 'VERSION_UNSUPPORTED' },
    { raw: { type: 'ready-v2', v: 2 }, code: 'VERSION_UNSUPPORTED' },
  ])('$raw from a worker is $code', ({ raw, code }) => {
    expect((decodeWorkerMessage(raw) as IpcError).code).toBe(code)
  })
})

describe('the hand-written connection check', () => {
  // Mostly valid, with edge values where a hand-written check goes wrong (0, -0, -1, fractions,
  // the safe-integer edge, NaN, numeric strings), a missing key now and then, or an extra one.
  const edge = fc.constantFrom(-1, -0, 0, 0.5, -0.5, 2 ** 53, 2 ** 53 - 1, Number.NaN, -Infinity, Infinity, '1', null)
  const mostly = (valid: fc.Arbitrary<unknown>, weight: number) =>
    fc.oneof({ weight, arbitrary: valid }, { weight: 2, arbitrary: edge }, { weight: 1, arbitrary: fc.anything() })
  const base = fc.record({
    type: mostly(fc.constant('connection'), 12),
    v: mostly(fc.constant(1), 12),
    id: mostly(fc.nat(), 4),
    acceptedAt: mostly(fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }), 4),
  })
  const nearConnection = fc.oneof(
    { weight: 8, arbitrary: base },
    { weight: 1, arbitrary: fc.tuple(base, fc.nat(3)).map(([value, drop]) => withoutKey(value, drop)) },
    { weight: 1, arbitrary: fc.tuple(base, fc.string(), fc.anything()).map(([value, k, x]) => ({ ...value, [k]: x })) },
  )
  function withoutKey(value: Sample, index: number): Sample {
    const { [Object.keys(value)[index] as string]: _dropped, ...rest } = value
    return rest
  }

  test('accepts exactly what the ConnectionMessage schema accepts', () => {
    fc.assert(
      fc.property(fc.oneof(nearConnection, fc.anything()), (value) => {
        expect(isConnectionMessage(value)).toBe(ConnectionMessage.safeParse(value).success)
      }),
      { numRuns: 5_000 },
    )
  })

  test.each(VALID.filter(({ name }) => name === 'connection'))('accepts $value', ({ value }) => {
    expect(isConnectionMessage(value)).toBe(true)
  })

  test.each(INVALID.filter(({ name }) => name.startsWith('connection:')))('rejects $name', ({ value }) => {
    expect(isConnectionMessage(value)).toBe(false)
  })

  test('rejects an array carrying the four properties, as the schema does', () => {
    const array = Object.assign([], { type: 'connection', v: 1, id: 1, acceptedAt: 1 })
    expect(isConnectionMessage(array)).toBe(false)
    expect(ConnectionMessage.safeParse(array).success).toBe(false)
  })

  test('rejects a key inherited through the prototype, as the schema does', () => {
    const inherited = Object.create({ extra: 1 }) as Sample
    Object.assign(inherited, { type: 'connection', v: 1, id: 1, acceptedAt: 1 })
    expect(isConnectionMessage(inherited)).toBe(false)
    expect(ConnectionMessage.safeParse(inherited).success).toBe(false)
  })
})

describe('the protocol tables', () => {
  test('PROTOCOL_VERSION is 1', () => {
    expect(PROTOCOL_VERSION).toBe(1)
  })

  const typesOf = (union: typeof SupervisorMessage | typeof WorkerMessage) =>
    union._zod.def.options.map((option) => option.shape.type._zod.def.values[0] as string)

  test('every message type of both unions has its cases above, and no other type does', () => {
    expect(new Set([...typesOf(SupervisorMessage), ...typesOf(WorkerMessage)])).toEqual(KNOWN_TYPES)
  })

  test('every request type goes one way and every reply type comes back the other way', () => {
    for (const [request, replies] of Object.entries(REPLY_TYPES)) {
      const from: Direction = typesOf(SupervisorMessage).includes(request) ? 'supervisor' : 'worker'
      expect(typesOf(UNION[from])).toContain(request)
      for (const reply of replies) expect(typesOf(UNION[OTHER[from]])).toContain(reply)
    }
  })
})
