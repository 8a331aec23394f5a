import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import type * as z from 'zod/mini'
import {
  ConnectionMessage,
  decodeWorkerMessage,
  IpcError,
  isConnectionMessage,
  PROTOCOL_VERSION,
  REPLY_TYPES,
  SupervisorMessage,
  WorkerMessage,
} from '../src/index.js'

import {
  DECODE,
  type Direction,
  INVALID,
  KNOWN_TYPES,
  OTHER,
  type Sample,
  UNION,
  VALID,
} from './fixtures/message-cases.js'

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
const OPTIONAL_FIELDS = new Set(['client', 'proxyHeadersRefused'])

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
