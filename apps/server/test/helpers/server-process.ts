import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { chmod, chown, copyFile, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

// Starts the real, built server (supervisor + worker processes) on port 0 in a temp dir, and
// stops it by pid. Every e2e test goes through here.

export const SERVER_MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url))
const LISTENING = /listening on http:\/\/([^\s]+):(\d+) \(/

export interface RunningServer {
  readonly port: number
  readonly url: string
  readonly pid: number
  readonly dir: string
  readonly root: string
  readonly logPath: string
  readonly child: ChildProcess
  stdout(): string
  stderr(): string
  /** Worker pids, read from /proc (children of the supervisor). */
  workerPids(): Promise<number[]>
  /** SIGTERM, then wait for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
  exited: Promise<number | null>
}

export interface StartOptions {
  readonly args?: readonly string[]
  readonly files?: Readonly<Record<string, string | Buffer>>
  readonly env?: NodeJS.ProcessEnv
  /**
   * Run the server as this user (the test runner must be root): its temp dir is handed over to
   * it first. Root reads every file, so a test of 403 needs a server that is not root.
   */
  readonly user?: { readonly uid: number; readonly gid: number }
}

export async function makeTempDir(prefix = 'threadserve-test-'): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix))
}

export async function startServer(options: StartOptions = {}): Promise<RunningServer> {
  const dir = await makeTempDir()
  const root = path.join(dir, 'root')
  await mkdir(root)
  for (const [name, content] of Object.entries(options.files ?? { 'test.txt': 'hello from the test root\n' })) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true })
    await writeFile(path.join(root, name), content)
  }
  const logPath = path.join(dir, 'server.log')
  const { node, main } =
    options.user === undefined ? { node: process.execPath, main: SERVER_MAIN } : await copyForUser(dir, options.user)
  const args = ['--port', '0', '--workers', '2', '--root', root, '--log', logPath, ...(options.args ?? [])]
  const child = spawn(node, [main, ...args], {
    cwd: dir,
    // The text format (worker id, duration), which the tests read; the command's default is combined.
    env: { ...process.env, INIT_CWD: dir, THREADSERVE_LOG_FORMAT: 'text', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.user === undefined ? {} : { uid: options.user.uid, gid: options.user.gid }),
  })
  let out = ''
  let err = ''
  child.stdout?.setEncoding('utf8').on('data', (text: string) => {
    out += text
  })
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    err += text
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in time; stderr: ${err}`)), 20_000)
    const check = (): void => {
      const match = LISTENING.exec(out)
      if (match !== null) {
        clearTimeout(timer)
        resolve(Number(match[2]))
      }
    }
    child.stdout?.on('data', check)
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`server exited with ${code} before listening; stderr: ${err}`))
    })
  })
  const pid = child.pid as number
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    pid,
    dir,
    root,
    logPath,
    child,
    exited,
    stdout: () => out,
    stderr: () => err,
    workerPids: () => childPids(pid),
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
      const code = await exited
      clearTimeout(timer)
      await rm(dir, { recursive: true, force: true })
      return code
    },
  }
}

/**
 * A server for another user runs from a copy of the built app inside its temp dir, and from a
 * copy of node when that user cannot run ours: the checkout (or a Node.js unpacked into a
 * private temp dir, as CI does for other releases) may be in a folder only root can enter.
 */
async function copyForUser(dir: string, user: { uid: number; gid: number }): Promise<{ node: string; main: string }> {
  const app = path.join(dir, 'app')
  const built = fileURLToPath(new URL('../../', import.meta.url))
  for (const part of ['dist', 'assets', 'package.json'])
    await cp(path.join(built, part), path.join(app, part), { recursive: true })
  let node = process.execPath
  if (spawnSync(node, ['-e', ''], { uid: user.uid, gid: user.gid }).status !== 0) {
    node = path.join(dir, 'node')
    await copyFile(process.execPath, node)
    await chmod(node, 0o755)
  }
  await chownTree(dir, user.uid, user.gid)
  return { node, main: path.join(app, 'dist', 'main.js') }
}

async function chownTree(dir: string, uid: number, gid: number): Promise<void> {
  await chown(dir, uid, gid)
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    await chown(path.join(entry.parentPath, entry.name), uid, gid)
  }
}

export async function childPids(pid: number): Promise<number[]> {
  try {
    const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8')
    return text.trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return []
  }
}

export async function rssBytesOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const match = /VmRSS:\s+(\d+) kB/.exec(status)
  return match === null ? 0 : Number(match[1]) * 1024
}

export function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const started = Date.now()
  return new Promise((resolve, reject) => {
    const tick = async (): Promise<void> => {
      let value: T | undefined
      try {
        value = await probe()
      } catch {
        value = undefined // a probe that fails counts as "not yet"
      }
      if (value !== undefined) return resolve(value)
      if (Date.now() - started > timeoutMs) return reject(new Error(`${what} not met in ${timeoutMs} ms`))
      setTimeout(tick, 50)
    }
    void tick()
  })
}

export interface NodeRun {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  readonly ms: number
}

/** Runs `node file ...args` to completion (killed after `timeoutMs`): the CLI tests' one runner. */
export function runNode(
  file: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
): Promise<NodeRun> {
  return new Promise((resolve) => {
    const started = Date.now()
    const child = spawn(process.execPath, [file, ...args], {
      cwd: options.cwd,
      env: options.env === undefined ? process.env : { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => {
      stdout += d
    })
    child.stderr.on('data', (d) => {
      stderr += d
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 15_000)
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr, ms: Date.now() - started })
    })
    child.stdin.end(options.input ?? '')
  })
}
