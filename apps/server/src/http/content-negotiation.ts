// Just enough of RFC 9110 §12.5.1 (Accept) to choose between two representations: the quality a
// media range list gives a type, the most specific matching range winning (type/subtype over
// type/* over */*).

/** The q-value `accept` gives `mediaType` (0 when nothing matches; 1 when there is no Accept). */
export function acceptQuality(accept: string | undefined, mediaType: string): number {
  if (accept === undefined || accept.trim() === '') return 1
  const slash = mediaType.indexOf('/')
  const typeWildcard = `${mediaType.slice(0, slash)}/*`
  let best = -1
  let bestSpecificity = -1
  for (const range of accept.split(',')) {
    const [rawType = '', ...params] = range.split(';')
    const type = rawType.trim().toLowerCase()
    const specificity = type === mediaType ? 2 : type === typeWildcard ? 1 : type === '*/*' ? 0 : -1
    if (specificity < bestSpecificity || specificity < 0) continue
    let quality = 1
    for (const param of params) {
      const [key = '', value = ''] = param.split('=')
      if (key.trim().toLowerCase() === 'q') {
        const parsed = Number(value.trim())
        quality = Number.isFinite(parsed) ? Math.min(Math.max(parsed, 0), 1) : 0
      }
    }
    if (specificity > bestSpecificity || quality > best) {
      best = quality
      bestSpecificity = specificity
    }
  }
  return Math.max(best, 0)
}

/** True when `accept` rates `preferred` strictly higher than `other` (ties keep the default). */
export function prefers(accept: string | undefined, preferred: string, other: string): boolean {
  return acceptQuality(accept, preferred) > acceptQuality(accept, other)
}
