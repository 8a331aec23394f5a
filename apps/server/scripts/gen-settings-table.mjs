// Writes the settings table into README.md between its markers, from src/config/settings.ts
// (through the built dist/). Run after changing a setting: pnpm --filter server gen:settings-table
import { readFileSync, writeFileSync } from 'node:fs'
import { settingsMarkdown } from '../dist/config/describe-settings.js'

const README = new URL('../README.md', import.meta.url)
const START = '<!-- settings-table:start -->\n'
const END = '<!-- settings-table:end -->'
const text = readFileSync(README, 'utf8')
const start = text.indexOf(START)
const end = text.indexOf(END)
if (start < 0 || end < start) throw new Error('README.md has no settings-table markers')
writeFileSync(README, `${text.slice(0, start + START.length)}${settingsMarkdown()}${text.slice(end)}`)
