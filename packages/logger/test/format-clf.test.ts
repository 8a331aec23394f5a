import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { escapeNginxValue } from '../src/format-clf.js'
import { type AccessRecord, formatCombinedLine, formatCommonLine } from '../src/index.js'
import { anyRecord, makeRecord } from './helpers.js'

// nginx's ngx_http_log_escape table, as nginx writes it: one bit per byte, set when the byte is
// written as \xHH. An oracle independent of the Uint8Array the package builds.
const NGINX_ESCAPE_BITS = [
  0xffffffff, 0x00000004, 0x10000000, 0x80000000, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
]

function nginxEscapeBytes(bytes: Uint8Array): string {
  let out = ''
  for (const byte of bytes) {
    const isEscaped = ((NGINX_ESCAPE_BITS[byte >> 5] as number) >>> (byte & 0x1f)) & 1
    out += isEscaped ? `\\x${byte.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(byte)
  }
  return out
}

/** The bytes a string stands for: a code unit up to 0xff is one byte, anything else its UTF-8. */
function bytesOf(value: string): Buffer {
  const parts: Buffer[] = []
  for (const char of value) {
    const unit = char.charCodeAt(0)
    parts.push(char.length === 1 && unit <= 0xff ? Buffer.of(unit) : Buffer.from(char, 'utf8'))
  }
  return Buffer.concat(parts)
}

function unescapeNginx(field: string): Buffer {
  return Buffer.from(
    field.replace(/\\x([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))),
    'latin1',
  )
}

const latin1 = (utf8: string): string => Buffer.from(utf8, 'utf8').toString('latin1')

// addr - user [time] "request" status bytes "referer" "agent": only the quoted fields and the
// space-free numbers have a fixed shape; nginx escapes no space, so addr and user are read together.
const COMBINED_LINE =
  /^([^"]*) (\[\d\d\/[A-Z][a-z]{2}\/-?\d+:\d\d:\d\d:\d\d \+0000\]) "([^"]*)" (\d{3,}) (\d+) "([^"]*)" "([^"]*)"\n$/
const COMMON_LINE = /^([^"]*) (\[\d\d\/[A-Z][a-z]{2}\/-?\d+:\d\d:\d\d:\d\d \+0000\]) "([^"]*)" (\d{3,}) (\d+)\n$/
const isPrintableAscii = (line: string): boolean => /^[\x20-\x7e]*\n$/.test(line)

// Strings of arbitrary UTF-16 code units (lone surrogates included) mixed with whole astral characters.
const anyString = fc.string({
  unit: fc.oneof(
    fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
    fc.integer({ min: 0x10000, max: 0x10ffff }).map((c) => String.fromCodePoint(c)),
  ),
})

describe('formatCombinedLine', () => {
  test.each([
    {
      name: 'the line of nginx documentation',
      record: { bodyBytes: 844, userAgent: 'curl/7.88.1', version: 'HTTP/1.1', target: '/' },
      line: '127.0.0.1 - - [25/Nov/2026:19:02:38 +0000] "GET / HTTP/1.1" 200 844 "-" "curl/7.88.1"\n',
    },
    {
      name: 'a referer and a Basic-auth user',
      record: { bodyBytes: 10, remoteUser: 'alice', referer: 'http://a.example/x?y=1' },
      line: '127.0.0.1 - alice [25/Nov/2026:19:02:38 +0000] "GET /test.txt HTTP/1.0" 200 10 "http://a.example/x?y=1" "-"\n',
    },
    {
      name: 'body bytes, not head and body',
      record: { bytes: 1234, bodyBytes: 0 },
      line: '127.0.0.1 - - [25/Nov/2026:19:02:38 +0000] "GET /test.txt HTTP/1.0" 200 0 "-" "-"\n',
    },
    {
      name: 'no body bytes known as 0',
      record: {},
      line: '127.0.0.1 - - [25/Nov/2026:19:02:38 +0000] "GET /test.txt HTTP/1.0" 200 0 "-" "-"\n',
    },
    {
      name: 'empty optional values as -',
      record: { remoteUser: '', referer: '', userAgent: '', clientAddress: '' },
      line: '- - - [25/Nov/2026:19:02:38 +0000] "GET /test.txt HTTP/1.0" 200 0 "-" "-"\n',
    },
    {
      name: 'an unparsed request line as "-"',
      record: { method: '-', target: '-', version: '-', status: 400 },
      line: '127.0.0.1 - - [25/Nov/2026:19:02:38 +0000] "-" 400 0 "-" "-"\n',
    },
    {
      name: 'an HTTP/0.9 request line without a version, as received',
      record: { version: 'HTTP/0.9' },
      line: '127.0.0.1 - - [25/Nov/2026:19:02:38 +0000] "GET /test.txt" 200 0 "-" "-"\n',
    },
    {
      name: 'a status of fewer than three digits padded, an invalid one as 000',
      record: { status: 9, bodyBytes: Number.NaN },
      line: '127.0.0.1 - - [25/Nov/2026:19:02:38 +0000] "GET /test.txt HTTP/1.0" 009 0 "-" "-"\n',
    },
    {
      name: 'an invalid status as 000 and negative body bytes as 0',
      record: { status: Number.NaN, bodyBytes: -5 },
      line: '127.0.0.1 - - [25/Nov/2026:19:02:38 +0000] "GET /test.txt HTTP/1.0" 000 0 "-" "-"\n',
    },
    {
      name: 'an IPv6 client and a year before 1000',
      record: { clientAddress: '::1', time: Date.UTC(999, 0, 5, 3, 4, 5) },
      line: '::1 - - [05/Jan/999:03:04:05 +0000] "GET /test.txt HTTP/1.0" 200 0 "-" "-"\n',
    },
  ] satisfies { name: string; record: Partial<AccessRecord>; line: string }[])('writes $name', ({ record, line }) => {
    expect(formatCombinedLine(makeRecord(record))).toBe(line)
  })

  test('is the common line with the referer and the user agent after it', () => {
    const record = makeRecord({ bodyBytes: 5, referer: 'r', userAgent: 'u', remoteUser: 'me' })
    expect(formatCommonLine(record)).toBe(
      '127.0.0.1 - me [25/Nov/2026:19:02:38 +0000] "GET /test.txt HTTP/1.0" 200 5\n',
    )
    expect(formatCombinedLine(record)).toBe(`${formatCommonLine(record).slice(0, -1)} "r" "u"\n`)
  })

  test('writes the time of any valid date in UTC as nginx does', () => {
    const months = 'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split(' ')
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1000, 0, 1), max: Date.UTC(9999, 11, 31, 23, 59, 59, 999) }), (ms) => {
        // toISOString: 'YYYY-MM-DDTHH:MM:SS.mmmZ' for these years.
        const iso = new Date(ms).toISOString()
        const month = months[Number(iso.slice(5, 7)) - 1]
        const expected = `[${iso.slice(8, 10)}/${month}/${iso.slice(0, 4)}:${iso.slice(11, 19)} +0000]`
        expect(COMBINED_LINE.exec(formatCombinedLine(makeRecord({ time: ms })))?.[2]).toBe(expected)
      }),
    )
  })

  test('keeps the time right when consecutive records cross a second', () => {
    const base = Date.UTC(2026, 11, 31, 23, 59, 59, 0)
    const timeOf = (ms: number): string | undefined =>
      COMBINED_LINE.exec(formatCombinedLine(makeRecord({ time: ms })))?.[2]
    expect(timeOf(base)).toBe('[31/Dec/2026:23:59:59 +0000]')
    expect(timeOf(base + 999.9)).toBe('[31/Dec/2026:23:59:59 +0000]')
    expect(timeOf(base + 1000)).toBe('[01/Jan/2027:00:00:00 +0000]')
    expect(timeOf(base - 1)).toBe('[31/Dec/2026:23:59:58 +0000]')
  })

  test('writes the time of formatting for an invalid time, never a line without a date', () => {
    const before = Math.floor(Date.now() / 1000) * 1000
    const line = formatCombinedLine(makeRecord({ time: Number.NaN }))
    const after = Date.now()
    const match = /\[(\d\d)\/(\w{3})\/(\d+):(\d\d):(\d\d):(\d\d) \+0000\]/.exec(line)
    expect(match).not.toBeNull()
    const [, day, month, year, hours, minutes, seconds] = match as unknown as string[]
    const written = Date.parse(`${day} ${month} ${year} ${hours}:${minutes}:${seconds} GMT`)
    expect(written).toBeGreaterThanOrEqual(before)
    expect(written).toBeLessThanOrEqual(after)
  })
})

describe('escapeNginxValue', () => {
  test.each([
    {
      name: 'plain visible ASCII and spaces unchanged',
      value: 'Mozilla/5.0 (X11; Linux) ~!',
      escaped: 'Mozilla/5.0 (X11; Linux) ~!',
    },
    { name: 'a quote', value: 'a"b', escaped: 'a\\x22b' },
    { name: 'a backslash', value: 'a\\b', escaped: 'a\\x5Cb' },
    { name: 'a backslash before a quote', value: '\\"', escaped: '\\x5C\\x22' },
    { name: 'a text that looks like an escape', value: '\\x22', escaped: '\\x5Cx22' },
    { name: 'NUL, TAB, CR, LF and ESC', value: '\0\t\r\n\u001b', escaped: '\\x00\\x09\\x0D\\x0A\\x1B' },
    { name: 'DEL', value: '\u007f', escaped: '\\x7F' },
    { name: 'a latin1 byte', value: '\u00ff\u0080', escaped: '\\xFF\\x80' },
    {
      name: 'a UTF-8 user agent, byte by byte',
      value: latin1('Bot/1 (é 😀)'),
      escaped: 'Bot/1 (\\xC3\\xA9 \\xF0\\x9F\\x98\\x80)',
    },
    {
      name: 'characters above 0xff as their UTF-8 bytes',
      value: '\u2028😀',
      escaped: '\\xE2\\x80\\xA8\\xF0\\x9F\\x98\\x80',
    },
    { name: 'a character of two UTF-8 bytes', value: '\u0100', escaped: '\\xC4\\x80' },
    { name: 'a lone surrogate as U+FFFD', value: '\ud800x\udc00', escaped: '\\xEF\\xBF\\xBDx\\xEF\\xBF\\xBD' },
    { name: 'an empty value as -', value: '', escaped: '-' },
  ])('writes $name', ({ value, escaped }) => {
    expect(escapeNginxValue(value)).toBe(escaped)
  })

  test('returns a value with nothing to escape as it is', () => {
    const value = 'curl/7.88.1'
    expect(escapeNginxValue(value)).toBe(value)
  })

  test('writes any bytes exactly as nginx does', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        fc.pre(bytes.length > 0)
        expect(escapeNginxValue(Buffer.from(bytes).toString('latin1'))).toBe(nginxEscapeBytes(bytes))
      }),
    )
  })

  test('writes any string as nginx writes the bytes it stands for', () => {
    fc.assert(
      fc.property(anyString, (value) => {
        fc.pre(value.length > 0)
        expect(escapeNginxValue(value)).toBe(nginxEscapeBytes(bytesOf(value)))
      }),
    )
  })
})

const HOSTILE_VALUES = [
  { name: 'a quote and a fake status', value: 'a" 200 0 "x' },
  {
    name: 'CRLF and a forged second line',
    value: 'a\r\n127.0.0.1 - - [01/Jan/2026:00:00:00 +0000] "GET / HTTP/1.0" 200 1 "-" "-"',
  },
  { name: 'a backslash before a quote', value: 'a\\" 500' },
  { name: 'control bytes', value: '\u0000\u001b[31m\u007f' },
  { name: 'UTF-8 bytes', value: latin1('Ünïcødé 😀') },
]

describe.each(HOSTILE_VALUES)('a value with $name', ({ value }) => {
  test('stays inside its field on one line in every field', () => {
    const record = makeRecord({
      clientAddress: value,
      remoteUser: value,
      target: value,
      referer: value,
      userAgent: value,
    })
    const line = formatCombinedLine(record)
    expect(isPrintableAscii(line)).toBe(true)
    const match = COMBINED_LINE.exec(line)
    expect(match).not.toBeNull()
    const [, prefix, , request, , , referer, agent] = match as unknown as string[]
    expect(unescapeNginx(prefix as string).toString('latin1')).toBe(`${value} - ${value}`)
    expect(unescapeNginx(request as string).toString('latin1')).toBe(`GET ${value} HTTP/1.0`)
    expect(unescapeNginx(referer as string).toString('latin1')).toBe(value)
    expect(unescapeNginx(agent as string).toString('latin1')).toBe(value)
  })
})

describe('any field content', () => {
  const records = anyRecord(anyString)
  const orDash = (value: string | undefined): Buffer => bytesOf(value === undefined || value === '' ? '-' : value)

  test('gives one printable ASCII combined line whose quoted fields hold no raw quote and read back', () => {
    fc.assert(
      fc.property(records, (record) => {
        const line = formatCombinedLine(record)
        expect(isPrintableAscii(line)).toBe(true)
        const match = COMBINED_LINE.exec(line)
        expect(match).not.toBeNull()
        const [, , , , status, bodyBytes, referer, agent] = match as unknown as string[]
        expect(status).toBe(String(record.status))
        expect(bodyBytes).toBe(String(record.bodyBytes ?? 0))
        expect(unescapeNginx(referer as string)).toEqual(orDash(record.referer))
        expect(unescapeNginx(agent as string)).toEqual(orDash(record.userAgent))
      }),
    )
  })

  test('gives one printable ASCII common line', () => {
    fc.assert(
      fc.property(records, (record) => {
        const line = formatCommonLine(record)
        expect(isPrintableAscii(line)).toBe(true)
        expect(COMMON_LINE.test(line)).toBe(true)
      }),
    )
  })
})
