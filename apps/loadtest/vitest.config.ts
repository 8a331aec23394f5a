import { defineConfig } from 'vitest/config'

// The tests run real sockets (and, for --workers, real processes) on the shared 2-core machine:
// give them time, and run files one after another. Nothing here asserts speed.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
})
