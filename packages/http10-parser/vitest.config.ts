import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Fixtures at the default 16 KiB limit are parsed at every one of their ~17 000 cuts: seconds
    // on a shared 2-core machine, more under coverage. Generous, since this bounds no behaviour.
    testTimeout: 60_000,
    coverage: {
      // `pnpm --filter http10-parser test -- --coverage` reaches vitest as `vitest run -- --coverage`,
      // where vitest takes `--coverage` for a file filter; honour the flag in that position too.
      enabled: process.argv.includes('--coverage'),
      provider: 'v8',
      include: ['src/**'],
      reporter: ['text', 'json-summary'],
    },
  },
})
