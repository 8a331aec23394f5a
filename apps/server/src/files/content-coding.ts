// Which precompressed sibling (`file.br`, `file.gz`) a client accepts, from its Accept-Encoding
// (RFC 9110 §12.5.3): a coding is acceptable when it is listed, or covered by `*`, with a
// q-value above 0. Brotli first: it is smaller for the same content.

export interface Precompressed {
  /** The Content-Encoding value. */
  readonly coding: 'br' | 'gzip'
  /** The sibling file's suffix. */
  readonly suffix: '.br' | '.gz'
}

const CANDIDATES: readonly Precompressed[] = [
  { coding: 'br', suffix: '.br' },
  { coding: 'gzip', suffix: '.gz' },
]

/** The q-value a list gives `coding` (`x-gzip` counts as gzip, RFC 9110 §8.4.1.3): -1 when not listed. */
function qualityOf(list: string, coding: string): { own: number; wildcard: number } {
  let own = -1
  let wildcard = -1
  for (const member of list.split(',')) {
    const [rawName = '', ...params] = member.split(';')
    const name = rawName.trim().toLowerCase()
    let q = 1
    for (const param of params) {
      const [key = '', value = ''] = param.split('=')
      if (key.trim().toLowerCase() === 'q') {
        const parsed = Number(value.trim())
        q = Number.isFinite(parsed) && parsed >= 0 && parsed <= 1 ? parsed : 0
      }
    }
    if (name === coding || (coding === 'gzip' && name === 'x-gzip')) own = Math.max(own, q)
    else if (name === '*') wildcard = Math.max(wildcard, q)
  }
  return { own, wildcard }
}

/** The codings to try, best first, that `acceptEncoding` allows; empty when none or no header. */
export function acceptedPrecompressed(acceptEncoding: string | undefined): readonly Precompressed[] {
  if (acceptEncoding === undefined || acceptEncoding.trim() === '') return []
  return CANDIDATES.filter(({ coding }) => {
    const { own, wildcard } = qualityOf(acceptEncoding, coding)
    return own > 0 || (own === -1 && wildcard > 0)
  })
}
