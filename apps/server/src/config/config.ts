import * as z from 'zod/mini'
import en from 'zod/v4/locales/en.js'
import { SETTING_NAMES, SETTINGS } from './settings.js'

// The settings as the processes use them, derived from the table in settings.ts: paths
// absolute, sizes in bytes, durations in milliseconds. The supervisor builds them from flags and
// the environment (load-config.ts); a worker receives them as JSON over IPC or its environment
// and checks them with the same schemas before it trusts them.

// zod/mini carries no messages of its own; this app's processes speak English
// ('Too big: expected number to be <=65535'). Set here, where every parse of settings starts.
z.config(en())

type Settings = typeof SETTINGS

/** Resolved settings; each field's type is the output of its setting's `value` schema. */
export type Config = { readonly [K in keyof Settings]: z.output<Settings[K]['value']> }

const CONFIG_SCHEMA = z.strictObject(
  Object.fromEntries(SETTING_NAMES.map((name) => [name, SETTINGS[name].value])) as {
    [K in keyof Settings]: Settings[K]['value']
  },
)

/** Freezes an object and everything inside it: the settings are shared by every module. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value
}

/** The first problem of a failed check, as one line: `port: Too big: expected number to be <=65535`. */
export function firstIssue(error: z.core.$ZodError): string {
  const issue = error.issues[0]
  if (issue === undefined) return 'invalid value'
  return issue.path.length === 0 ? issue.message : `${issue.path.join('.')}: ${issue.message}`
}

/** Checks settings built elsewhere (a worker's JSON) against the table; frozen, or throws. */
export function parseConfig(raw: unknown): Config {
  const result = CONFIG_SCHEMA.safeParse(raw)
  if (!result.success) {
    throw new Error(`invalid settings: ${firstIssue(result.error)}`)
  }
  return deepFreeze(result.data as Config)
}
