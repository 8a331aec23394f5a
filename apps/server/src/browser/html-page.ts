import { createHash } from 'node:crypto'
import type { HeaderList } from '../http/responses.js'

// The small server-made HTML pages (listings, upload results) share one stylesheet and one strict
// Content-Security-Policy: no scripts at all, and only this exact inline style (CSP Level 2 hash
// source), so even a name that escaped escaping could not run anything.

const PAGE_STYLE = `
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#1b1f24}
h1{font-size:1.3rem;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #d8dee4;vertical-align:top}
td.name{overflow-wrap:anywhere;white-space:pre-wrap}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
a{color:#0a58ca}
.muted{color:#59636e}
`

/** A CSP `'sha256-…'` source for an inline element's exact text. */
export function cspHash(text: string): string {
  return `'sha256-${createHash('sha256').update(text).digest('base64')}'`
}

const PAGE_CSP = `default-src 'none'; style-src ${cspHash(PAGE_STYLE)}; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`

/** Headers of every server-made HTML page. */
export const HTML_PAGE_HEADERS: HeaderList = [
  ['Content-Type', 'text/html; charset=utf-8'],
  ['Content-Security-Policy', PAGE_CSP],
  ['X-Content-Type-Options', 'nosniff'],
]

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/** Escapes text for an HTML text node or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] as string)
}

/** A complete page; `title` is text (escaped here), `bodyHtml` is already-safe markup. */
export function renderHtmlPage(title: string, bodyHtml: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${PAGE_STYLE}</style></head>
<body>
${bodyHtml}
</body></html>
`
}
