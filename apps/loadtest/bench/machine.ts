import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import os from 'node:os'
import { log } from './log.js'
import { fmt } from './numbers.js'
import { MEASURE_SECONDS, REPETITIONS, WARMUP } from './settings.js'

// The machine the comparison runs on: the tools it needs, installed when missing, and the lines
// that describe it in the report (numbers from another machine are not comparable).

export function has(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0
}

/** nginx and ab from Debian's packages when they are missing (root, or sudo without a password). */
export function ensureTools(): void {
  const missing = [has('nginx') ? null : 'nginx', has('ab') ? null : 'apache2-utils'].filter((x) => x !== null)
  if (missing.length === 0) return
  const prefix = process.getuid?.() === 0 ? [] : ['sudo', '-n']
  const run = (args: string[]): void => {
    const [command = '', ...rest] = [...prefix, ...args]
    log(`$ ${[command, ...rest].join(' ')}`)
    const result = spawnSync(command, rest, {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      timeout: 300_000,
    })
    if (result.status !== 0) log(`(exit ${result.status}: continuing without ${missing.join(', ')})`)
  }
  run(['apt-get', 'update', '-qq'])
  run(['apt-get', 'install', '-y', '-qq', ...missing])
}

/** Markdown bullets: OS, CPUs, memory, the versions of every contender, and the run's settings. */
export function describeMachine(): string[] {
  const osName = /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os.type()
  const version = (cmd: string, args: string[]): string => {
    const result = spawnSync(cmd, args, { encoding: 'utf8' })
    return `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n')[0] ?? 'missing'
  }
  return [
    `- ${osName}, Linux ${os.release()}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, ${fmt(os.totalmem() / 1024 ** 3, 1)} GiB RAM (a shared VM: the load generator runs on the same cores)`,
    `- Node.js ${process.version}; ${version('nginx', ['-v'])}; ${version('python3', ['--version'])}; ${version('ab', ['-V'])}`,
    `- run ${new Date().toISOString()}, ${REPETITIONS} repetitions of ${MEASURE_SECONDS} s each after a ${WARMUP} warm-up, every server started fresh for every measurement`,
  ]
}
