import { existsSync, readFileSync } from 'node:fs'
import { expect, test } from 'vitest'

// paths.ts is the one module that computes where the app's files are. It sits at the top of src/
// so that tsc's dist/paths.js and the esbuild bundles beside it (dist/cli.js, dist/worker-main.js)
// resolve them alike; this checks the built module finds real files, and that the bundles carry
// the same relative locations rather than absolute paths of the machine that built them.

test('the built paths module names files that exist', async () => {
  // A computed specifier: dist/ is built output, which the type check does not need to exist.
  const paths = (await import(new URL('../dist/paths.js', import.meta.url).href)) as Record<string, string>
  expect(Object.keys(paths).length).toBeGreaterThanOrEqual(3)
  for (const [name, file] of Object.entries(paths)) expect(existsSync(file), `${name}: ${file}`).toBe(true)
})

test('the bundles compute the same locations, relative to their own place in dist/', () => {
  for (const bundle of ['cli.js', 'worker-main.js']) {
    const text = readFileSync(new URL(`../dist/${bundle}`, import.meta.url), 'utf8')
    const urls = [...text.matchAll(/new URL\("([^"]+)", import\.meta\.url\)/g)].map((match) => match[1]).sort()
    expect(urls, bundle).toEqual(['../assets/upload-page.html', '../package.json', './worker-main.js'])
  }
})
