import { readFileSync } from 'node:fs'
import { expect, test } from 'vitest'
import { PARSE_ERROR_STATUS, type ParseErrorCode } from '../src/index.js'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

/** Rows of the README's Markdown tables, as trimmed cells (formatters may pad the columns). */
const rows = readme
  .split('\n')
  .filter((line) => line.startsWith('|'))
  .map((line) =>
    line
      .slice(1, -1)
      .split('|')
      .map((cell) => cell.trim()),
  )

test.each(Object.entries(PARSE_ERROR_STATUS) as [ParseErrorCode, number][])(
  'README lists %s with status %i',
  (code, status) => {
    expect(rows).toContainEqual([`\`${code}\``, String(status), expect.any(String)])
  },
)

test('README lists no code that does not exist', () => {
  const listed = rows.map((cells) => cells[0]).filter((cell) => cell?.startsWith('`') && cell.endsWith('`'))
  expect(listed.map((cell) => cell?.slice(1, -1)).sort()).toEqual(Object.keys(PARSE_ERROR_STATUS).sort())
})
