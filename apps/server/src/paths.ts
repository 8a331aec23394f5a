import { fileURLToPath } from 'node:url'

// Where the app's own files live. This module sits at the top of src/ on purpose: tsc emits it
// as dist/paths.js, and esbuild inlines it into dist/cli.js and dist/worker-main.js, the same
// folder, so every path computed here from import.meta.url is the same in the bundled and the
// unbundled build. Nothing else in the app computes a path from its own location.

/** The app's package.json (its version). */
export const PACKAGE_JSON_PATH = fileURLToPath(new URL('../package.json', import.meta.url))

/** The upload page served at GET /upload. */
export const UPLOAD_PAGE_PATH = fileURLToPath(new URL('../assets/upload-page.html', import.meta.url))

/** The script every worker process runs. */
export const WORKER_ENTRY_PATH = fileURLToPath(new URL('./worker-main.js', import.meta.url))
