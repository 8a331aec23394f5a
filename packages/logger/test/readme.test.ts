import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { LOG_ERROR_STATUS } from '../src/index.js'

test('README.md lists every LogErrorCode', async () => {
  const readme = await readFile(join(import.meta.dirname, '..', 'README.md'), 'utf8')
  const missing = Object.keys(LOG_ERROR_STATUS).filter((code) => !readme.includes(`\`${code}\``))
  expect(missing).toEqual([])
})
