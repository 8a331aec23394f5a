import { readFileSync } from 'node:fs'
import { expect, test } from 'vitest'
import { IPC_ERROR_STATUS, type IpcErrorCode } from '../src/index.js'

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const API_SECTION = README.slice(README.indexOf('## API'), README.indexOf('\n## ', README.indexOf('## API') + 1))
// src/index.ts is the whole public API: every name in its export lists, types included.
const EXPORTS = [
  ...readFileSync(new URL('../src/index.ts', import.meta.url), 'utf8').matchAll(/export (?:type )?{([^}]*)}/g),
]
  .flatMap((match) => (match[1] as string).split(','))
  .map((name) => name.trim().replace(/^type /, ''))
  .filter((name) => name !== '')
// Node's and JavaScript's own names, which the API section mentions beside ours.
const NOT_OURS = new Set(['ChildProcess', 'Infinity'])

test.each(Object.entries(IPC_ERROR_STATUS) as [IpcErrorCode, number][])(
  'the README lists error code %s with status %i',
  (code, status) => {
    // A table row; the formatter may pad the cells.
    expect(README).toMatch(new RegExp(`^\\| \`${code}\` +\\| ${status} +\\|`, 'm'))
  },
)

test.each(EXPORTS)('the README API section names the export %s', (name) => {
  expect(API_SECTION).toContain(`\`${name}`)
})

test('every type or schema the README API section names is exported', () => {
  const named = [...API_SECTION.matchAll(/`([A-Z][A-Za-z]*[a-z][A-Za-z]*)/g)].map((match) => match[1] as string)
  expect(named.filter((name) => !EXPORTS.includes(name) && !NOT_OURS.has(name))).toEqual([])
})
