import { afterEach, beforeEach, expect, test, vi } from 'vitest'
import { RateGuard } from '../src/http/rate-guard.js'

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

test('a transfer at the minimum rate is never cut off', () => {
  const guard = new RateGuard()
  let bytes = 0
  const tooSlow = vi.fn()
  guard.start(1024, 1000, () => bytes, tooSlow)
  for (let second = 0; second < 30; second++) {
    bytes += 1024
    vi.advanceTimersByTime(1000)
  }
  expect(tooSlow).not.toHaveBeenCalled()
  guard.stop()
})

test('one window below the rate cuts the transfer off, once', () => {
  const guard = new RateGuard()
  let bytes = 0
  const tooSlow = vi.fn()
  guard.start(1024, 10_000, () => bytes, tooSlow)
  bytes += 20_000
  vi.advanceTimersByTime(10_000) // first window: 20 KB, fine
  bytes += 10_000
  vi.advanceTimersByTime(10_000) // second: 10 KB < 10 KiB
  vi.advanceTimersByTime(30_000)
  expect(tooSlow).toHaveBeenCalledTimes(1)
  expect(guard.watching).toBe(false)
})

test('the first window is a grace period: nothing is checked before it ends', () => {
  const guard = new RateGuard()
  const tooSlow = vi.fn()
  guard.start(1024, 10_000, () => 0, tooSlow)
  vi.advanceTimersByTime(9_999)
  expect(tooSlow).not.toHaveBeenCalled()
  vi.advanceTimersByTime(1)
  expect(tooSlow).toHaveBeenCalledTimes(1)
})

test('a rate of 0 watches nothing, and stop() ends the watch', () => {
  const guard = new RateGuard()
  const tooSlow = vi.fn()
  guard.start(0, 1000, () => 0, tooSlow)
  expect(guard.watching).toBe(false)
  guard.start(1, 1000, () => 0, tooSlow)
  guard.stop()
  vi.advanceTimersByTime(5000)
  expect(tooSlow).not.toHaveBeenCalled()
})
