import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { makeTempDir } from './helpers/server-process.js'

// The command as a user gets it: `pnpm pack` makes the tarball, `npm install -g` installs it into
// an empty prefix with no workspace around it and no registry (everything it runs is bundled
// into dist/), and the installed `threadserve` serves a directory from another working directory.

const run = promisify(execFile)
const APP_DIR = fileURLToPath(new URL('..', import.meta.url))
const PACKAGE = JSON.parse(await readFile(path.join(APP_DIR, 'package.json'), 'utf8')) as { version: string }
const LISTENING = /listening on (http:\/\/\S+) \(/

let dir: string
let threadserve: string
let site: string
let elsewhere: string

/** The environment of a user's shell: nothing pnpm or the test runner set that the command reads. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (name === 'INIT_CWD' || name === 'PORT' || name.startsWith('THREADSERVE_') || name.startsWith('npm_')) continue
    env[name] = value
  }
  return env
}

beforeAll(async () => {
  dir = await makeTempDir('threadserve-install-')
  await run('pnpm', ['pack', '--pack-destination', dir], { cwd: APP_DIR })
  const [tarball] = (await readdir(dir)).filter((name) => name.endsWith('.tgz'))
  const prefix = path.join(dir, 'prefix')
  await run('npm', ['install', '--global', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', tarball ?? ''], {
    cwd: dir,
    env: userEnv(),
  })
  threadserve = path.join(prefix, 'bin', 'threadserve')
  site = path.join(dir, 'site')
  elsewhere = path.join(dir, 'elsewhere')
  await mkdir(site)
  await mkdir(elsewhere)
  await writeFile(path.join(site, 'hello.txt'), 'hello from an installed threadserve\n')
}, 120_000)

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

interface Started {
  readonly child: ChildProcess
  readonly url: string
  readonly exited: Promise<number | null>
  stdout(): string
}

async function startInstalled(args: readonly string[], cwd: string): Promise<Started> {
  const child = spawn(threadserve, args, { cwd, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout?.setEncoding('utf8').on('data', (text: string) => {
    out += text
  })
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    err += text
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line in 20 s; stderr: ${err}`)), 20_000)
    child.stdout?.on('data', () => {
      const match = LISTENING.exec(out)
      if (match === null) return
      clearTimeout(timer)
      resolve(match[1] as string)
    })
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`exited with ${code} before listening; stderr: ${err}`))
    })
  })
  return { child, url, exited, stdout: () => out }
}

async function stop(server: Started): Promise<number | null> {
  server.child.kill('SIGTERM')
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 15_000)
  const code = await server.exited
  clearTimeout(timer)
  return code
}

describe('the installed command', () => {
  test('the tarball holds the bundles, the upload page, README, LICENSE, and no dependency', async () => {
    const [tarball] = (await readdir(dir)).filter((name) => name.endsWith('.tgz'))
    const { stdout } = await run('tar', ['-tzf', path.join(dir, tarball ?? '')])
    expect(stdout.trim().split('\n').sort()).toEqual(
      [
        'LICENSE',
        'README.md',
        'assets/upload-page.html',
        'dist/cli.js',
        'dist/hash-password.js',
        'dist/main.js',
        'dist/worker-main.js',
        'package.json',
      ].map((name) => `package/${name}`),
    )
    const installed = path.join(path.dirname(path.dirname(threadserve)), 'lib', 'node_modules')
    const [name] = await readdir(installed)
    const manifest = JSON.parse(await readFile(path.join(installed, name ?? '', 'package.json'), 'utf8'))
    expect(manifest.dependencies).toBeUndefined()
    expect(manifest.bin).toEqual({ threadserve: './dist/main.js' })
  })

  test('threadserve DIR -p 0 from another directory serves DIR, stores an upload, and exits 0 on SIGTERM', async () => {
    const server = await startInstalled([site, '-p', '0'], elsewhere)
    try {
      const file = await fetch(`${server.url}/hello.txt`)
      expect(file.status).toBe(200)
      expect(await file.text()).toBe('hello from an installed threadserve\n')

      const upload = await fetch(`${server.url}/upload`, {
        method: 'POST',
        body: 'uploaded through the installed command\n',
        headers: { 'Content-Type': 'text/plain' },
      })
      expect(upload.status).toBe(201)
      const location = upload.headers.get('location') ?? ''
      expect(location).toMatch(/^\/uploads\/.+\.txt$/)
      expect(await (await fetch(`${server.url}${location}`)).text()).toBe('uploaded through the installed command\n')
      expect(await readdir(path.join(site, 'uploads'))).toEqual([path.basename(location)])
    } finally {
      expect(await stop(server)).toBe(0)
    }
    // The access log of the installed command: nginx's combined format, on stdout.
    expect(server.stdout()).toMatch(/^127\.0\.0\.1 - - \[[^\]]+\] "GET \/hello\.txt HTTP\/1\.1" 200 36 "-" "[^"]*"$/m)
    expect(await readdir(elsewhere)).toEqual([])
  })

  test('with no DIR it serves the directory it was started in', async () => {
    const server = await startInstalled(['--port', '0', '--workers', '1'], site)
    try {
      expect(await (await fetch(`${server.url}/hello.txt`)).text()).toBe('hello from an installed threadserve\n')
    } finally {
      expect(await stop(server)).toBe(0)
    }
  })

  test('--version prints the version', async () => {
    const { stdout } = await run(threadserve, ['--version'], { cwd: elsewhere, env: userEnv() })
    expect(stdout).toBe(`${PACKAGE.version}\n`)
  })

  test('a DIR that does not exist is one line and exit code 2', async () => {
    const missing = path.join(dir, 'no-such-dir')
    const result = await run(threadserve, [missing], { cwd: elsewhere, env: userEnv() }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    )
    expect(result.code).toBe(2)
    expect(result.stderr).toBe(`threadserve: DIR: ${missing} does not exist\n`)
  })
})
