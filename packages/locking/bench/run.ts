// Prints operations per second; numbers live here, never in test assertions.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { acquireFileLock, KeyedMutex, Mutex, Semaphore } from '../src/index.js'

async function measure(name: string, iterations: number, run: (i: number) => unknown): Promise<void> {
  for (let i = 0; i < Math.min(iterations, 1000); i++) await run(i) // warm-up
  const startedNs = process.hrtime.bigint()
  for (let i = 0; i < iterations; i++) await run(i)
  const seconds = Number(process.hrtime.bigint() - startedNs) / 1e9
  const perSecond = Math.round(iterations / seconds).toLocaleString('en-US')
  console.log(`${name.padEnd(44)} ${perSecond.padStart(12)} ops/s  (${iterations} in ${seconds.toFixed(2)} s)`)
}

const semaphore = new Semaphore(5)
const owners = ['worker-1', 'worker-2', 'worker-3']
// Synchronous: measured without await per iteration, as the supervisor calls it.
{
  const iterations = 2_000_000
  const startedNs = process.hrtime.bigint()
  for (let i = 0; i < iterations; i++) {
    const owner = owners[i % owners.length] as string
    if (semaphore.tryAcquire(owner)) semaphore.release(owner)
  }
  const seconds = Number(process.hrtime.bigint() - startedNs) / 1e9
  const perSecond = Math.round(iterations / seconds).toLocaleString('en-US')
  console.log(
    `${'Semaphore tryAcquire + release'.padEnd(44)} ${perSecond.padStart(12)} ops/s  (${iterations} in ${seconds.toFixed(2)} s)`,
  )
}
await measure('Semaphore acquire (free) + release', 200_000, async (i) => {
  const owner = owners[i % owners.length] as string
  await semaphore.acquire(owner)
  semaphore.release(owner)
})
const mutex = new Mutex()
await measure('Mutex runExclusive (uncontended)', 200_000, () => mutex.runExclusive(() => undefined))
const keyed = new KeyedMutex()
await measure('KeyedMutex withLock (uncontended, 16 keys)', 200_000, (i) =>
  keyed.withLock(`k${i % 16}`, () => undefined),
)

const dir = await mkdtemp(join(tmpdir(), 'threadserve-locking-bench-'))
try {
  const lockPath = join(dir, 'bench.pid')
  await measure('acquireFileLock + release (local fs)', 2000, async () => {
    const lock = await acquireFileLock(lockPath)
    await lock.release()
  })
} finally {
  await rm(dir, { recursive: true, force: true })
}
