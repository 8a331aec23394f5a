// Bundles what the two processes load (dist/cli.js: the supervisor; dist/worker-main.js: a
// worker), as tsc emitted them, into single files, written over them in place so every path they
// compute from import.meta.url (../package.json, ../assets, ./worker-main.js) stays the same.
// dist/main.js stays tiny and unbundled: it forks the first worker, then imports dist/cli.js.
//
// Why: start-up. Node 20 has no compile cache for ES modules, and resolving, reading and
// compiling ~150 small files took ~105 ms per process, on the critical path twice (supervisor,
// then the first worker). One file each takes ~60 ms and ~7 MiB less RSS. The other dist/
// modules stay as tsc wrote them (hash-password, tests, library use).
import { build } from 'esbuild'

const ENTRIES = ['dist/cli.js', 'dist/worker-main.js']

await build({
  entryPoints: ENTRIES,
  outdir: 'dist',
  allowOverwrite: true,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // Dependencies written as CommonJS (busboy, mime-types) call require(): give them one.
  banner: {
    js: "import { createRequire as bundleRequire } from 'node:module'; const require = bundleRequire(import.meta.url);",
  },
  logLevel: 'warning',
})
