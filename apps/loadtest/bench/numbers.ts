// The comparison reports each cell as the median of its repetitions with the range beside it:
// on a shared 2-core machine one run can be off by ±20%, and the range shows how far.

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

export const fmt = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })

/** `median (min-max)`. */
export function spread(values: readonly number[], digits = 0): string {
  return `${fmt(median(values), digits)} (${fmt(Math.min(...values), digits)}-${fmt(Math.max(...values), digits)})`
}

/** `rate` as a multiple of `base` (`1.23x`), or 'n/a' when there is no base to divide by. */
export const ratioTo = (rate: number, base: number | null): string =>
  base === null || base === 0 ? 'n/a' : `${fmt(rate / base, 2)}x`
