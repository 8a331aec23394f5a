#!/usr/bin/env node
// `pnpm test:setup`: installs the system tools the test suites drive for real (Debian packages),
// when they are missing. As root it runs apt-get itself; otherwise through sudo when there is
// one; else it prints the one command to run and exits 1. Prints nothing to do when all are there.
import { execFileSync, spawnSync } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import path from 'node:path'

// command -> the Debian package that provides it, and who needs it.
const TOOLS = [
  { command: 'curl', pkg: 'curl', why: 'server end-to-end tests (a real client)' },
  { command: 'chromium', pkg: 'chromium', why: 'browser tests (upload page, listings, uploaded files, video)' },
  { command: 'goaccess', pkg: 'goaccess', why: 'logger: the combined log read by a real log analyser' },
  { command: 'jq', pkg: 'jq', why: 'logger: JSON lines read by jq' },
  { command: 'haproxy', pkg: 'haproxy', why: 'PROXY protocol and load-balancer tests' },
  { command: 'nginx', pkg: 'nginx-light', why: 'Range/conditional differential tests; the slow-read reference' },
  { command: 'slowhttptest', pkg: 'slowhttptest', why: 'reliability: slow read, Slowloris and slow-body attacks' },
]

// Debian installs daemons in sbin, which a user's PATH may not include.
const SEARCH_PATH = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin']

function isInstalled(command) {
  return SEARCH_PATH.some((dir) => {
    try {
      accessSync(path.join(dir, command), constants.X_OK)
      return true
    } catch {
      return false
    }
  })
}

const missing = TOOLS.filter((tool) => !isInstalled(tool.command))
if (missing.length === 0) process.exit(0)

const packages = missing.map((tool) => tool.pkg)
for (const tool of missing) console.log(`test:setup: ${tool.command} is missing (${tool.why})`)
const install = `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${packages.join(' ')}`
const isRoot = process.getuid?.() === 0
const hasSudo = !isRoot && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0
if (!isRoot && !hasSudo) {
  console.error(`test:setup: run as root (or with sudo): ${install}`)
  process.exit(1)
}
console.log(`test:setup: ${install}`)
const shell = isRoot ? ['sh', ['-c', install]] : ['sudo', ['sh', '-c', install]]
try {
  execFileSync(shell[0], shell[1], { stdio: 'inherit' })
} catch {
  console.error('test:setup: apt-get failed; the tests that need these tools will fail')
  process.exit(1)
}
