import { readFileSync } from 'node:fs'
import { expect, test } from 'vitest'
import { helpText, settingsMarkdown } from '../src/config/describe-settings.js'
import { envNameOf, SETTING_NAMES, SETTINGS } from '../src/config/settings.js'

// The settings tables of the README and of docs/design.md, and --help, come from the settings
// table; this keeps the documents in step (rewrite them with `pnpm --filter server gen:settings-table`).

const DOCUMENTS = ['../README.md', '../../../docs/design.md']
const START = '<!-- settings-table:start -->\n'
const END = '<!-- settings-table:end -->'

test.each(DOCUMENTS)("%s's settings table is the one the settings table gives", (document) => {
  const text = readFileSync(new URL(document, import.meta.url), 'utf8')
  const start = text.indexOf(START)
  const end = text.indexOf(END)
  expect(start, 'the document has the settings-table markers').toBeGreaterThanOrEqual(0)
  expect(text.slice(start + START.length, end)).toBe(settingsMarkdown())
})

test('--help lists every flag and its environment variable', () => {
  const help = helpText()
  for (const name of SETTING_NAMES) {
    const { flag } = SETTINGS[name]
    expect(help).toContain(`--${flag}`)
    expect(help).toContain(envNameOf(flag))
  }
})

test('the contract flag names are all there', () => {
  const flags = SETTING_NAMES.map((name) => SETTINGS[name].flag)
  for (const flag of [
    'host',
    'port',
    'workers',
    'pool-size',
    'queue-size',
    'max-posts',
    'root',
    'upload-dir',
    'max-body',
    'log',
    'log-format',
    'header-timeout',
    'body-timeout',
    'pid-file',
  ]) {
    expect(flags).toContain(flag)
  }
})

test('--help names DIR, the short flags and PORT', () => {
  const help = helpText()
  expect(help).toMatch(/^Usage: threadserve \[options\] \[DIR\]$/m)
  expect(help).toMatch(/^ {2}-p, --port <n> /m)
  expect(help).toMatch(/^ {2}-a, --host <value> /m)
  expect(help).toContain('env THREADSERVE_PORT, then PORT')
})
