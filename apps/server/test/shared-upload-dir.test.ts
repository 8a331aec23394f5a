import { createHash, randomBytes } from 'node:crypto'
import { readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, expect, test } from 'vitest'
import { ownHostTag, STALE_TEMP_AGE_MS, tempFileOwner } from '../src/uploads/temp-files.js'
import { openExchange } from './helpers/raw-exchange.js'
import { makeTempDir, type RunningServer, startServer, waitFor } from './helpers/server-process.js'

// Two servers on one upload directory, as hosts behind a load balancer share a volume: when one
// restarts, its start-up sweep removes its own leftovers and stale files, never an upload the
// other is still receiving, nor another host's temp file.

const running: RunningServer[] = []
let shared = ''
afterAll(async () => {
  await Promise.all(running.map((server) => server.stop()))
  if (shared !== '') await rm(shared, { recursive: true, force: true })
})

async function start(): Promise<RunningServer> {
  const server = await startServer({ args: ['--upload-dir', shared] })
  running.push(server)
  return server
}

const tempFiles = async (): Promise<string[]> => (await readdir(shared)).filter((name) => name.startsWith('.upload-'))

test("a restarted server removes its own leftovers and stale files, never the other server's upload in progress", async () => {
  shared = await makeTempDir('threadserve-shared-uploads-')
  const first = await start()
  const second = await start()

  // An upload to the second server, half sent: its temp file is on the shared volume.
  const body = randomBytes(300 * 1024)
  const upload = openExchange(second.port, { timeoutMs: 30_000 })
  await upload.write(`POST /upload HTTP/1.0\r\nContent-Length: ${body.length}\r\n\r\n`)
  await upload.write(body.subarray(0, 100 * 1024))
  const [inProgress] = await waitFor(async () => {
    const names = await tempFiles()
    return names.length === 1 ? names : undefined
  })
  const secondWorkers = await second.workerPids()
  expect(secondWorkers).toContain(tempFileOwner(inProgress as string)?.pid)

  // What a crash of the first server would have left, what another host writes, and what a
  // host that never came back left a day ago.
  const firstWorkers = await first.workerPids()
  const deadPid = firstWorkers[0] as number
  await first.stop()
  running.splice(running.indexOf(first), 1)
  const ownLeftover = `.upload-${ownHostTag()}-${deadPid}-0123456789ab.part`
  const otherHost = `.upload-${ownHostTag() === '00000000' ? '11111111' : '00000000'}-${deadPid}-0123456789ab.part`
  const stale = '.upload-ffffffff-4242-0123456789ab.part'
  for (const name of [ownLeftover, otherHost, stale]) await writeFile(path.join(shared, name), 'half an upload')
  const dayAgo = (Date.now() - STALE_TEMP_AGE_MS - 60_000) / 1000
  await utimes(path.join(shared, stale), dayAgo, dayAgo)

  const restarted = await start()
  const left = await tempFiles()
  console.log(`[shared-upload-dir] after the restart: ${left.length} temp files (${left.join(', ')})`)
  expect(restarted.stderr()).toMatch(/removed 2 unfinished upload/)
  expect(left.sort()).toEqual([inProgress, otherHost].sort())

  // The other server's upload was not disturbed: it completes, byte-exact.
  await upload.write(body.subarray(100 * 1024))
  const answer = await upload.response(0)
  expect(answer?.status).toBe(201)
  const { name } = JSON.parse(answer?.body.toString('utf8') ?? '{}') as { name: string }
  const stored = await readFile(path.join(shared, name))
  expect(createHash('sha256').update(stored).digest('hex')).toBe(createHash('sha256').update(body).digest('hex'))
  expect(await tempFiles()).toEqual([otherHost])
})
