import type { Setting } from './setting-types.js'
import { LIMIT_SETTINGS } from './settings-limits.js'
import { OPERATION_SETTINGS } from './settings-operations.js'
import { SERVING_SETTINGS } from './settings-serving.js'
import { UPLOAD_SETTINGS } from './settings-uploads.js'

export { SETTING_GROUPS, type Setting, type SettingGroup, type SettingKind } from './setting-types.js'

// Every setting, once: its flag, what kind of text it takes, its default, its help line, its
// --help group and the check its value must pass. The flags, the THREADSERVE_* environment
// variables, --help, the README's settings table, the Config type and the worker's validation
// of the settings it receives are all derived from this table (config.ts, load-config.ts,
// describe-settings.ts), so none of them can disagree with another. The table is kept in one
// file per topic; the order here is --help's.

export const SETTINGS = {
  ...SERVING_SETTINGS,
  ...UPLOAD_SETTINGS,
  ...LIMIT_SETTINGS,
  ...OPERATION_SETTINGS,
} as const satisfies Record<string, Setting<unknown>>

export type SettingName = keyof typeof SETTINGS
export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[]

/** THREADSERVE_<FLAG_IN_CAPS>: `--max-body` is THREADSERVE_MAX_BODY. */
export function envNameOf(flag: string): string {
  return `THREADSERVE_${flag.replaceAll('-', '_').toUpperCase()}`
}

/** The environment variables a setting is read from, in the order they are tried. */
export function envNamesOf(setting: Setting<unknown>): string[] {
  return setting.otherEnv === undefined ? [envNameOf(setting.flag)] : [envNameOf(setting.flag), setting.otherEnv]
}
