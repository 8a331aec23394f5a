import { DURATION_HINT, SIZE_HINT } from '@threadserve/units'
import { envNamesOf, SETTING_GROUPS, SETTING_NAMES, SETTINGS, type Setting } from './settings.js'

// The settings table (settings.ts) written out for people: --help, and the Markdown table in
// the app's README (a test checks the README holds exactly what settingsMarkdown() gives).

const VALUE_HINTS: Readonly<Record<string, string>> = {
  size: '<size>',
  duration: '<duration>',
  integer: '<n>',
  boolean: '',
  path: '<dir>',
  'optional-path': '<file>',
  'log-path': '<file>',
}

// Where the help text starts: past the longest flag with its value hint (`--keep-alive-timeout <duration>`).
const HELP_COLUMN = 38

function defaultOf(fallback: string): string {
  return fallback === '' ? '' : ` (default ${fallback})`
}

/** `threadserve --help`: options grouped by topic, each with its environment variable. */
export function helpText(): string {
  const lines = [
    'Usage: threadserve [options] [DIR]',
    '',
    'A multi-process HTTP/1.0 file server: GET/HEAD from DIR (default: the current directory),',
    'POST /upload stores new files in DIR/uploads.',
    'Every option can also be set with its environment variable; flags win over the environment.',
    `<size>: ${SIZE_HINT}; <duration>: ${DURATION_HINT}.`,
  ]
  for (const group of SETTING_GROUPS) {
    lines.push('', `${group[0]?.toUpperCase()}${group.slice(1)}:`)
    for (const name of SETTING_NAMES) {
      const setting: Setting<unknown> = SETTINGS[name]
      if (setting.group !== group) continue
      const hint = VALUE_HINTS[setting.kind] ?? '<value>'
      const short = setting.short === undefined ? '    ' : `-${setting.short}, `
      const flag = `  ${short}--${setting.flag}${hint === '' ? '' : ` ${hint}`}`
      lines.push(`${flag.padEnd(HELP_COLUMN)}${setting.help}${defaultOf(setting.fallback)}`)
      lines.push(`${' '.repeat(HELP_COLUMN)}env ${envNamesOf(setting).join(', then ')}`)
    }
  }
  lines.push(
    '',
    'Other:',
    `${'  -h, --help'.padEnd(HELP_COLUMN)}show this help`,
    `${'  -v, --version'.padEnd(HELP_COLUMN)}print the version`,
    '',
    'Exit codes: 0 after SIGINT/SIGTERM, 1 when the server fails, 2 for a bad option or DIR.',
  )
  return `${lines.join('\n')}\n`
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|')
}

/** The README's settings table, one row per setting, grouped as --help groups them. */
export function settingsMarkdown(): string {
  const rows = [['flag', 'environment variable', 'default', 'what']]
  for (const group of SETTING_GROUPS) {
    for (const name of SETTING_NAMES) {
      const setting: Setting<unknown> = SETTINGS[name]
      if (setting.group !== group) continue
      const fallback = setting.fallback === '' ? '' : `\`${setting.fallback}\``
      rows.push([
        `${setting.short === undefined ? '' : `\`-${setting.short}\`, `}\`--${setting.flag}\``,
        envNamesOf(setting)
          .map((env) => `\`${env}\``)
          .join(', '),
        fallback,
        `${group}: ${cell(setting.help)}`,
      ])
    }
  }
  // Columns padded to their widest cell, as the repository's Markdown formatter lays tables out.
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? []
  const line = (cells: string[]): string => `| ${cells.map((text, i) => text.padEnd(widths[i] ?? 0)).join(' | ')} |`
  const [header, ...body] = rows as [string[], ...string[][]]
  return `${[line(header), line(widths.map((width) => '-'.repeat(width))), ...body.map(line)].join('\n')}\n`
}
