import { readFileSync } from 'node:fs'
import type { HeaderList } from '../http/responses.js'
import { UPLOAD_PAGE_PATH } from '../paths.js'
import { cspHash } from './html-page.js'

// GET /upload: a self-contained page (assets/upload-page.html, read once when a worker
// starts). Its one inline <style> and one inline <script> are allowed by their sha256 in the
// Content-Security-Policy (CSP Level 2 hash sources): no other script, style, frame or external
// load can run in it, whatever a file name contains.

function inlineText(html: string, tag: 'script' | 'style'): string {
  const open = `<${tag}>`
  const start = html.indexOf(open)
  const end = html.indexOf(`</${tag}>`, start)
  if (start < 0 || end < 0) throw new Error(`upload page: no <${tag}> element`)
  return html.slice(start + open.length, end)
}

function loadUploadPage(): { headers: HeaderList; body: Buffer } {
  const html = readFileSync(UPLOAD_PAGE_PATH, 'utf8')
  const csp = [
    "default-src 'none'",
    `script-src ${cspHash(inlineText(html, 'script'))}`,
    `style-src ${cspHash(inlineText(html, 'style'))}`,
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ')
  return {
    headers: [
      ['Content-Type', 'text/html; charset=utf-8'],
      ['Content-Security-Policy', csp],
      ['X-Content-Type-Options', 'nosniff'],
      ['Cache-Control', 'no-cache'],
    ],
    body: Buffer.from(html),
  }
}

/** The page's headers and bytes. */
export const UPLOAD_PAGE = loadUploadPage()
