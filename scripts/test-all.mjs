#!/usr/bin/env node
// `pnpm test:all`: every test this repository has, in the order CI runs them: `pnpm test:setup`
// (the system tools the tests drive: curl, Chromium, goaccess, jq, haproxy, nginx, slowhttptest),
// then `pnpm test` (every package's and app's suite), then `pnpm test:reliability` (the server's
// chaos, fuzzing, traversal, slow-client and exhaustion suite, minutes long). The reliability
// suite runs even when `pnpm test` failed, so one run reports every failure; the exit status is
// the first failure's.
import { spawnSync } from 'node:child_process'

function pnpm(script) {
  const result = spawnSync('pnpm', [script], { stdio: 'inherit' })
  if (result.error) throw result.error
  return result.status ?? 1
}

const setup = pnpm('test:setup')
if (setup !== 0) process.exit(setup)
const tests = pnpm('test')
const reliability = pnpm('test:reliability')
process.exit(tests !== 0 ? tests : reliability)
