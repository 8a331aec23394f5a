import { readFileSync } from 'node:fs'
import { expect, test } from 'vitest'
import { IPC_ERROR_STATUS, type IpcErrorCode } from '../src/index.js'

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

test.each(Object.entries(IPC_ERROR_STATUS) as [IpcErrorCode, number][])(
  'the README lists error code %s with status %i',
  (code, status) => {
    // A table row; the formatter may pad the cells.
    expect(README).toMatch(new RegExp(`^\\| \`${code}\` +\\| ${status} +\\|`, 'm'))
  },
)
