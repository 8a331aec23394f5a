// The formats are for other programs to read: these tests hand real logs written through
// createAccessLog to goaccess and jq (Debian packages `goaccess` and `jq`, which CI installs).
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { type AccessRecord, createAccessLog, type LogFormat } from '../src/index.js'
import { makeRecord, makeTempDir, removeTempDir, splitLines } from './helpers.js'

const run = promisify(execFile)

let dir = ''

beforeEach(async () => {
  dir = await makeTempDir()
})

afterEach(async () => {
  await removeTempDir(dir)
})

/** Runs a required tool; a missing one fails the test with what to install. */
async function runTool(tool: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(tool, args, { maxBuffer: 64 * 1024 * 1024, timeout: 60_000 })
    return stdout
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') {
      throw new Error(`${tool} is required by this test suite: apt-get install -y ${tool}`)
    }
    throw error
  }
}

async function writeLog(format: LogFormat, records: AccessRecord[]): Promise<string> {
  const path = join(dir, `access-${format}.log`)
  const log = createAccessLog({ path, format, onError: (error) => expect.fail(error.message) })
  for (const record of records) log.write(record)
  await log.close()
  return path
}

// Header values as @threadserve/http10-parser hands them out: latin1, one code unit per byte.
const latin1 = (utf8: string): string => Buffer.from(utf8, 'utf8').toString('latin1')

const ODD_USER_AGENTS: (string | undefined)[] = [
  'curl/7.88.1',
  'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
  'a "quoted" agent',
  '"',
  'ends with a backslash\\',
  '\\" 200 0 "-" "forged',
  'back\\slash\\x22 and a fake escape',
  latin1('Ünïcødé-Bot/1.0 (日本語; 😀)'),
  'Bot/2 (日本語; 😀)', // decoded as UTF-8 by some caller: logged as the same UTF-8 bytes
  'lone \ud800 surrogate',
  'NUL\0TAB\tCR\rLF\nESC\u001b[31mDEL\u007f',
  '\r\n127.0.0.1 - - [01/Jan/2026:00:00:00 +0000] "GET /forged HTTP/1.1" 200 1 "-" "-"',
  latin1('\u00ff\u00fe bytes 0x80-0xff: \u0080\u0099'),
  // goaccess reads lines of at most 4096 bytes (README, Limits): long, but not longer.
  `long ${'x'.repeat(1000)}`,
  '',
  undefined,
]

// Basic-auth user names; none has a '[', which goaccess's CLF presets cannot read there (README, Limits).
const ODD_REMOTE_USERS: (string | undefined)[] = [
  'alice',
  'bob smith',
  'o"brien',
  'back\\slash',
  latin1('jöhn 😀'),
  'ctl\u0001\u007f',
  '-',
  undefined,
]

const STATUSES = [200, 201, 204, 206, 304, 400, 403, 404, 413, 499, 500, 503]

function oddRecords(): AccessRecord[] {
  const records: AccessRecord[] = []
  const start = Date.UTC(2026, 11, 31, 23, 59, 58, 0)
  for (let i = 0; i < ODD_USER_AGENTS.length * 4; i++) {
    const userAgent = ODD_USER_AGENTS[i % ODD_USER_AGENTS.length]
    const isUnparsed = i % 13 === 5
    records.push(
      makeRecord({
        time: start + i * 397, // crosses seconds, a day and a year
        clientAddress: i % 3 === 0 ? '::1' : `10.0.${i % 7}.${i}`,
        method: isUnparsed ? '-' : (['GET', 'HEAD', 'POST', 'PUT'][i % 4] as string),
        target: isUnparsed ? '-' : `/dir/file-${i}.txt?q=${i % 5 === 0 ? '"x"' : 'a%20b'}`,
        version: isUnparsed ? '-' : (['HTTP/1.0', 'HTTP/1.1', 'HTTP/0.9'][i % 3] as string),
        status: STATUSES[i % STATUSES.length] as number,
        bytes: 150 + i * 10,
        bodyBytes: i % 4 === 0 ? undefined : i * 10,
        userAgent,
        referer: i % 2 === 0 ? undefined : `http://ref.example/${userAgent ?? ''}`,
        remoteUser: ODD_REMOTE_USERS[i % ODD_REMOTE_USERS.length],
      }),
    )
  }
  return records
}

interface GoaccessGeneral {
  total_requests: number
  valid_requests: number
  failed_requests: number
  bandwidth: number
}

describe.each([
  { format: 'combined', goaccessFormat: 'COMBINED' },
  { format: 'common', goaccessFormat: 'COMMON' },
] as const)('goaccess --log-format=$goaccessFormat', ({ format, goaccessFormat }) => {
  test(`reads every ${format} line written by createAccessLog, odd user agents included`, async () => {
    const records = oddRecords()
    const logPath = await writeLog(format, records)
    expect(splitLines(await readFile(logPath, 'latin1'))).toHaveLength(records.length)
    const reportPath = join(dir, 'report.json')
    // --no-global-config: the distribution's goaccess.conf cannot change what is parsed.
    await runTool('goaccess', [logPath, `--log-format=${goaccessFormat}`, '--no-global-config', '-o', reportPath])
    const report = JSON.parse(await readFile(reportPath, 'utf8')) as { general: GoaccessGeneral }
    expect(report.general).toMatchObject({
      total_requests: records.length,
      valid_requests: records.length,
      failed_requests: 0,
      // %b is the body byte count, summed as bandwidth.
      bandwidth: records.reduce((sum, record) => sum + (record.bodyBytes ?? 0), 0),
    })
  })
})

describe('jq', () => {
  test('parses every JSON line written by createAccessLog back to the same values', async () => {
    // jq turns a lone surrogate into U+FFFD, so this set has none; the parser never makes one.
    const records = oddRecords().filter((record) => !record.userAgent?.includes('\ud800'))
    const logPath = await writeLog('json', records)
    const lines = splitLines(await readFile(logPath, 'latin1'))
    expect(lines).toHaveLength(records.length)
    const compact = splitLines(await runTool('jq', ['-c', '.', logPath]))
    expect(compact.map((line) => JSON.parse(line))).toEqual(lines.map((line) => JSON.parse(line)))
    const types = await runTool('jq', [
      '-r',
      '[.time, .remote_addr, .path, .status, .bytes_sent] | map(type) | join(",")',
      logPath,
    ])
    expect(new Set(splitLines(types))).toEqual(new Set(['string,string,string,number,number']))
  })
})
