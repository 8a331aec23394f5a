import { escapeHtml, HTML_PAGE_HEADERS, renderHtmlPage } from '../browser/html-page.js'
import { prefers } from '../http/content-negotiation.js'
import type { HeaderList } from '../http/responses.js'
import type { StoredFormFile } from './multipart-upload.js'

// The 201 answer to a multipart upload: `{"files":[{name,size,sha256,location}]}`, or, for a
// browser that posted a plain form (it prefers text/html), a small page linking every file.
// The raw-upload answer (`{name,size,sha256}` + Location) is unchanged.

/** Headers and body of a multipart upload's 201; `prefix` is the URL path of the upload dir, or null. */
export function renderFormUploadReply(
  files: readonly StoredFormFile[],
  prefix: string | null,
  accept: string | undefined,
): { headers: HeaderList; body: string } {
  const located = files.map((file) => ({
    name: file.name,
    size: file.size,
    sha256: file.sha256,
    location: prefix === null ? null : `${prefix}${file.name}`,
    filename: file.filename,
  }))
  const only = located.length === 1 ? located[0] : undefined
  const location: HeaderList = only?.location ? [['Location', only.location]] : []
  if (!prefers(accept, 'text/html', 'application/json')) {
    const body = { files: located.map(({ name, size, sha256, location }) => ({ name, size, sha256, location })) }
    return { headers: [['Content-Type', 'application/json'], ...location], body: `${JSON.stringify(body)}\n` }
  }
  const items = located.map((file) => {
    const stored = escapeHtml(file.name)
    const link = file.location === null ? stored : `<a href="${escapeHtml(file.location)}">${stored}</a>`
    const original = file.filename === '' ? '' : `<span class="muted">${escapeHtml(file.filename)} → </span>`
    return `<tr><td class="name">${original}${link}</td><td class="num">${file.size} bytes</td></tr>`
  })
  const html = renderHtmlPage(
    'Uploaded',
    `<h1>Stored ${located.length} file${located.length === 1 ? '' : 's'}</h1>
<table><tbody>
${items.join('\n')}
</tbody></table>
<p><a href="/upload">Upload more</a></p>`,
  )
  return { headers: [...HTML_PAGE_HEADERS, ...location], body: html }
}
