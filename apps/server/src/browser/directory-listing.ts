import type { Stats } from 'node:fs'
import { lstat, readdir, realpath, stat } from 'node:fs/promises'
import path from 'node:path'
import { prefers } from '../http/content-negotiation.js'
import type { HeaderList } from '../http/responses.js'
import { escapeHtml, HTML_PAGE_HEADERS, renderHtmlPage } from './html-page.js'

// `--list`: a page per directory without index.html, or JSON for `Accept:
// application/json`. Names on disk are bytes chosen by whoever wrote them, so they are read as
// Buffers, shown as escaped text, linked only when the server would serve the link (strict UTF-8,
// no control characters: what parseTarget accepts), and hidden/temp files (dot names: the upload
// temp files are `.upload-*.part`) and symlinks leading out of the root are never listed.

const MAX_ENTRIES = 10_000 // a listing is one buffered response: keep it bounded
const STAT_BATCH = 32
const DOT = 0x2e
const UTF8 = new TextDecoder('utf-8', { fatal: true })
const BACKSLASH = 0x5c
const REPLACEMENT = '\uFFFD'

function isControl(code: number): boolean {
  return code < 0x20 || (code >= 0x7f && code <= 0x9f) // C0, DEL, C1
}

/** Control characters become U+FFFD: a name is shown as one line of plain text. */
function withoutControls(text: string): string {
  let out = ''
  for (const char of text) out += isControl(char.charCodeAt(0)) ? REPLACEMENT : char
  return out
}

export interface ListingEntry {
  /** The name as text: invalid UTF-8 and control characters shown as U+FFFD. */
  readonly name: string
  /** Relative, percent-encoded link (with '/' for a directory), or null when it could not be served. */
  readonly href: string | null
  readonly isDirectory: boolean
  readonly size: number
  readonly mtimeMs: number
}

export interface Listing {
  readonly entries: readonly ListingEntry[]
  readonly truncated: boolean
}

function displayName(raw: Buffer): { name: string; servable: boolean } {
  let text: string
  try {
    text = UTF8.decode(raw)
  } catch {
    return { name: withoutControls(raw.toString('utf8')), servable: false }
  }
  // parseTarget refuses decoded controls and '\' (docs/design.md, "Paths"): such a link could not work.
  let servable = true
  for (let i = 0; i < text.length && servable; i++) {
    const code = text.charCodeAt(i)
    servable = !isControl(code) && code !== BACKSLASH
  }
  return { name: servable ? text : withoutControls(text), servable }
}

const SEP = path.sep.charCodeAt(0)
const HIDDEN_SEGMENT = Buffer.from(`${path.sep}.`)

/** Same rule as StaticFiles: strictly under the root, no hidden segment. Bytes, for any name. */
function isInside(root: Buffer, realPath: Buffer): boolean {
  if (realPath.length <= root.length + 1 || realPath[root.length] !== SEP) return false
  if (!realPath.subarray(0, root.length).equals(root)) return false
  const relative = realPath.subarray(root.length + 1)
  return relative[0] !== DOT && !relative.includes(HIDDEN_SEGMENT)
}

/** What a listing shows for one directory entry, or null when it must not be shown. */
async function describeEntry(root: Buffer, dir: Buffer, raw: Buffer): Promise<ListingEntry | null> {
  const entryPath = Buffer.concat([dir, Buffer.from(path.sep), raw])
  let stats: Stats
  try {
    stats = await lstat(entryPath)
    if (stats.isSymbolicLink()) {
      // Listed only if GET would serve it: the target must stay inside the root, not hidden.
      if (!isInside(root, await realpath(entryPath, { encoding: 'buffer' }))) return null
      stats = await stat(entryPath)
    }
  } catch {
    return null // gone meanwhile, or unreadable
  }
  const isDirectory = stats.isDirectory()
  if (!isDirectory && !stats.isFile()) return null // sockets, FIFOs, devices
  const { name, servable } = displayName(raw)
  const href = servable ? `${encodeURIComponent(name)}${isDirectory ? '/' : ''}` : null
  return { name, href, isDirectory, size: isDirectory ? 0 : stats.size, mtimeMs: stats.mtimeMs }
}

