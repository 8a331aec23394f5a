import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { isTargetError, type ParsedTarget, ParseError, parseTarget } from '../src/index.js'

type Expected = Partial<ParsedTarget> | 'BAD_TARGET' | 'FORBIDDEN_TARGET'

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

// Accepted targets and what they normalize to.
const ACCEPTED: [string, Expected][] = [
  ['/', { pathname: '/', relativePath: '', query: '', isDirectory: true, hasHiddenSegment: false }],
  ['/index.html', { pathname: '/index.html', relativePath: 'index.html', isDirectory: false }],
  ['/a/b/c.txt', { pathname: '/a/b/c.txt', relativePath: 'a/b/c.txt' }],
  ['/a/b/', { pathname: '/a/b/', relativePath: 'a/b/', isDirectory: true }],
  ['/a?x=1&y=2', { pathname: '/a', query: 'x=1&y=2' }],
  ['/a?', { pathname: '/a', query: '' }],
  ['/a#frag', { pathname: '/a', query: '' }],
  ['/a?q#frag', { pathname: '/a', query: 'q' }],
  ['/a#f?not-a-query', { pathname: '/a', query: '' }],
  ['/a?q=%2e%2e/../x', { pathname: '/a', query: 'q=%2e%2e/../x' }],
  ['/a%3Fb', { pathname: '/a?b', query: '' }],
  ['/a%23b', { pathname: '/a#b' }],
  ['/a%20b', { pathname: '/a b' }],
  ['/a+b', { pathname: '/a+b' }],
  ['/%41%42%43', { pathname: '/ABC' }],
  ['/%25', { pathname: '/%' }],
  ['/%252e%252e/x', { pathname: '/%2e%2e/x' }],
  ['/%252e%252e%252fx', { pathname: '/%2e%2e%2fx' }],
  ['/%25%32%65', { pathname: '/%2e' }],
  ['/caf%C3%A9', { pathname: '/café' }],
  ['/caf%c3%a9', { pathname: '/café' }],
  ['/caf\xc3\xa9', { pathname: '/café' }],
  ['/%E2%82%AC', { pathname: '/€' }],
  ['/%F0%9F%98%80', { pathname: '/😀' }],
  ['/%C2%A0', { pathname: '/\u00a0' }],
  ['/%EF%BF%BF', { pathname: '/\uffff' }],
  ['/%F4%8F%BF%BF', { pathname: '/\u{10ffff}' }],
  ['/a/./b', { pathname: '/a/b' }],
  ['/a/../b', { pathname: '/b' }],
  ['/a/b/..', { pathname: '/a/', isDirectory: true }],
  ['/a/b/../', { pathname: '/a/', isDirectory: true }],
  ['/a/b/.', { pathname: '/a/b/', isDirectory: true }],
  ['/a/.', { pathname: '/a/', isDirectory: true }],
  ['/a/..', { pathname: '/', relativePath: '', isDirectory: true }],
  ['/./', { pathname: '/', isDirectory: true }],
  ['/.', { pathname: '/', isDirectory: true }],
  ['/a/b/c/../../d', { pathname: '/a/d' }],
  ['/a/%2e/b', { pathname: '/a/b' }],
  ['/a/%2E%2E/b', { pathname: '/b' }],
  ['/a/.%2e/b', { pathname: '/b' }],
  ['/a/%2e./b', { pathname: '/b' }],
  ['//a//b//', { pathname: '/a/b/', isDirectory: true }],
  ['///', { pathname: '/', isDirectory: true }],
  ['/a//../b', { pathname: '/b' }],
  ['/...', { pathname: '/...', hasHiddenSegment: true }],
  ['/a/.../b', { pathname: '/a/.../b', hasHiddenSegment: true }],
  ['/..a', { pathname: '/..a', hasHiddenSegment: true }],
  ['/a..', { pathname: '/a..', hasHiddenSegment: false }],
  ['/a/..b/c', { pathname: '/a/..b/c', hasHiddenSegment: true }],
  ['/.env', { pathname: '/.env', hasHiddenSegment: true }],
  ['/.git/config', { pathname: '/.git/config', hasHiddenSegment: true }],
  ['/a/.ssh/', { pathname: '/a/.ssh/', hasHiddenSegment: true, isDirectory: true }],
  ['/%2egit/config', { pathname: '/.git/config', hasHiddenSegment: true }],
  ['/.git/../index.html', { pathname: '/index.html', hasHiddenSegment: false }],
  ['/uploads/.tmp-123', { pathname: '/uploads/.tmp-123', hasHiddenSegment: true }],
  ['/a:b', { pathname: '/a:b' }],
  ['/C:/windows', { pathname: '/C:/windows' }],
  ['/~user', { pathname: '/~user' }],
  ['/a;b=c', { pathname: '/a;b=c' }],
  ['/a%3Bb', { pathname: '/a;b' }],
  ['/%7e', { pathname: '/~' }],
  ['http://example.com/a/b?c', { pathname: '/a/b', query: 'c' }],
  ['HTTP://EXAMPLE.COM/A', { pathname: '/A' }],
  ['HtTpS://h:8443/x/../y', { pathname: '/y' }],
  ['http://h', { pathname: '/', isDirectory: true }],
  ['http://h?q=1', { pathname: '/', query: 'q=1' }],
  ['http://h#f', { pathname: '/' }],
  ['http://user@h/a', { pathname: '/a' }],
  ['http://h:80//a', { pathname: '/a' }],
  ['http://h/%2e%2e/a/..', 'FORBIDDEN_TARGET'],
  ['http://h/a/%2e%2e', { pathname: '/', isDirectory: true }],
]

