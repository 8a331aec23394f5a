import type * as z from 'zod/mini'

// What a setting is (settings.ts has them all): its flag, how its text becomes a value, its
// --help group, its default and the check its value must pass.
/** How a setting's text becomes its value (setting-kinds.ts). */
export type SettingKind =
  | 'text'
  | 'integer'
  | 'size'
  | 'duration'
  | 'boolean'
  | 'enum'
  | 'path'
  | 'optional-path'
  | 'log-path'
  | 'credentials'

/** The --help sections, in order. */
export const SETTING_GROUPS = ['serving', 'uploads', 'limits', 'logging', 'processes', 'production'] as const
export type SettingGroup = (typeof SETTING_GROUPS)[number]

export interface Setting<T> {
  /** The flag without its dashes; the environment variable is THREADSERVE_ + this in capitals. */
  readonly flag: string
  /** A one-letter alias (`-p`), for the few settings typed most, as http-server and serve spell them. */
  readonly short?: string
  /** Another environment variable, read when THREADSERVE_<FLAG> is not set (PORT, as hosts set it). */
  readonly otherEnv?: string
  readonly kind: SettingKind
  readonly group: SettingGroup
  /** The default, as text a user could have typed ('' = none, or derived: see `help`). */
  readonly fallback: string
  readonly help: string
  /** The check the converted value must pass; its output type is the setting's type in Config. */
  readonly value: z.ZodMiniType<T>
}
