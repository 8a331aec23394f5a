import { createHash, randomBytes } from 'node:crypto'
import { type FileHandle, mkdtemp, open, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, expect, test } from 'vitest'
import { UploadWriter } from '../src/uploads/upload-store.js'

// UploadWriter on a real file: the staging copies and the write-behind datasync (every 8 MiB).
// The datasync is observed, and made to fail, on the real FileHandle the writer is given.

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'threadserve-writer-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** A writer on a real temp file whose handle's datasync goes through `datasync`. */
async function writerWith(datasync: (real: () => Promise<void>) => Promise<void>): Promise<UploadWriter> {
  const tempPath = path.join(dir, '.upload-test.part')
  const handle: FileHandle = await open(tempPath, 'wx')
  const real = handle.datasync.bind(handle)
  handle.datasync = () => datasync(real)
  return new UploadWriter(dir, tempPath, handle)
}

/** Writes `body` in 64 KiB pieces from one reused buffer, as the shared read buffer would. */
async function writeLikeASocket(writer: UploadWriter, body: Buffer): Promise<void> {
  const shared = Buffer.alloc(64 * 1024)
  for (let offset = 0; offset < body.length; offset += shared.length) {
    const piece = body.subarray(offset, offset + shared.length)
    piece.copy(shared)
    if (!writer.write(shared.subarray(0, piece.length))) await new Promise<void>((resolve) => writer.onDrain(resolve))
    shared.fill(0xee) // the next read would overwrite it: a writer that kept a reference stores this
  }
}

test('bytes written from a reused buffer are stored exactly, and datasync runs while they arrive', async () => {
  let datasyncs = 0
  const writer = await writerWith((real) => {
    datasyncs++
    return real()
  })
  const body = randomBytes(20 * 1024 * 1024 + 12_345)
  await writeLikeASocket(writer, body)
  const syncedBeforeCommit = datasyncs
  const stored = await writer.commit('bin')
  expect(syncedBeforeCommit).toBeGreaterThanOrEqual(1)
  expect(stored.size).toBe(body.length)
  expect(stored.sha256).toBe(createHash('sha256').update(body).digest('hex'))
  expect((await readFile(path.join(dir, stored.name))).equals(body)).toBe(true)
})

test('a failed write-behind datasync fails the commit and leaves nothing behind', async () => {
  const writer = await writerWith(() =>
    Promise.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })),
  )
  await writeLikeASocket(writer, randomBytes(9 * 1024 * 1024))
  await expect(writer.commit('bin')).rejects.toThrow(/EIO/)
  expect(await readdir(dir)).toEqual([])
})
