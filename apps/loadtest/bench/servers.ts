import { type ChildProcess, spawn } from 'node:child_process'
import { chmod, mkdir, writeFile } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { launch, track } from './child-processes.js'
import type { RunningServer } from './kit.js'
import { BARE_NODE, NODE_CLUSTER, THREADSERVE } from './settings.js'

// The contenders, each started fresh on 127.0.0.1 for every measurement, serving the same root
// and storing uploads in a fresh directory of the run.

export type ServerId =
  | 'threadserve'
  | 'threadserve-2w'
  | 'threadserve-kernel'
  | 'nginx'
  | 'node-cluster'
  | 'bare-node'
  | 'python'

export const SERVER_LABEL: Record<ServerId, string> = {
  threadserve: 'ThreadServe (5 workers)',
  'threadserve-2w': 'ThreadServe (--workers 2)',
  'threadserve-kernel': 'ThreadServe (--workers 2 --balance kernel)',
  nginx: 'nginx (2 workers)',
  'node-cluster': 'node:cluster + node:http (2 workers)',
  'bare-node': 'bare Node (net + node:cluster, 2 workers)',
  python: 'python3 -m http.server',
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with code ${child.exitCode}`)
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1')
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (ok) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`nothing listening on ${port} after ${timeoutMs} ms`)
}

export function nginxConfig(dir: string, root: string, port: number, uploads: string): string {
  return `daemon off;
worker_processes 2;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/nginx-body;
  proxy_temp_path ${dir}/nginx-proxy;
  fastcgi_temp_path ${dir}/nginx-fastcgi;
  uwsgi_temp_path ${dir}/nginx-uwsgi;
  scgi_temp_path ${dir}/nginx-scgi;
  server {
    listen 127.0.0.1:${port} backlog=4096;
    root ${root};
    location /dav/ {
      alias ${uploads}/;
      dav_methods PUT;
      client_max_body_size 8m;
    }
  }
}
`
}

/** ThreadServe on --port 0, resolved with the port it prints. */
async function startThreadServe(
  id: ServerId,
  dir: string,
  root: string,
  uploads: string,
  extra: readonly string[],
): Promise<RunningServer> {
  const args = [
    THREADSERVE,
    '--port',
    '0',
    '--root',
    root,
    '--upload-dir',
    uploads,
    '--log',
    path.join(dir, 'server.log'),
    // Only clients that ask get a persistent connection (the -k workload); the others get one
    // response per connection, as from the other servers.
    '--keep-alive',
  ]
  if (id === 'threadserve-2w') args.push('--workers', '2')
  if (id === 'threadserve-kernel') args.push('--workers', '2', '--balance', 'kernel')
  args.push(...extra)
  const child = track(spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }))
  child.stderr?.resume()
  const port = await new Promise<number>((resolve, reject) => {
    let text = ''
    const timer = setTimeout(() => reject(new Error('ThreadServe did not print its port')), 15_000)
    child.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString()
      const match = /listening on http:\/\/[^:]+:(\d+) \(/.exec(text)
      if (match !== null) {
        clearTimeout(timer)
        child.stdout?.resume()
        resolve(Number(match[1]))
      }
    })
    child.once('exit', (code) => reject(new Error(`ThreadServe exited with code ${code}`)))
  })
  return { child, port, pid: child.pid as number }
}

/** Starts one contender (ThreadServe with `extra` flags) and resolves once it accepts connections. */
export async function startServer(
  id: ServerId,
  dir: string,
  root: string,
  uploads: string,
  extra: readonly string[] = [],
): Promise<RunningServer> {
  if (id === 'threadserve' || id === 'threadserve-2w' || id === 'threadserve-kernel') {
    return startThreadServe(id, dir, root, uploads, extra)
  }
  const port = await freePort()
  let child: ChildProcess
  if (id === 'nginx') {
    const conf = path.join(dir, 'nginx.conf')
    await writeFile(conf, nginxConfig(dir, root, port, uploads))
    child = launch('nginx', ['-c', conf, '-e', path.join(dir, 'nginx-error.log')], dir)
  } else if (id === 'node-cluster') {
    child = launch(
      process.execPath,
      [NODE_CLUSTER, '--port', String(port), '--root', root, '--upload-dir', uploads, '--workers', '2'],
      dir,
    )
  } else if (id === 'bare-node') {
    child = launch(process.execPath, [BARE_NODE, '--port', String(port), '--root', root, '--workers', '2'], dir)
  } else {
    child = launch('python3', ['-m', 'http.server', '--bind', '127.0.0.1', '--directory', root, String(port)], dir)
  }
  await waitForPort(port, child)
  return { child, port, pid: child.pid as number }
}

/**
 * A run's directory and its fresh upload directory. nginx, started as root, serves and writes
 * as an unprivileged worker user: the files must be world-readable and the upload dir writable.
 */
export async function makeRunDir(dir: string): Promise<string> {
  const uploads = path.join(dir, 'uploads')
  await mkdir(uploads, { recursive: true })
  await chmod(dir, 0o755)
  await chmod(uploads, 0o777)
  return uploads
}