/** Reads a directory (its real path, inside `root`) into sorted entries: directories first, then by name. */
export async function readListing(root: string, dirRealPath: string): Promise<Listing> {
  const dir = Buffer.from(dirRealPath)
  const rootBytes = Buffer.from(root)
  const names = (await readdir(dir, { encoding: 'buffer' })).filter((name) => name[0] !== DOT)
  names.sort(Buffer.compare)
  const truncated = names.length > MAX_ENTRIES
  const kept = truncated ? names.slice(0, MAX_ENTRIES) : names
  const entries: ListingEntry[] = []
  for (let i = 0; i < kept.length; i += STAT_BATCH) {
    const batch = await Promise.all(kept.slice(i, i + STAT_BATCH).map((raw) => describeEntry(rootBytes, dir, raw)))
    for (const entry of batch) if (entry !== null) entries.push(entry)
  }
  entries.sort((a, b) => (a.isDirectory !== b.isDirectory ? (a.isDirectory ? -1 : 1) : a.name < b.name ? -1 : 1))
  return { entries, truncated }
}

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(1)} ${units[unit]}`
}

function formatTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`
}

/** The HTML page of a listing; `pathname` is the decoded request path (ends with '/'). */
export function renderListingHtml(pathname: string, listing: Listing): string {
  const rows: string[] = []
  if (pathname !== '/') rows.push('<tr><td class="name"><a href="../">../</a></td><td></td><td></td></tr>')
  for (const entry of listing.entries) {
    const label = escapeHtml(entry.isDirectory ? `${entry.name}/` : entry.name)
    const cell = entry.href === null ? label : `<a href="${escapeHtml(entry.href)}">${label}</a>`
    const size = entry.isDirectory ? '' : escapeHtml(formatSize(entry.size))
    rows.push(
      `<tr><td class="name">${cell}</td><td class="num" title="${entry.size} bytes">${size}</td><td class="num">${formatTime(entry.mtimeMs)}</td></tr>`,
    )
  }
  const note = listing.truncated ? `<p class="muted">Only the first ${MAX_ENTRIES} entries are shown.</p>` : ''
  return renderHtmlPage(
    `Index of ${pathname}`,
    `<h1>Index of ${escapeHtml(pathname)}</h1>
<table><thead><tr><th>Name</th><th>Size</th><th>Modified</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>${note}`,
  )
}

/** The JSON form: `{"path","entries":[{name,href,type,size,mtime}],"truncated"}`. */
export function renderListingJson(pathname: string, listing: Listing): string {
  const entries = listing.entries.map((entry) => ({
    name: entry.name,
    href: entry.href,
    type: entry.isDirectory ? 'directory' : 'file',
    size: entry.size,
    mtime: new Date(entry.mtimeMs).toISOString(),
  }))
  return `${JSON.stringify({ path: pathname, entries, truncated: listing.truncated })}\n`
}

/** The response for a listing, HTML unless the client prefers JSON (RFC 9110 §12.5.1). */
export async function buildListingResponse(
  root: string,
  dirRealPath: string,
  pathname: string,
  accept: string | undefined,
): Promise<{ headers: HeaderList; body: Buffer }> {
  const listing = await readListing(root, dirRealPath)
  const vary: HeaderList = [['Vary', 'Accept']]
  if (prefers(accept, 'application/json', 'text/html')) {
    return {
      headers: [['Content-Type', 'application/json'], ['X-Content-Type-Options', 'nosniff'], ...vary],
      body: Buffer.from(renderListingJson(pathname, listing)),
    }
  }
  return { headers: [...HTML_PAGE_HEADERS, ...vary], body: Buffer.from(renderListingHtml(pathname, listing)) }
}
