import { expect, test } from 'vitest'
import {
  CRASH_LOOP_EXITS,
  decideRestart,
  type ExitHistory,
  MAX_BACKOFF_MS,
  NO_EXITS,
  QUICK_EXIT_MS,
} from '../src/supervisor/restart-policy.js'

test('a worker that served a while and died is restarted at once', () => {
  expect(decideRestart(NO_EXITS, true, 60_000)).toEqual({ kind: 'restart', delayMs: 0, history: NO_EXITS })
})

test('quick exits back off, doubling from 100 ms up to the cap', () => {
  let history: ExitHistory = NO_EXITS
  const delays: number[] = []
  for (let i = 0; i < 10; i++) {
    const decision = decideRestart(history, true, QUICK_EXIT_MS - 1)
    if (decision.kind !== 'restart') throw new Error('a ready worker never makes a crash loop')
    delays.push(decision.delayMs)
    history = decision.history
  }
  expect(delays.slice(0, 5)).toEqual([100, 200, 400, 800, 1600])
  expect(Math.max(...delays)).toBe(MAX_BACKOFF_MS)
})

test('one long life resets the backoff', () => {
  const history = { earlyExits: 0, quickExits: 6 }
  expect(decideRestart(history, true, QUICK_EXIT_MS)).toMatchObject({ kind: 'restart', delayMs: 0 })
})

test(`${CRASH_LOOP_EXITS} exits in a row before ready is a crash loop: give up`, () => {
  let history: ExitHistory = NO_EXITS
  const kinds: string[] = []
  for (let i = 0; i < CRASH_LOOP_EXITS; i++) {
    const decision = decideRestart(history, false, 10)
    kinds.push(decision.kind)
    history = decision.history
  }
  expect(kinds).toEqual([...Array(CRASH_LOOP_EXITS - 1).fill('restart'), 'give-up'])
})

test('a worker that became ready clears the count of early exits', () => {
  const decision = decideRestart({ earlyExits: CRASH_LOOP_EXITS - 1, quickExits: 0 }, true, 5000)
  expect(decision).toEqual({ kind: 'restart', delayMs: 0, history: NO_EXITS })
})