// Rejected targets. Traversal attempts and unsafe names are 404, malformed syntax is 400.
const REJECTED: [string, 'BAD_TARGET' | 'FORBIDDEN_TARGET'][] = [
  ['', 'BAD_TARGET'],
  ['*', 'BAD_TARGET'],
  ['a/b', 'BAD_TARGET'],
  ['index.html', 'BAD_TARGET'],
  ['../etc/passwd', 'BAD_TARGET'],
  ['./a', 'BAD_TARGET'],
  ['?q', 'BAD_TARGET'],
  ['#f', 'BAD_TARGET'],
  ['example.com:443', 'BAD_TARGET'],
  ['ftp://h/a', 'BAD_TARGET'],
  ['file:///etc/passwd', 'BAD_TARGET'],
  ['https:/h/a', 'BAD_TARGET'],
  ['http:h/a', 'BAD_TARGET'],
  ['http:///etc/passwd', 'BAD_TARGET'],
  ['http://', 'BAD_TARGET'],
  ['/a b', 'BAD_TARGET'],
  ['/a%', 'BAD_TARGET'],
  ['/a%4', 'BAD_TARGET'],
  ['/a%zz', 'BAD_TARGET'],
  ['/a%g0', 'BAD_TARGET'],
  ['/a%0g', 'BAD_TARGET'],
  ['/%%32%65', 'BAD_TARGET'],
  ['/%', 'BAD_TARGET'],
  ['/%-1', 'BAD_TARGET'],
  ['/%u002e%u002e/x', 'BAD_TARGET'],
  ['/a\u0100', 'BAD_TARGET'],
  ['/\u2215etc', 'BAD_TARGET'],
  ['/..', 'FORBIDDEN_TARGET'],
  ['/../', 'FORBIDDEN_TARGET'],
  ['/../etc/passwd', 'FORBIDDEN_TARGET'],
  ['/a/../../etc/passwd', 'FORBIDDEN_TARGET'],
  ['/a/b/../../../x', 'FORBIDDEN_TARGET'],
  ['/./../x', 'FORBIDDEN_TARGET'],
  ['//../x', 'FORBIDDEN_TARGET'],
  ['/a/..//..', 'FORBIDDEN_TARGET'],
  ['/%2e%2e', 'FORBIDDEN_TARGET'],
  ['/%2e%2e/', 'FORBIDDEN_TARGET'],
  ['/%2e%2e/etc/passwd', 'FORBIDDEN_TARGET'],
  ['/%2E%2E/etc/passwd', 'FORBIDDEN_TARGET'],
  ['/.%2e/x', 'FORBIDDEN_TARGET'],
  ['/%2e./x', 'FORBIDDEN_TARGET'],
  ['/a/%2e%2e/%2e%2e/x', 'FORBIDDEN_TARGET'],
  ['/%2e%2e%2fetc%2fpasswd', 'FORBIDDEN_TARGET'],
  ['/..%2fetc/passwd', 'FORBIDDEN_TARGET'],
  ['/..%2Fetc', 'FORBIDDEN_TARGET'],
  ['/a%2fb', 'FORBIDDEN_TARGET'],
  ['/a%2Fb', 'FORBIDDEN_TARGET'],
  ['/%2f', 'FORBIDDEN_TARGET'],
  ['/%2F%2F', 'FORBIDDEN_TARGET'],
  ['/a%5cb', 'FORBIDDEN_TARGET'],
  ['/a%5Cb', 'FORBIDDEN_TARGET'],
  ['/..%5c..%5cwindows', 'FORBIDDEN_TARGET'],
  ['/..%5Cetc', 'FORBIDDEN_TARGET'],
  ['/a\\b', 'FORBIDDEN_TARGET'],
  ['/..\\etc\\passwd', 'FORBIDDEN_TARGET'],
  ['\\..\\etc', 'FORBIDDEN_TARGET'],
  ['/a?q=\\', 'FORBIDDEN_TARGET'],
  ['/a\\', 'FORBIDDEN_TARGET'],
  ['/a%00', 'FORBIDDEN_TARGET'],
  ['/a%00.html', 'FORBIDDEN_TARGET'],
  ['/index.html%00.txt', 'FORBIDDEN_TARGET'],
  ['/%00', 'FORBIDDEN_TARGET'],
  ['/a\0b', 'FORBIDDEN_TARGET'],
  ['/a\nb', 'FORBIDDEN_TARGET'],
  ['/a\rb', 'FORBIDDEN_TARGET'],
  ['/a\tb', 'FORBIDDEN_TARGET'],
  ['/a\x7f', 'FORBIDDEN_TARGET'],
  ['/a%0a', 'FORBIDDEN_TARGET'],
  ['/a%0d%0aSet-Cookie:x', 'FORBIDDEN_TARGET'],
  ['/a%09', 'FORBIDDEN_TARGET'],
  ['/a%1b', 'FORBIDDEN_TARGET'],
  ['/a%1f', 'FORBIDDEN_TARGET'],
  ['/a%7f', 'FORBIDDEN_TARGET'],
  ['/a%7F', 'FORBIDDEN_TARGET'],
  ['/%C0%AE%C0%AE/etc', 'FORBIDDEN_TARGET'],
  ['/%c0%ae%c0%ae/etc', 'FORBIDDEN_TARGET'],
  ['/%C0%AE', 'FORBIDDEN_TARGET'],
  ['/%C0%AF', 'FORBIDDEN_TARGET'],
  ['/%C1%9C', 'FORBIDDEN_TARGET'],
  ['/%C1%81', 'FORBIDDEN_TARGET'],
  ['/%E0%80%AE', 'FORBIDDEN_TARGET'],
  ['/%E0%80%AF', 'FORBIDDEN_TARGET'],
  ['/%E0%9F%BF', 'FORBIDDEN_TARGET'],
  ['/%F0%80%80%AE', 'FORBIDDEN_TARGET'],
  ['/%F0%8F%BF%BF', 'FORBIDDEN_TARGET'],
  ['/%F8%80%80%80%AE', 'FORBIDDEN_TARGET'],
  ['/%FC%80%80%80%80%AE', 'FORBIDDEN_TARGET'],
  ['/%ED%A0%80', 'FORBIDDEN_TARGET'],
  ['/%ED%BF%BF', 'FORBIDDEN_TARGET'],
  ['/%F4%90%80%80', 'FORBIDDEN_TARGET'],
  ['/%F5%80%80%80', 'FORBIDDEN_TARGET'],
  ['/%FF', 'FORBIDDEN_TARGET'],
  ['/%FE%FF', 'FORBIDDEN_TARGET'],
  ['/%80', 'FORBIDDEN_TARGET'],
  ['/%BF', 'FORBIDDEN_TARGET'],
  ['/%C3', 'FORBIDDEN_TARGET'],
  ['/%C3/', 'FORBIDDEN_TARGET'],
  ['/%E2%82', 'FORBIDDEN_TARGET'],
  ['/%E2%82/', 'FORBIDDEN_TARGET'],
  ['/%F0%9F%98', 'FORBIDDEN_TARGET'],
  ['/%C3%28', 'FORBIDDEN_TARGET'],
  ['/%E2%28%A1', 'FORBIDDEN_TARGET'],
  ['/%C2%80', 'FORBIDDEN_TARGET'],
  ['/%C2%9F', 'FORBIDDEN_TARGET'],
  ['/\xc0\xae\xc0\xae/etc', 'FORBIDDEN_TARGET'],
  ['/\xff', 'FORBIDDEN_TARGET'],
  ['/\xe9t\xe9', 'FORBIDDEN_TARGET'],
  ['/a/\x85', 'FORBIDDEN_TARGET'],
  ['http://h/../etc', 'FORBIDDEN_TARGET'],
  ['HTTP://h/%2e%2e/etc', 'FORBIDDEN_TARGET'],
  ['http://h/a%2fb', 'FORBIDDEN_TARGET'],
  ['http://h\\@evil/a', 'FORBIDDEN_TARGET'],
  ['http://h/a\\..\\..', 'FORBIDDEN_TARGET'],
]

// Generated hostile targets: every way of spelling '.', '..' and '/' we know of, in every
// position of a path, all of which must come out rejected or harmless.
const DOT_SPELLINGS = ['.', '%2e', '%2E', '%252e', '%c0%ae', '%C0%AE', '%e0%80%ae', '%u002e', '\xc0\xae']
const SLASH_SPELLINGS = ['/', '%2f', '%2F', '%252f', '\\', '%5c', '%5C', '%c0%af', '%e0%80%af', '//', '/./']
const GENERATED: string[] = []
for (const dot of DOT_SPELLINGS) {
  for (const slash of SLASH_SPELLINGS) {
    const parent = dot + dot
    GENERATED.push(`/${parent}${slash}etc${slash}passwd`)
    GENERATED.push(`/a${slash}${parent}${slash}${parent}${slash}b`)
    GENERATED.push(`/a/${parent}`)
    GENERATED.push(`/${dot}${slash}${parent}`)
    GENERATED.push(`http://h/${parent}${slash}x`)
  }
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
