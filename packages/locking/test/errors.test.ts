import { readFile } from 'node:fs/promises'
import { describe, expect, test } from 'vitest'
import { LOCK_ERROR_CODES, LOCK_ERROR_STATUS, LockError } from '../src/index.js'

describe('LockError', () => {
  test('the README lists every error code', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8')
    const missing = LOCK_ERROR_CODES.filter((code) => !readme.includes(`\`${code}\``))
    expect(missing).toEqual([])
  })

  test('LOCK_ERROR_CODES is exactly the keys of the status table', () => {
    expect([...LOCK_ERROR_CODES].sort()).toEqual(Object.keys(LOCK_ERROR_STATUS).sort())
  })

  test.each(LOCK_ERROR_CODES.map((code) => ({ code })))('$code carries its code, status and name', ({ code }) => {
    const error = new LockError(code, 'message', { cause: 'why' })
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe('LockError')
    expect(error.code).toBe(code)
    expect(error.status).toBe(LOCK_ERROR_STATUS[code])
    expect(error.cause).toBe('why')
  })
})
