// Bundles every entry point, as tsc emitted it, into a single file with its dependencies (the
// workspace packages, zod, busboy) inlined, written over it in place so every path it computes
// from import.meta.url (../package.json, ../assets, ./worker-main.js) stays the same:
// - dist/main.js, the command: only what forks the first worker, then it imports ./cli.js, which
//   stays a file of its own so that the fork does not wait for the supervisor's code to load;
// - dist/cli.js, the supervisor; dist/worker-main.js, a worker;
// - dist/hash-password.js, the tool that writes --upload-auth lines.
// These four files, package.json and assets/ are the installed command (package.json's `files`):
// it needs no node_modules.
//
// Why bundle: start-up. Node 20 has no compile cache for ES modules, and resolving, reading and
// compiling ~150 small files took ~105 ms per process, on the critical path twice (supervisor,
// then the first worker). One file each takes ~60 ms and ~7 MiB less RSS. The other dist/
// modules stay as tsc wrote them (tests and library use).
import { build } from 'esbuild'

const ENTRIES = ['dist/main.js', 'dist/cli.js', 'dist/worker-main.js', 'dist/hash-password.js']

/** main.js loads ./cli.js once it has forked: keep that import, and cli.js, apart. */
const keepCliApart = {
  name: 'keep-cli-apart',
  setup(bundler) {
    bundler.onResolve({ filter: /^\.\/cli\.js$/ }, (args) => ({ path: args.path, external: true }))
  },
}

await build({
  entryPoints: ENTRIES,
  outdir: 'dist',
  allowOverwrite: true,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  plugins: [keepCliApart],
  // Dependencies written as CommonJS (busboy) call require(): give them one.
  banner: {
    js: "import { createRequire as bundleRequire } from 'node:module'; const require = bundleRequire(import.meta.url);",
  },
  logLevel: 'warning',
})
