import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { expect, test } from 'vitest'

// The checks every package runs on itself as a consumer gets it, after `pnpm build`: what `npm
// pack` would publish (check-package.mjs), and the README's TypeScript examples, type-checked
// against the built package and run as written (readme-examples.mjs). Each package's
// test/package.test.ts calls this, so `pnpm --filter <package> test` still checks that package alone.

/** Declares the two tests for the package whose test file is at `testFileUrl`. */
export function testAsConsumer(testFileUrl: string): void {
  const packageDir = fileURLToPath(new URL('..', testFileUrl))
  const runScript = (name: string): { status: number | null; output: string } => {
    const script = fileURLToPath(new URL(name, import.meta.url))
    const result = spawnSync(process.execPath, [script, packageDir], { encoding: 'utf8', timeout: 120_000 })
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
}
