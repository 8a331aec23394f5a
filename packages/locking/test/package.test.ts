import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { expect, test } from 'vitest'

// The package as a consumer gets it, after `pnpm build`: what `npm pack` would publish
// (scripts/check-package.mjs), and the README's TypeScript examples, type-checked against the
// built package and run as written (scripts/readme-examples.mjs).

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url))

function runScript(name: string): { status: number | null; output: string } {
  const script = fileURLToPath(new URL(`../../../scripts/${name}`, import.meta.url))
  const result = spawnSync(process.execPath, [script, PACKAGE_DIR], { encoding: 'utf8', timeout: 120_000 })
  return { status: result.status, output: `${result.stdout}${result.stderr}` }
}

test('the packed package holds dist, src, README and LICENSE, and its maps point inside it', () => {
  const { status, output } = runScript('check-package.mjs')
  expect(status, output).toBe(0)
}, 120_000)

test('every TypeScript example in the README type-checks, runs, and prints what the README says', () => {
  const { status, output } = runScript('readme-examples.mjs')
  expect(status, output).toBe(0)
}, 120_000)
