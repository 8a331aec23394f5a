import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { parseTarget } from '@threadserve/http10-parser'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { StaticFiles } from '../src/files/static-files.js'

let root = ''
beforeAll(async () => {
  root = await realpath(await mkdtemp(path.join(tmpdir(), 'threadserve-cache-')))
  for (let i = 0; i < 200; i++) await writeFile(path.join(root, `empty-${i}.txt`), '')
  await writeFile(path.join(root, 'small.txt'), 'x'.repeat(100))
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

test('empty files are charged as much as a small file: many of them cannot fill the cache for free', async () => {
  const files = new StaticFiles(root, { cacheMaxFileBytes: 1024, cacheMaxBytes: 64 * 1024 })
  for (let i = 0; i < 200; i++) await files.lookup(parseTarget(`/empty-${i}.txt`), true)
  const { files: count, bytes } = files.cacheUse
  expect(bytes).toBeLessThanOrEqual(64 * 1024)
  expect(count).toBeLessThanOrEqual(16) // at least 4 KiB each
  expect(count).toBeGreaterThan(0)
})

test('a cached file is still served from memory after the budget turned over', async () => {
  const files = new StaticFiles(root, { cacheMaxFileBytes: 1024, cacheMaxBytes: 64 * 1024 })
  for (let i = 0; i < 50; i++) await files.lookup(parseTarget(`/empty-${i}.txt`), true)
  const found = await files.lookup(parseTarget('/small.txt'), true)
  expect(found.kind === 'file' && found.body?.toString()).toBe('x'.repeat(100))
})
