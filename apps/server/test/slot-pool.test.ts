import fc from 'fast-check'
import { expect, test } from 'vitest'
import { type SlotHolder, SlotPool } from '../src/worker/slot-pool.js'

function holder(name: string, granted: string[]): SlotHolder & { name: string } {
  return { name, slotGranted: () => granted.push(name) }
}

test('grants up to its size, queues up to its queue size, then is full', () => {
  const granted: string[] = []
  const pool = new SlotPool(2, 1)
  expect(pool.claim(holder('a', granted))).toBe('granted')
  expect(pool.claim(holder('b', granted))).toBe('granted')
  expect(pool.claim(holder('c', granted))).toBe('queued')
  expect(pool.claim(holder('d', granted))).toBe('full')
  expect({ active: pool.active, queued: pool.queued }).toEqual({ active: 2, queued: 1 })
})

test('a released slot goes to the longest-waiting request, which is told', () => {
  const granted: string[] = []
  const pool = new SlotPool(1, 5)
  const a = holder('a', granted)
  pool.claim(a)
  pool.claim(holder('b', granted))
  pool.claim(holder('c', granted))
  pool.release(a)
  expect(granted).toEqual(['b'])
  expect({ active: pool.active, queued: pool.queued }).toEqual({ active: 1, queued: 1 })
})

test('a queued request that goes away leaves the queue without being granted', () => {
  const granted: string[] = []
  const pool = new SlotPool(1, 5)
  const a = holder('a', granted)
  const b = holder('b', granted)
  pool.claim(a)
  pool.claim(b)
  pool.release(b)
  pool.release(a)
  expect(granted).toEqual([])
  expect({ active: pool.active, queued: pool.queued }).toEqual({ active: 0, queued: 0 })
})

test('releasing a holder that has nothing is a no-op', () => {
  const pool = new SlotPool(1, 1)
  pool.release(holder('x', []))
  expect({ active: pool.active, queued: pool.queued }).toEqual({ active: 0, queued: 0 })
})

test('any sequence of claims and releases matches a simple model and never exceeds the limits', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 0, max: 4 }),
      fc.array(fc.tuple(fc.boolean(), fc.nat(9)), { maxLength: 60 }),
      (size, queueSize, steps) => {
        const pool = new SlotPool(size, queueSize)
        const holders = Array.from({ length: 10 }, (_, i) => holder(String(i), []))
        const active = new Set<number>()
        const waiting: number[] = []
        for (const [claim, index] of steps) {
          const h = holders[index] as SlotHolder
          if (claim) {
            if (active.has(index) || waiting.includes(index)) continue
            const answer = pool.claim(h)
            if (active.size < size) {
              expect(answer).toBe('granted')
              active.add(index)
            } else if (waiting.length < queueSize) {
              expect(answer).toBe('queued')
              waiting.push(index)
            } else expect(answer).toBe('full')
          } else {
            pool.release(h)
            if (active.delete(index)) {
              while (active.size < size && waiting.length > 0) active.add(waiting.shift() as number)
            } else if (waiting.includes(index)) waiting.splice(waiting.indexOf(index), 1)
          }
          expect(pool.active).toBe(active.size)
          expect(pool.queued).toBe(waiting.length)
          expect(pool.active).toBeLessThanOrEqual(size)
        }
      },
    ),
  )
})
