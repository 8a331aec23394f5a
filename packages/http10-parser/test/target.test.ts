import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { isTargetError, type ParsedTarget, ParseError, parseTarget } from '../src/index.js'
import { ACCEPTED, GENERATED, REJECTED } from './fixtures/targets.js'

function outcomeOf(raw: string): ParsedTarget | 'BAD_TARGET' | 'FORBIDDEN_TARGET' {
  try {
    return parseTarget(raw)
  } catch (error) {
    if (isTargetError(error)) return (error as ParseError).code as 'BAD_TARGET' | 'FORBIDDEN_TARGET'
    throw error
  }
}

/** The safety property: an error, or a pathname that cannot leave the root. */
function expectSafe(raw: string): void {
  const result = outcomeOf(raw)
  if (typeof result === 'string') return
  const { pathname, relativePath } = result
  expect(pathname.startsWith('/'), raw).toBe(true)
  expect(relativePath).toBe(pathname.slice(1))
  expect(pathname.includes('\0'), raw).toBe(false)
  expect(pathname.includes('\\'), raw).toBe(false)
  expect(pathname.includes('//'), raw).toBe(false)
  let start = 1
  while (start <= pathname.length) {
    let end = pathname.indexOf('/', start)
    if (end === -1) end = pathname.length
    const segment = pathname.slice(start, end)
    expect(segment === '.' || segment === '..', `${raw} -> ${pathname}`).toBe(false)
    start = end + 1
  }
  for (const char of pathname) expect(char.charCodeAt(0) >= 0x20 && char !== '\x7f', raw).toBe(true)
  expect(result.isDirectory).toBe(pathname.endsWith('/'))
  expect(result.hasHiddenSegment).toBe(pathname.includes('/.'))
}

describe('accepted targets', () => {
  test.each(ACCEPTED)('%j', (raw, expected) => {
    const result = outcomeOf(raw)
    if (typeof expected === 'string') expect(result).toBe(expected)
    else expect(result).toMatchObject(expected)
    expectSafe(raw)
  })
})

describe('rejected targets', () => {
  test.each(REJECTED)('%j -> %s', (raw, code) => {
    expect(outcomeOf(raw)).toBe(code)
  })

  test('errors carry 400 for BAD_TARGET and 404 for FORBIDDEN_TARGET', () => {
    const statuses = new Map<string, number>()
    for (const [raw] of REJECTED) {
      try {
        parseTarget(raw)
      } catch (error) {
        expect(error).toBeInstanceOf(ParseError)
        statuses.set((error as ParseError).code, (error as ParseError).status)
      }
    }
    expect(Object.fromEntries(statuses)).toEqual({ BAD_TARGET: 400, FORBIDDEN_TARGET: 404 })
  })
})

test('the hostile tables have at least 150 entries', () => {
  expect(ACCEPTED.length + REJECTED.length + GENERATED.length).toBeGreaterThanOrEqual(150)
  expect(REJECTED.length).toBeGreaterThanOrEqual(100)
})

test.each(GENERATED)('generated hostile target %j never escapes the root', (raw) => {
  expectSafe(raw)
})

test('a double-encoded dot segment is a literal name, not a parent', () => {
  expect(parseTarget('/%252e%252e/etc/passwd').pathname).toBe('/%2e%2e/etc/passwd')
})

describe('properties', () => {
  const pieces = fc.constantFrom(
    '/',
    '.',
    '..',
    '%2e',
    '%2E',
    '%2f',
    '%5c',
    '\\',
    '%00',
    '%',
    '%25',
    '%c0%ae',
    '%C3%A9',
    '\xc3\xa9',
    '?',
    '#',
    'a',
    'etc',
    'passwd',
    '.git',
    ';',
    ':',
    ' ',
    '\t',
  )

  test('any target built from hostile pieces is rejected or stays under the root', () => {
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 20 }), fc.boolean(), (parts, absolute) => {
        expectSafe(`${absolute ? 'http://h' : ''}/${parts.join('')}`)
      }),
      { numRuns: 5000 },
    )
  })

  test('any string is rejected with a ParseError or stays under the root', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (raw) => {
        expectSafe(raw)
        expectSafe(`/${raw}`)
      }),
      { numRuns: 5000 },
    )
  })

  test('any latin1 byte string is rejected with a ParseError or stays under the root', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 60 }), (bytes) => {
        expectSafe(`/${Buffer.from(bytes).toString('latin1')}`)
      }),
      { numRuns: 5000 },
    )
  })

  test('a normalized pathname is a fixed point', () => {
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 20 }), (parts) => {
        const first = outcomeOf(`/${parts.join('')}`)
        if (typeof first === 'string' || first.pathname.includes('%')) return
        const again = outcomeOf(first.pathname.replace(/[?#]/g, (c) => encodeURIComponent(c)))
        if (typeof again !== 'string') expect(again.pathname).toBe(first.pathname)
      }),
      { numRuns: 2000 },
    )
  })

  test('percent-encoding a plain path changes nothing (decoding happens exactly once)', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-z0-9_-]{1,8}$/), { minLength: 1, maxLength: 6 }), (segments) => {
        const plain = `/${segments.join('/')}`
        const encoded = [...plain].map((c) => (c === '/' ? c : `%${c.charCodeAt(0).toString(16)}`)).join('')
        expect(parseTarget(encoded).pathname).toBe(plain)
        expect(parseTarget(encoded.replaceAll('%', '%25')).pathname).toBe(encoded)
      }),
    )
  })
})

test('isTargetError tells target errors from others', () => {
  expect(isTargetError(new ParseError('FORBIDDEN_TARGET', 'x'))).toBe(true)
  expect(isTargetError(new ParseError('BAD_TARGET', 'x'))).toBe(true)
  expect(isTargetError(new ParseError('BAD_HEADER', 'x'))).toBe(false)
  expect(isTargetError(new Error('x'))).toBe(false)
  expect(isTargetError('BAD_TARGET')).toBe(false)
})
