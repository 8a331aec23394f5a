#!/usr/bin/env node
// `node scripts/readme-examples.mjs <package dir>`: runs every TypeScript example of a package's
// README as a consumer would, and fails if one does not type-check, does not run, or does not
// print what the README says it prints. Each package's test/package.test.ts (through scripts/package-tests.ts) calls it.
//
// Each ```ts block is one program. It goes into a temp directory whose node_modules holds the
// package (a link to its directory, so its package.json `exports` and the built dist/ are what
// is imported), its dependencies and peer dependencies, and @types/node. It is type-checked with
// the repository's strictest settings (tsconfig.base.json's), then run with tsx from that
// directory. When the block is followed by a line containing "prints" and a ```text block, the
// program's stdout must be exactly that text.
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const REPO = fileURLToPath(new URL('..', import.meta.url))
const packageDir = path.resolve(process.argv[2] ?? '.')
const manifest = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8'))
const readme = readFileSync(path.join(packageDir, 'README.md'), 'utf8')
const requireFromRepo = createRequire(path.join(REPO, 'package.json'))

/** The ```ts blocks of a Markdown text, each with the ```text block it says it prints, if any. */
function examplesOf(markdown) {
  const examples = []
  const fence = /^```(\w*)\n([\s\S]*?)^```$/gm
  const blocks = [...markdown.matchAll(fence)].map((m) => ({
    lang: m[1],
    code: m[2],
    start: m.index,
    end: m.index + m[0].length,
  }))
  for (const [i, block] of blocks.entries()) {
    if (block.lang !== 'ts') continue
    const next = blocks[i + 1]
    const between = next === undefined ? '' : markdown.slice(block.end, next.start)
    const prints = next?.lang === 'text' && /prints/.test(between) && between.trim().split('\n').length === 1
    const line = markdown.slice(0, block.start).split('\n').length
    examples.push({ line, code: block.code, expected: prints ? next.code : undefined })
  }
  return examples
}

/** node_modules/<name> -> `target`, scoped names included. */
function link(nodeModules, name, target) {
  const at = path.join(nodeModules, name)
  mkdirSync(path.dirname(at), { recursive: true })
  symlinkSync(target, at, 'dir')
}

function installInto(dir) {
  const nodeModules = path.join(dir, 'node_modules')
  link(nodeModules, manifest.name, packageDir)
  const requireFromPackage = createRequire(path.join(packageDir, 'package.json'))
  for (const name of Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies })) {
    link(nodeModules, name, path.dirname(realpathSync(requireFromPackage.resolve(`${name}/package.json`))))
  }
  link(nodeModules, '@types/node', path.dirname(requireFromRepo.resolve('@types/node/package.json')))
}

const base = JSON.parse(readFileSync(path.join(REPO, 'tsconfig.base.json'), 'utf8')).compilerOptions
const tsconfig = {
  compilerOptions: { ...base, declaration: false, declarationMap: false, sourceMap: false, noEmit: true },
  files: ['example.ts'],
}
const tsc = requireFromRepo.resolve('typescript/bin/tsc')
const tsxManifest = requireFromRepo.resolve('tsx/package.json')
const tsxBin = JSON.parse(readFileSync(tsxManifest, 'utf8')).bin
const tsx = path.join(path.dirname(tsxManifest), typeof tsxBin === 'string' ? tsxBin : tsxBin.tsx)

const examples = examplesOf(readme)
if (examples.length === 0) {
  console.error(`${manifest.name}: README.md has no \`\`\`ts example`)
  process.exit(1)
}
let failed = 0
for (const example of examples) {
  const where = `${manifest.name} README.md:${example.line}`
  const dir = mkdtempSync(path.join(tmpdir(), 'readme-example-'))
  try {
    writeFileSync(path.join(dir, 'package.json'), '{ "type": "module", "private": true }\n')
    writeFileSync(path.join(dir, 'tsconfig.json'), `${JSON.stringify(tsconfig, null, 2)}\n`)
    writeFileSync(path.join(dir, 'example.ts'), example.code)
    installInto(dir)
    const checked = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: dir, encoding: 'utf8' })
    if (checked.status !== 0) {
      console.error(`${where}: does not type-check\n${checked.stdout}${checked.stderr}`)
      failed++
      continue
    }
    const ran = spawnSync(process.execPath, [tsx, 'example.ts'], { cwd: dir, encoding: 'utf8', timeout: 30_000 })
    if (ran.status !== 0) {
      console.error(`${where}: exited with ${ran.status ?? ran.signal}\n${ran.stdout}${ran.stderr}`)
      failed++
    } else if (example.expected !== undefined && ran.stdout !== example.expected) {
      console.error(`${where}: printed\n${ran.stdout}\ninstead of\n${example.expected}`)
      failed++
    } else {
      console.log(`${where}: ok`)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
process.exit(failed === 0 ? 0 : 1)
