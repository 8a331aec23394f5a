#!/usr/bin/env node
// `node scripts/check-package.mjs <package dir>`: checks what `npm pack` would publish for a
// package under packages/ (after `pnpm build`), and fails with one line per problem:
// - only package.json, README.md, LICENSE (the repository's), dist/ and src/ are packed;
// - the entry points of `exports` are in it, and `types` is the `exports` types entry;
// - every source map and declaration map points at files that are packed, so "go to
//   definition" in a consumer's editor lands in the TypeScript source and stack traces map;
// - license, repository, engines and publishConfig are set.
// Each package's test/package.test.ts calls it.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const REPO = fileURLToPath(new URL('..', import.meta.url))
const packageDir = path.resolve(process.argv[2] ?? '.')
const manifest = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8'))
const problems = []

// `npm pack --dry-run --json` lists the files without writing a tarball.
const [packed] = JSON.parse(
  execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: packageDir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }),
)
const files = new Set(packed.files.map((file) => file.path))

for (const file of files) {
  const allowed = ['package.json', 'README.md', 'LICENSE'].includes(file) || /^(dist|src)\//.test(file)
  if (!allowed) problems.push(`packs ${file}, which a consumer does not need`)
}
for (const file of ['package.json', 'README.md', 'LICENSE']) {
  if (!files.has(file)) problems.push(`does not pack ${file}`)
}
if (files.has('LICENSE')) {
  const license = readFileSync(path.join(packageDir, 'LICENSE'), 'utf8')
  if (license !== readFileSync(path.join(REPO, 'LICENSE'), 'utf8')) problems.push('LICENSE differs from the repository')
}

const entry = manifest.exports?.['.']
if (entry === undefined) problems.push('has no exports["."]')
for (const [condition, target] of Object.entries(entry ?? {})) {
  if (!files.has(path.posix.normalize(target))) problems.push(`exports["."].${condition} ${target} is not packed`)
}
if (manifest.types !== entry?.types) problems.push(`types (${manifest.types}) is not exports["."].types`)

for (const file of files) {
  if (!file.endsWith('.map')) continue
  const map = JSON.parse(readFileSync(path.join(packageDir, file), 'utf8'))
  for (const source of map.sources ?? []) {
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), map.sourceRoot ?? '', source))
    if (!files.has(target)) problems.push(`${file} points at ${target}, which is not packed`)
  }
}

if (manifest.license !== 'MIT') problems.push(`license is ${manifest.license}, not MIT`)
const directory = path.relative(REPO, packageDir).split(path.sep).join('/')
if (manifest.repository?.directory !== directory) problems.push(`repository.directory is not ${directory}`)
if (manifest.engines?.node === undefined) problems.push('engines.node is not set')
if (manifest.publishConfig?.access !== 'public') problems.push('publishConfig.access is not public (a scoped package)')

for (const problem of problems) console.error(`${manifest.name}: ${problem}`)
if (problems.length === 0) console.log(`${manifest.name}: ${files.size} files, ok`)
process.exit(problems.length === 0 ? 0 : 1)
