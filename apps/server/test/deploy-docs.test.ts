import { spawnSync } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

// The configuration blocks of docs/deploy.md, checked by the tools that will read them: the
// systemd unit by `systemd-analyze verify`, HAProxy's by `haproxy -c`, nginx's by `nginx -t`
// (nginx-light, with Debian's stream module: `pnpm test:setup`). The paths the document uses are
// replaced by a temp dir's and this checkout's, so the blocks are checked as written otherwise.

const REPO = fileURLToPath(new URL('../../../', import.meta.url))
const DOC = path.join(REPO, 'docs', 'deploy.md')
const MARKER = /<!-- deploy-check: ([a-z-]+) -->\s*\n```[a-z]*\n([\s\S]*?)\n```/g
// Debian installs daemons in sbin, which a user's PATH may not include.
const TOOL_PATH = [process.env.PATH ?? '', '/usr/sbin', '/sbin'].join(path.delimiter)

let dir = ''
let blocks: Map<string, string>

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'threadserve-deploy-docs-'))
  for (const sub of ['srv/root', 'srv/uploads', 'log']) await mkdir(path.join(dir, sub), { recursive: true })
  const text = await readFile(DOC, 'utf8')
  blocks = new Map([...text.matchAll(MARKER)].map((match) => [match[1] as string, match[2] as string]))
})
afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true })
})

/** The block with the document's paths made real: this checkout, this Node, the temp dir. */
function localised(name: string): string {
  const block = blocks.get(name)
  if (block === undefined) throw new Error(`docs/deploy.md has no block marked deploy-check: ${name}`)
  return block
    .replaceAll('/opt/threadserve', REPO.replace(/\/$/, ''))
    .replaceAll('/usr/bin/node', process.execPath)
    .replaceAll('/srv/threadserve', path.join(dir, 'srv'))
    .replaceAll('/var/log/threadserve', path.join(dir, 'log'))
    .replaceAll('/var/log/nginx', path.join(dir, 'log'))
}

function run(command: string, args: string[]): { status: number | null; output: string } {
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, PATH: TOOL_PATH },
  })
  if (result.error !== undefined) throw new Error(`${command}: ${result.error.message} (see pnpm test:setup)`)
  return { status: result.status, output: `${result.stdout}${result.stderr}` }
}

test('the document marks the blocks this test checks', () => {
  expect([...blocks.keys()].sort()).toEqual(['haproxy', 'nginx-http', 'nginx-stream', 'systemd'])
})

describe('docs/deploy.md', () => {
  test('the systemd unit passes systemd-analyze verify without a warning about it', async () => {
    const unit = path.join(dir, 'threadserve.service')
    await writeFile(unit, `${localised('systemd')}\n`)
    const { status, output } = run('systemd-analyze', ['verify', unit])
    console.log(`[deploy-docs] systemd-analyze verify: exit ${status}${output.trim() === '' ? '' : `\n${output}`}`)
    expect(status).toBe(0)
    expect(output.split('\n').filter((line) => line.includes('threadserve.service'))).toEqual([])
  })

  test('systemd-analyze names the unit on a line about a misspelt key (so the check above can fail)', async () => {
    const unit = path.join(dir, 'misspelt.service')
    await writeFile(unit, `${localised('systemd').replace('KillMode=mixed', 'KilMode=mixed')}\n`)
    const { output } = run('systemd-analyze', ['verify', unit])
    expect(output).toMatch(/misspelt\.service:\d+: Unknown key/)
  })

  test('the unit stops later than drain delay + shutdown grace + 1 s', () => {
    const unit = localised('systemd')
    const seconds = (flag: string): number => Number(new RegExp(`--${flag} (\\d+)s`).exec(unit)?.[1])
    const stopSeconds = Number(/^TimeoutStopSec=(\d+)$/m.exec(unit)?.[1])
    expect(stopSeconds).toBeGreaterThan(seconds('drain-delay') + seconds('shutdown-grace') + 1)
    expect(unit).toMatch(/^KillMode=mixed$/m)
  })

  test('the HAProxy configuration passes haproxy -c', async () => {
    const file = path.join(dir, 'haproxy.cfg')
    await writeFile(file, `${localised('haproxy')}\n`)
    const { status, output } = run('haproxy', ['-c', '-f', file])
    expect(output).toContain('Configuration file is valid')
    expect(output).not.toMatch(/\[WARNING\]|\[ALERT\]/)
    expect(status).toBe(0)
  })

  test.each(['nginx-stream', 'nginx-http'])('the %s configuration passes nginx -t', async (name) => {
    const modules = /--modules-path=(\S+)/.exec(run('nginx', ['-V']).output)?.[1] ?? '/usr/lib/nginx/modules'
    const file = path.join(dir, `${name}.conf`)
    const main = [
      name === 'nginx-stream' ? `load_module ${modules}/ngx_stream_module.so;` : '',
      `pid ${path.join(dir, 'nginx.pid')};`,
      `error_log ${path.join(dir, 'log', 'nginx-error.log')};`,
      'events {}',
      localised(name),
    ]
    await writeFile(file, `${main.join('\n')}\n`)
    const { status, output } = run('nginx', [
      '-t',
      '-p',
      dir,
      '-e',
      path.join(dir, 'log', 'nginx-error.log'),
      '-c',
      file,
    ])
    expect(output).toContain('test is successful')
    expect(output).not.toMatch(/\[warn\]|\[emerg\]/)
    expect(status).toBe(0)
  })
})
