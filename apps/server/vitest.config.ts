import { defineConfig } from 'vitest/config'

// End-to-end tests start real server processes: give them time, and run files one after
// another so the 2-core CI machine is not asked to run several servers and loads at once.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
})
