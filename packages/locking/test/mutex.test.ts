import { describe, expect, test } from 'vitest'
import { KeyedMutex, Mutex } from '../src/index.js'

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** Runs `count` critical sections at once, each yielding several times inside; returns the peak overlap. */
async function peakOverlap(run: (section: () => Promise<number>) => Promise<number>, count: number): Promise<number> {
  let active = 0
  let peak = 0
  const section = async (): Promise<number> => {
    active++
    peak = Math.max(peak, active)
    for (let i = 0; i < 3; i++) await tick()
    active--
    return 1
  }
  const results = await Promise.all(Array.from({ length: count }, () => run(section)))
  expect(results.reduce((a, b) => a + b, 0)).toBe(count)
  return peak
}

describe('Mutex', () => {
  test('overlapping async critical sections never overlap', async () => {
    const mutex = new Mutex()
    expect(await peakOverlap((section) => mutex.runExclusive(section), 20)).toBe(1)
    expect(mutex.isLocked()).toBe(false)
  })

  test('the unguarded control does overlap, so the check above can fail', async () => {
    expect(await peakOverlap((section) => section(), 20)).toBeGreaterThan(1)
  })

  test('critical sections run in the order they asked', async () => {
    const mutex = new Mutex()
    const order: number[] = []
    await Promise.all(
      [0, 1, 2, 3, 4].map((n) =>
        mutex.runExclusive(async () => {
          await tick()
          order.push(n)
        }),
      ),
    )
    expect(order).toEqual([0, 1, 2, 3, 4])
  })

  test('a synchronous throw releases the lock and reaches the caller', async () => {
    const mutex = new Mutex()
    await expect(
      mutex.runExclusive(() => {
        throw new Error('boom')
      }),
    ).rejects.toThrow('boom')
    expect(mutex.isLocked()).toBe(false)
    expect(await mutex.runExclusive(() => 'next')).toBe('next')
  })

  test('a rejection releases the lock and reaches the caller', async () => {
    const mutex = new Mutex()
    await expect(mutex.runExclusive(() => Promise.reject(new Error('nope')))).rejects.toThrow('nope')
    expect(mutex.isLocked()).toBe(false)
  })

  test('acquire returns a releaser that is safe to call twice', async () => {
    const mutex = new Mutex()
    const release = await mutex.acquire()
    expect(mutex.isLocked()).toBe(true)
    let isSecondIn = false
    const second = mutex.acquire().then((releaseSecond) => {
      isSecondIn = true
      return releaseSecond
    })
    await tick()
    expect(isSecondIn).toBe(false)
    release()
    release()
    const releaseSecond = await second
    expect(mutex.isLocked()).toBe(true)
    releaseSecond()
    expect(mutex.isLocked()).toBe(false)
  })
})

describe('KeyedMutex', () => {
  test('sections on one key never overlap and the key is forgotten afterwards', async () => {
    const locks = new KeyedMutex()
    expect(await peakOverlap((section) => locks.withLock('a', section), 20)).toBe(1)
    expect(locks.size).toBe(0)
    expect(locks.isLocked('a')).toBe(false)
  })

  test('different keys run concurrently', async () => {
    const locks = new KeyedMutex()
    let releaseA = (): void => undefined
    const holdingA = locks.withLock('a', () => new Promise<void>((resolve) => (releaseA = resolve)))
    await tick()
    expect(locks.isLocked('a')).toBe(true)
    // Finishes while 'a' is still held: it cannot be waiting behind it.
    expect(await locks.withLock('b', () => 'b done')).toBe('b done')
    expect(locks.isLocked('a')).toBe(true)
    expect(locks.size).toBe(1)
    releaseA()
    await holdingA
    expect(locks.size).toBe(0)
  })

  test('size counts keys held or waited on', async () => {
    const locks = new KeyedMutex()
    let releaseA = (): void => undefined
    const first = locks.withLock('a', () => new Promise<void>((resolve) => (releaseA = resolve)))
    const second = locks.withLock('a', () => 'second')
    const other = locks.withLock('b', () => new Promise<void>((resolve) => setImmediate(resolve)))
    expect(locks.size).toBe(2)
    await other
    expect(locks.size).toBe(1)
    releaseA()
    await first
    expect(locks.size).toBe(1) // 'a' is now held by the second caller
    expect(await second).toBe('second')
    expect(locks.size).toBe(0)
  })

  test.each([
    {
      name: 'a synchronous throw',
      fn: (): never => {
        throw new Error('sync')
      },
      message: 'sync',
    },
    { name: 'a rejection', fn: (): Promise<never> => Promise.reject(new Error('async')), message: 'async' },
  ])('$name releases the key and the entry is deleted', async ({ fn, message }) => {
    const locks = new KeyedMutex()
    const failing = locks.withLock('k', fn)
    const next = locks.withLock('k', () => 'after')
    await expect(failing).rejects.toThrow(message)
    expect(await next).toBe('after')
    expect(locks.size).toBe(0)
    expect(locks.isLocked('k')).toBe(false)
  })
})
