// When a worker dies, whether and how soon its slot gets a new one. A worker that keeps dying
// before it is ready is a crash loop (a bad build, a root it cannot read): the server stops and
// says so instead of spinning. A worker that dies soon after each start is restarted with a
// growing delay; one that lived a while is restarted at once.

/** Exits before ready, in a row, on one slot, that make a crash loop. */
export const CRASH_LOOP_EXITS = 5
/** A worker that lived less than this counts as a quick exit. */
export const QUICK_EXIT_MS = 1000
// 100 ms after the first quick exit, doubling with each one after it.
const BACKOFF_BASE_MS = 50
export const MAX_BACKOFF_MS = 5000

/** What a slot remembers of its recent exits. */
export interface ExitHistory {
  /** Exits in a row of workers that never became ready. */
  readonly earlyExits: number
  /** Exits in a row of workers that lived less than QUICK_EXIT_MS. */
  readonly quickExits: number
}

export const NO_EXITS: ExitHistory = { earlyExits: 0, quickExits: 0 }

export type RestartDecision =
  | { readonly kind: 'give-up'; readonly history: ExitHistory }
  | { readonly kind: 'restart'; readonly delayMs: number; readonly history: ExitHistory }

/** Decides about one exit from the slot's history, how the worker ended and how long it lived. */
export function decideRestart(history: ExitHistory, wasReady: boolean, livedMs: number): RestartDecision {
  const earlyExits = wasReady ? 0 : history.earlyExits + 1
  const quickExits = livedMs < QUICK_EXIT_MS ? history.quickExits + 1 : 0
  const next = { earlyExits, quickExits }
  if (earlyExits >= CRASH_LOOP_EXITS) return { kind: 'give-up', history: next }
  const delayMs = quickExits === 0 ? 0 : Math.min(MAX_BACKOFF_MS, BACKOFF_BASE_MS * 2 ** quickExits)
  return { kind: 'restart', delayMs, history: next }
}
