import fc from 'fast-check'
import { afterEach, describe, expect, test, vi } from 'vitest'
import { LockError, type LockErrorCode, Semaphore } from '../src/index.js'

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

type Outcome = 'pending' | 'granted' | LockErrorCode

function track(promise: Promise<void>): { outcome: Outcome } {
  const state: { outcome: Outcome } = { outcome: 'pending' }
  promise.then(
    () => (state.outcome = 'granted'),
    (error: unknown) => (state.outcome = error instanceof LockError ? error.code : 'pending'),
  )
  return state
}

function codeOf(run: () => unknown): LockErrorCode | null {
  try {
    run()
    return null
  } catch (error) {
    if (error instanceof LockError) return error.code
    throw error
  }
}

afterEach(() => {
  vi.useRealTimers()
})

describe('Semaphore basics', () => {
  test.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('limit %s is rejected as INVALID_ARGUMENT', (limit) => {
    expect(codeOf(() => new Semaphore(limit))).toBe('INVALID_ARGUMENT')
  })

  test('tryAcquire takes permits up to the limit and counts them per owner', () => {
    const sem = new Semaphore(2)
    expect(sem.tryAcquire('a')).toBe(true)
    expect(sem.tryAcquire('a')).toBe(true)
    expect(sem.tryAcquire('b')).toBe(false)
    expect(sem.inUse).toBe(2)
    expect(sem.heldBy('a')).toBe(2)
    expect(sem.heldBy('b')).toBe(0)
    expect(sem.limit).toBe(2)
  })

  test('release by an owner that holds nothing throws NOT_HELD and changes nothing', () => {
    const sem = new Semaphore(1)
    sem.tryAcquire('a')
    expect(codeOf(() => sem.release('b'))).toBe('NOT_HELD')
    expect(sem.inUse).toBe(1)
    expect(sem.heldBy('a')).toBe(1)
  })

  test('tryAcquire does not jump ahead of a waiter', async () => {
    const sem = new Semaphore(1)
    sem.tryAcquire('a')
    const waiter = track(sem.acquire('b'))
    sem.release('a')
    expect(sem.tryAcquire('c')).toBe(false)
    expect(sem.heldBy('b')).toBe(1)
    await flush()
    expect(waiter.outcome).toBe('granted')
  })

  test('waiters get permits released by releaseAll in FIFO order', async () => {
    const sem = new Semaphore(3)
    for (let i = 0; i < 3; i++) sem.tryAcquire('dead-worker')
    const waiters = ['w1', 'w2', 'w3', 'w4'].map((owner) => ({ owner, state: track(sem.acquire(owner)) }))
    expect(sem.waiting).toBe(4)
    expect(sem.releaseAll('dead-worker')).toBe(3)
    expect(sem.heldBy('dead-worker')).toBe(0)
    expect(sem.inUse).toBe(3)
    expect(sem.waiting).toBe(1)
    await flush()
    expect(waiters.map((w) => w.state.outcome)).toEqual(['granted', 'granted', 'granted', 'pending'])
    expect(waiters.map((w) => sem.heldBy(w.owner))).toEqual([1, 1, 1, 0])
    sem.release('w2')
    await flush()
    expect(waiters[3]?.state.outcome).toBe('granted')
    expect(sem.releaseAll('nobody')).toBe(0)
  })

  test('a timed-out waiter rejects with TIMEOUT and leaves no waiter behind', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const sem = new Semaphore(1)
    sem.tryAcquire('a')
    const first = track(sem.acquire('b', { timeoutMs: 50 }))
    const second = track(sem.acquire('c'))
    vi.advanceTimersByTime(49)
    expect(sem.waiting).toBe(2)
    vi.advanceTimersByTime(1)
    expect(sem.waiting).toBe(1)
    await flush()
    expect(first.outcome).toBe('TIMEOUT')
    sem.release('a')
    await flush()
    expect(second.outcome).toBe('granted')
    expect(sem.heldBy('b')).toBe(0)
    expect(sem.heldBy('c')).toBe(1)
  })

  test('timeoutMs 0 takes a free permit or rejects with TIMEOUT at once', async () => {
    const sem = new Semaphore(1)
    await sem.acquire('a', { timeoutMs: 0 })
    await expect(sem.acquire('b', { timeoutMs: 0 })).rejects.toMatchObject({ code: 'TIMEOUT' })
    expect(sem.waiting).toBe(0)
  })

  test('an aborted waiter rejects with ABORTED and leaves no waiter behind', async () => {
    const sem = new Semaphore(1)
    sem.tryAcquire('a')
    const controller = new AbortController()
    const aborted = track(sem.acquire('b', { signal: controller.signal, timeoutMs: 60_000 }))
    const next = track(sem.acquire('c'))
    controller.abort()
    expect(sem.waiting).toBe(1)
    sem.release('a')
    await flush()
    expect(aborted.outcome).toBe('ABORTED')
    expect(next.outcome).toBe('granted')
    expect(sem.heldBy('b')).toBe(0)
  })

  test('an already aborted signal rejects with ABORTED even when a permit is free', async () => {
    const sem = new Semaphore(1)
    await expect(sem.acquire('a', { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORTED' })
    expect(sem.inUse).toBe(0)
  })

  test.each([-1, Number.NaN])('timeoutMs %s rejects with INVALID_ARGUMENT', async (timeoutMs) => {
    await expect(new Semaphore(1).acquire('a', { timeoutMs })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
  })
})

// The model: a plain counter, a FIFO array and a map, written the obvious way.
class Model {
  inUse = 0
  nowMs = 0
  readonly queue: { id: number; owner: string; deadlineMs: number | null }[] = []
  readonly held = new Map<string, number>()
  readonly outcomes: Outcome[] = []
  constructor(readonly limit: number) {}

  heldBy(owner: string): number {
    return this.held.get(owner) ?? 0
  }

  tryAcquire(owner: string): boolean {
    if (this.inUse >= this.limit || this.queue.length > 0) return false
    this.inUse++
    this.held.set(owner, this.heldBy(owner) + 1)
    return true
  }

  acquire(owner: string, timeoutMs: number | undefined, isPreAborted: boolean): number {
    const id = this.outcomes.length
    if (isPreAborted) this.outcomes.push('ABORTED')
    else if (this.tryAcquire(owner)) this.outcomes.push('granted')
    else if (timeoutMs === 0) this.outcomes.push('TIMEOUT')
    else {
      this.outcomes.push('pending')
      this.queue.push({ id, owner, deadlineMs: timeoutMs === undefined ? null : this.nowMs + timeoutMs })
    }
    return id
  }

  #handOff(): void {
    const next = this.queue.shift()
    if (next === undefined) this.inUse--
    else {
      this.held.set(next.owner, this.heldBy(next.owner) + 1)
      this.outcomes[next.id] = 'granted'
    }
  }

  release(owner: string): LockErrorCode | null {
    if (this.heldBy(owner) === 0) return 'NOT_HELD'
    this.held.set(owner, this.heldBy(owner) - 1)
    this.#handOff()
    return null
  }

  releaseAll(owner: string): number {
    const count = this.heldBy(owner)
    this.held.set(owner, 0)
    for (let i = 0; i < count; i++) this.#handOff()
    return count
  }

  abort(id: number): void {
    const index = this.queue.findIndex((entry) => entry.id === id)
    if (index === -1) return // already settled: aborting later changes nothing
    this.queue.splice(index, 1)
    this.outcomes[id] = 'ABORTED'
  }

  advance(ms: number): void {
    this.nowMs += ms
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const entry = this.queue[i]
      if (entry !== undefined && entry.deadlineMs !== null && entry.deadlineMs <= this.nowMs) {
        this.queue.splice(i, 1)
        this.outcomes[entry.id] = 'TIMEOUT'
      }
    }
  }
}

const OWNERS = ['a', 'b', 'c'] as const
const owner = fc.constantFrom(...OWNERS)
const operation = fc.oneof(
  fc.record({ op: fc.constant('tryAcquire' as const), owner }),
  fc.record({
    op: fc.constant('acquire' as const),
    owner,
    timeoutMs: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
    isPreAborted: fc.boolean(),
  }),
  fc.record({ op: fc.constant('release' as const), owner }),
  fc.record({ op: fc.constant('releaseAll' as const), owner }),
  fc.record({ op: fc.constant('abort' as const), pick: fc.nat() }),
  fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 20 }) }),
)

