// What an uploaded file is served with. Anyone who can upload chooses its bytes and (through its
// name or Content-Type) its type, and it is served from the same origin as the upload page and,
// behind --auth-all, everything else. So no upload may ever run script in that origin:
// - every upload: `X-Content-Type-Options: nosniff` (no guessing a type from the bytes) and a
//   `Content-Security-Policy` whose `sandbox` gives the document a unique, script-less origin;
// - active types (HTML, XHTML, SVG, XML, XSLT, JavaScript: what a browser may execute or render
//   as a document with script) are also `Content-Disposition: attachment`, so they download
//   instead of opening; images, video, audio, text and PDFs stay viewable inline.
// PDFs get no `sandbox`: browsers refuse to show a sandboxed PDF, and their PDF viewers run in
// an origin of their own anyway.

import type { HeaderList } from '../http/responses.js'

const SANDBOX_CSP = "sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'"
const PDF_CSP = "default-src 'none'; object-src 'self'"

const ACTIVE_TYPES = new Set([
  'text/html',
  'application/xhtml+xml',
  'image/svg+xml',
  'text/xml',
  'application/xml',
  'text/xsl',
  'application/xslt+xml',
  'text/javascript',
  'application/javascript',
  'application/x-javascript',
  'text/ecmascript',
  'application/ecmascript',
  'application/wasm',
  'multipart/x-mixed-replace',
])

/** The media type of a Content-Type value, lower-cased, without parameters. */
function mediaTypeOf(contentType: string): string {
  const semicolon = contentType.indexOf(';')
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase()
}

/** True for a type a browser may execute or render with script (any `+xml` type included). */
export function isActiveType(contentType: string): boolean {
  const type = mediaTypeOf(contentType)
  return ACTIVE_TYPES.has(type) || type.endsWith('+xml')
}

const INLINE: HeaderList = [
  ['X-Content-Type-Options', 'nosniff'],
  ['Content-Security-Policy', SANDBOX_CSP],
]
const ATTACHMENT: HeaderList = [...INLINE, ['Content-Disposition', 'attachment']]
const PDF: HeaderList = [
  ['X-Content-Type-Options', 'nosniff'],
  ['Content-Security-Policy', PDF_CSP],
]

/** The extra headers of an uploaded file of `contentType`. */
export function uploadSafetyHeaders(contentType: string): HeaderList {
  if (isActiveType(contentType)) return ATTACHMENT
  return mediaTypeOf(contentType) === 'application/pdf' ? PDF : INLINE
}
