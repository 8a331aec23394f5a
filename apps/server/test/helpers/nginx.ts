import { type ChildProcess, spawn } from 'node:child_process'
import { access, rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { exchange } from './raw-exchange.js'
import { makeTempDir, waitFor } from './server-process.js'

// Debian's nginx (nginx-light, installed by `pnpm test:setup`) as a reference server, for the
// differential test of ranges and validators and for the attack tests: our own master process
// on a free 127.0.0.1 port, with a generated configuration whose pid file, logs and temp paths
// all live in a temp dir, stopped by pid. Its settings are nginx's defaults plus what Debian's
// stock nginx.conf sets for serving files (sendfile, tcp_nopush), plus what a caller adds.

const NGINX_PATHS = ['/usr/sbin/nginx', '/usr/bin/nginx']

export interface RunningNginx {
  readonly port: number
  readonly pid: number
  readonly dir: string
  readonly child: ChildProcess
  /** SIGTERM to the master (it stops its workers), SIGKILL after 10 s; then the temp dir goes. */
  stop(): Promise<void>
}

async function nginxBinary(): Promise<string> {
  for (const candidate of NGINX_PATHS) {
    try {
      await access(candidate)
      return candidate
    } catch {}
  }
  throw new Error('nginx is not installed: run `pnpm test:setup` (Debian package nginx-light)')
}

/** A port that was free a moment ago on 127.0.0.1 (nginx binds it itself). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo
      probe.close(() => resolve(port))
    })
  })
}

export interface NginxOptions {
  /** worker_processes (default 2, as the benchmark's nginx). */
  readonly workers?: number
  /**
   * One process, no master (`master_process off`): it keeps the user that started it, so a
   * root-run test can serve a directory only root may read (a server's private temp dir).
   */
  readonly singleProcess?: boolean
  /** More directives for the http block, e.g. `if_modified_since before;`. */
  readonly httpDirectives?: string
}

function config(dir: string, root: string, port: number, options: NginxOptions): string {
  const processes =
    options.singleProcess === true
      ? 'master_process off;\nworker_processes 1;'
      : `worker_processes ${options.workers ?? 2};`
  return `daemon off;
${processes}
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log ${dir}/access.log;
  sendfile on;
  tcp_nopush on;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  ${options.httpDirectives ?? ''}
  server {
    listen 127.0.0.1:${port} backlog=4096;
    root ${root};
  }
}
`
}

/**
 * Starts nginx serving `root` and resolves once it answers `probePath` with 200. Started as
 * root, nginx serves as an unprivileged user: `root` and the directories above it must be
 * readable by everyone.
 */
export async function startNginx(root: string, probePath: string, options: NginxOptions = {}): Promise<RunningNginx> {
  const binary = await nginxBinary()
  const dir = await makeTempDir('threadserve-nginx-')
  const conf = path.join(dir, 'nginx.conf')
  const port = await freePort()
  await writeFile(conf, config(dir, root, port, options))
  const child = spawn(binary, ['-p', dir, '-c', conf, '-e', path.join(dir, 'error.log')], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    stderr += text
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(timer)
    await rm(dir, { recursive: true, force: true })
  }
  const state = await waitFor(
    async () => {
      if (child.exitCode !== null || child.signalCode !== null) return 'exited'
      const answer = await exchange(port, `GET ${probePath} HTTP/1.0\r\n\r\n`, { timeoutMs: 2000 })
      return answer.status === 200 ? 'serving' : undefined
    },
    10_000,
    `nginx answering on port ${port}`,
  ).catch((error: Error) => error.message)
  if (state !== 'serving') {
    await stop()
    throw new Error(`nginx did not start (${state}); stderr: ${stderr}`)
  }
  return { port, pid: child.pid as number, dir, child, stop }
}
