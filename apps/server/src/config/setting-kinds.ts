import path from 'node:path'
import { DURATION_HINT, parseDuration, parseSize, SIZE_HINT } from '@threadserve/units'
import { loadCredentials } from '../auth/basic-auth.js'
import type { SettingKind } from './settings.js'

// How the text of a flag, an environment variable or a default becomes a setting's value. The
// value is then checked by the setting's own schema (settings.ts), which says what is in range.

export interface ConvertContext {
  /** Where relative paths start: the directory the user ran the command from. */
  readonly baseDir: string
  /** Where the text came from (`--port`, THREADSERVE_PORT), for error messages. */
  readonly source: string
}

export type Converted =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly message: string }

const TRUE_WORDS = new Set(['1', 'true', 'yes'])
const FALSE_WORDS = new Set(['0', 'false', 'no', ''])
const WHOLE_NUMBER = /^\d+$/

function ok(value: unknown): Converted {
  return { ok: true, value }
}

function fail(message: string): Converted {
  return { ok: false, message }
}

/** Converts `text` for a setting of `kind`; throws UsageError only for credential files. */
export function convertSetting(kind: SettingKind, text: string, context: ConvertContext): Converted {
  switch (kind) {
    case 'text':
    case 'enum':
      return ok(text)
    case 'integer':
      return WHOLE_NUMBER.test(text) ? ok(Number(text)) : fail('expected a whole number')
    case 'size': {
      const bytes = parseSize(text)
      return bytes === undefined ? fail(`expected ${SIZE_HINT}, got "${text}"`) : ok(bytes)
    }
    case 'duration': {
      const ms = parseDuration(text)
      return ms === undefined ? fail(`expected ${DURATION_HINT}, got "${text}"`) : ok(ms)
    }
    case 'boolean': {
      // A bare flag (`--list`) or THREADSERVE_LIST=1 / true / yes; 0 / false / no / empty: off.
      const word = text.toLowerCase()
      if (TRUE_WORDS.has(word)) return ok(true)
      if (FALSE_WORDS.has(word)) return ok(false)
      return fail('expected 1/true/yes or 0/false/no')
    }
    case 'path':
      return ok(text === '' ? '' : path.resolve(context.baseDir, text))
    case 'optional-path':
      return ok(text === '' ? null : path.resolve(context.baseDir, text))
    case 'log-path':
      return ok(text === '-' ? '-' : path.resolve(context.baseDir, text))
    case 'credentials':
      return ok(text === '' ? null : loadCredentials(text, context.baseDir, context.source))
  }
}
