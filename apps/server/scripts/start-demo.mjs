// `pnpm --filter server start`: the command, with the repository's demo settings as defaults.
// The installed `threadserve` serves the current directory and logs nginx's combined format to
// stdout; from a checkout, the start command serves the demo root (static/ at the top of the
// repository, from wherever it is run) and keeps the access log in ./server.log, in the text
// format that shows the worker and the duration. Each is only a default: a THREADSERVE_*
// variable already set, a flag or a DIR argument wins, as for any setting.
import { fileURLToPath } from 'node:url'

const DEMO_DEFAULTS = {
  THREADSERVE_ROOT: fileURLToPath(new URL('../../../static', import.meta.url)),
  THREADSERVE_LOG: './server.log',
  THREADSERVE_LOG_FORMAT: 'text',
}

for (const [name, value] of Object.entries(DEMO_DEFAULTS)) process.env[name] ??= value
await import('../dist/main.js')
