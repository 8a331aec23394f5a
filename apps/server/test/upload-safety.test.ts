import { expect, test } from 'vitest'
import { contentTypeFor } from '../src/files/content-type.js'
import { isActiveType, uploadSafetyHeaders } from '../src/files/upload-safety.js'

// Uploaded files are served inert: nosniff and a CSP on every one, a `sandbox` on all but PDFs,
// and `Content-Disposition: attachment` for every type a browser may run script in.

const headersOf = (contentType: string): Record<string, string> =>
  Object.fromEntries(uploadSafetyHeaders(contentType).map(([name, value]) => [name.toLowerCase(), String(value)]))

test.each([
  'text/html',
  'text/html; charset=utf-8',
  'TEXT/HTML',
  ' text/html ;charset=utf-8',
  'application/xhtml+xml',
  'image/svg+xml',
  'text/xml',
  'application/xml',
  'application/atom+xml',
  'application/rdf+xml',
  'application/vnd.mozilla.xul+xml',
  'text/xsl',
  'application/xslt+xml',
  'text/javascript; charset=utf-8',
  'application/javascript',
  'application/x-javascript',
  'text/ecmascript',
  'application/ecmascript',
  'application/wasm',
  'multipart/x-mixed-replace',
])('%s is an active type: attachment, sandboxed, nosniff', (contentType) => {
  expect(isActiveType(contentType)).toBe(true)
  const headers = headersOf(contentType)
  expect(headers['content-disposition']).toBe('attachment')
  expect(headers['content-security-policy']).toMatch(/^sandbox;/)
  expect(headers['x-content-type-options']).toBe('nosniff')
})

test.each([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'video/webm',
  'video/mp4',
  'audio/mpeg',
  'text/plain; charset=utf-8',
  'text/css; charset=utf-8',
  'application/json; charset=utf-8',
  'application/octet-stream',
  'application/zip',
])('%s stays inline, sandboxed, nosniff', (contentType) => {
  expect(isActiveType(contentType)).toBe(false)
  const headers = headersOf(contentType)
  expect(headers['content-disposition']).toBeUndefined()
  expect(headers['content-security-policy']).toMatch(/^sandbox;/)
  expect(headers['x-content-type-options']).toBe('nosniff')
})

test('a PDF stays inline with a CSP that allows no script, without sandbox (browsers refuse a sandboxed PDF)', () => {
  const headers = headersOf('application/pdf')
  expect(headers['content-disposition']).toBeUndefined()
  expect(headers['content-security-policy']).not.toMatch(/sandbox/)
  expect(headers['content-security-policy']).toMatch(/default-src 'none'/)
  expect(headers['x-content-type-options']).toBe('nosniff')
})

test("the sandbox CSP allows no script source and the upload's own media", () => {
  const csp = headersOf('video/webm')['content-security-policy'] ?? ''
  expect(csp).not.toMatch(/script-src|allow-scripts/)
  expect(csp).toMatch(/default-src 'none'/)
  expect(csp).toMatch(/media-src 'self'/)
})

test.each([
  'html',
  'htm',
  'shtml',
  'xhtml',
  'xht',
  'svg',
  'svgz',
  'xml',
  'xsl',
  'xslt',
  'xsd',
  'rdf',
  'js',
  'mjs',
  'wasm',
])('an upload named *.%s gets a type from the MIME table that is served as an attachment', (extension) => {
  expect(headersOf(contentTypeFor(`upload.${extension}`))['content-disposition']).toBe('attachment')
})
