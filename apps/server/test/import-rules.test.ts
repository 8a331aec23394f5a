import { readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, test } from 'vitest'

// The folder rules of apps/server/src (README, "Map"), read from the imports themselves so they
// outlive any one change: the supervisor and worker processes meet only through
// @threadserve/ipc-protocol, config/ and common/; nothing imports an entry point; the supervisor
// loads no request-serving code; and no package imports an app.

const APP = fileURLToPath(new URL('../', import.meta.url))
const SRC = path.join(APP, 'src')
const PACKAGES = fileURLToPath(new URL('../../../packages/', import.meta.url))
const ENTRY_POINTS = new Set(['main.ts', 'worker-main.ts', 'cli.ts', 'hash-password.ts'])

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name)
    if (statSync(full).isDirectory()) return name === 'node_modules' || name === 'dist' ? [] : sourceFiles(full)
    return name.endsWith('.ts') ? [full] : []
  })
}

/** Every module specifier a file imports or re-exports, static or dynamic. */
function specifiersOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const found: string[] = []
  for (const match of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/g))
    found.push(match[1] as string)
  for (const match of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(match[1] as string)
  for (const match of text.matchAll(/(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g)) found.push(match[1] as string)
  return found
}

/** `supervisor/worker-fleet.ts` -> 'supervisor'; a file at the top of src/ -> its own name. */
function folderOf(file: string): string {
  const relative = path.relative(SRC, file)
  const [first] = relative.split(path.sep)
  return relative.includes(path.sep) ? (first as string) : relative
}

interface Edge {
  readonly from: string
  readonly to: string
}

function appEdges(): Edge[] {
  return sourceFiles(SRC).flatMap((file) =>
    specifiersOf(file)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => ({
        from: path.relative(SRC, file),
        to: path.relative(SRC, path.resolve(path.dirname(file), spec)).replace(/\.js$/, '.ts'),
      })),
  )
}

function describeEdges(edges: Edge[]): string[] {
  return edges.map((edge) => `${edge.from} -> ${edge.to}`)
}

test('the reader finds the imports the rules are about', () => {
  const edges = describeEdges(appEdges())
  expect(edges).toContain('supervisor/supervisor.ts -> supervisor/worker-fleet.ts')
  expect(edges).toContain('worker/run-worker.ts -> http/connection.ts')
  expect(edges).toContain('main.ts -> cli.ts')
})

test('supervisor/ and worker/ never import each other', () => {
  const crossing = appEdges().filter((edge) => {
    const from = folderOf(path.join(SRC, edge.from))
    const to = folderOf(path.join(SRC, edge.to))
    return (from === 'supervisor' && to === 'worker') || (from === 'worker' && to === 'supervisor')
  })
  expect(describeEdges(crossing)).toEqual([])
})

test('no module imports an entry point (main, worker-main, cli, hash-password), except main its cli', () => {
  const intoEntries = appEdges().filter(
    (edge) => ENTRY_POINTS.has(edge.to) && !(edge.from === 'main.ts' && edge.to === 'cli.ts'),
  )
  expect(describeEdges(intoEntries)).toEqual([])
})

test('the supervisor loads no request-serving code (http, files, browser, worker)', () => {
  const serving = new Set(['http', 'files', 'browser', 'worker'])
  const edges = appEdges().filter(
    (edge) => folderOf(path.join(SRC, edge.from)) === 'supervisor' && serving.has(folderOf(path.join(SRC, edge.to))),
  )
  expect(describeEdges(edges)).toEqual([])
})

// The repository's shared test tooling (scripts/) is the one place outside a package its tests may
// use: the checks every package runs on itself as a consumer (scripts/package-tests.ts).
const SHARED_SCRIPTS = fileURLToPath(new URL('../../../scripts/', import.meta.url))

test('no package imports an app, nor another package by a relative path; tests may use scripts/', () => {
  const offending: string[] = []
  for (const pkg of readdirSync(PACKAGES)) {
    const root = path.join(PACKAGES, pkg)
    for (const dir of ['src', 'test', 'bench']) {
      let files: string[]
      try {
        files = sourceFiles(path.join(root, dir))
      } catch {
        continue
      }
      for (const file of files) {
        for (const spec of specifiersOf(file)) {
          const resolved = path.resolve(path.dirname(file), spec)
          const sharedTooling = dir === 'test' && resolved.startsWith(SHARED_SCRIPTS)
          const leavesPackage = spec.startsWith('.') && !resolved.startsWith(root + path.sep) && !sharedTooling
          const namesAnApp = spec === 'server' || spec === 'loadtest' || spec.startsWith('server/')
          if (leavesPackage || namesAnApp) offending.push(`${path.relative(PACKAGES, file)} -> ${spec}`)
        }
      }
    }
  }
  expect(offending).toEqual([])
})
