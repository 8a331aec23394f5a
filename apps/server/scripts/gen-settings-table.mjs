// Writes the settings table between the markers of the app's README.md and of the repository's
// docs/design.md, from src/config/settings.ts (through the built dist/). Run after changing a
// setting: pnpm --filter server gen:settings-table (test/settings-docs.test.ts checks both).
import { readFileSync, writeFileSync } from 'node:fs'
import { settingsMarkdown } from '../dist/config/describe-settings.js'

const FILES = [new URL('../README.md', import.meta.url), new URL('../../../docs/design.md', import.meta.url)]
const START = '<!-- settings-table:start -->\n'
const END = '<!-- settings-table:end -->'
for (const file of FILES) {
  const text = readFileSync(file, 'utf8')
  const start = text.indexOf(START)
  const end = text.indexOf(END)
  if (start < 0 || end < start) throw new Error(`${file.pathname} has no settings-table markers`)
  writeFileSync(file, `${text.slice(0, start + START.length)}${settingsMarkdown()}${text.slice(end)}`)
}