describe('Semaphore against a model', () => {
  test('random interleavings never exceed the limit and every counter matches the model', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 3 }), fc.array(operation, { maxLength: 60 }), async (limit, ops) => {
        const sem = new Semaphore(limit)
        const model = new Model(limit)
        const tracked: { outcome: Outcome }[] = []
        const controllers: AbortController[] = []
        for (const step of ops) {
          switch (step.op) {
            case 'tryAcquire':
              expect(sem.tryAcquire(step.owner)).toBe(model.tryAcquire(step.owner))
              break
            case 'acquire': {
              const controller = new AbortController()
              if (step.isPreAborted) controller.abort()
              const options = step.timeoutMs === undefined ? {} : { timeoutMs: step.timeoutMs }
              tracked.push(track(sem.acquire(step.owner, { ...options, signal: controller.signal })))
              controllers.push(controller)
              model.acquire(step.owner, step.timeoutMs, step.isPreAborted)
              break
            }
            case 'release':
              expect(codeOf(() => sem.release(step.owner))).toBe(model.release(step.owner))
              break
            case 'releaseAll':
              expect(sem.releaseAll(step.owner)).toBe(model.releaseAll(step.owner))
              break
            case 'abort': {
              if (controllers.length === 0) break
              const id = step.pick % controllers.length
              controllers[id]?.abort()
              model.abort(id)
              break
            }
            case 'advance':
              vi.advanceTimersByTime(step.ms)
              model.advance(step.ms)
              break
          }
          expect(sem.inUse).toBeLessThanOrEqual(limit)
          expect(sem.inUse).toBe(model.inUse)
          expect(sem.waiting).toBe(model.queue.length)
          for (const name of OWNERS) expect(sem.heldBy(name)).toBe(model.heldBy(name))
        }
        await flush()
        expect(tracked.map((t) => t.outcome)).toEqual(model.outcomes)
        // Drain: abort every waiter so no timer or promise outlives the run.
        for (const controller of controllers) controller.abort()
        expect(sem.waiting).toBe(0)
      }),
      { numRuns: 1500 },
    )
  })
})
