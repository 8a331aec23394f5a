// Inputs known to break a server (a crash, a 5xx, a hang, a leak), replayed first by the suites
// that found them. Add, never remove: each row names where it came from. `input` is latin1 text
// written with JSON escapes, so any byte can be pasted in from a failure message.

export interface WireRegression {
  readonly name: string
  /** Where it was found: the test and its seed. */
  readonly found: string
  readonly input: string
  /** Send without half-closing (the server must still answer or close within its timeouts). */
  readonly keepOpen?: boolean
}

export const WIRE_REGRESSIONS: readonly WireRegression[] = []
