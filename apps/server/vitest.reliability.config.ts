import { defineConfig } from 'vitest/config'

// The reliability suite: chaos, wire fuzzing, traversal, slow clients, exhaustion, bad
// configuration. Each file starts real servers and drives them hard, so files run one after
// another (a 2-core machine cannot host two of them at once) and get generous time limits; every
// loop inside is bounded in count and time, and the whole suite stays under 10 minutes.
export default defineConfig({
  test: {
    include: ['test-reliability/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
})
