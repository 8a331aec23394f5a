import { type Stats, statSync } from 'node:fs'
import { type FileHandle, open, realpath, stat } from 'node:fs/promises'
import path from 'node:path'
import type { ParsedTarget } from '@threadserve/http10-parser'
import { classifyFsError } from '../http/fs-error-status.js'
import { contentTypeFor } from './content-type.js'
import { formatEtag } from './etag.js'
import { formatHttpDate } from './http-date.js'

// Resolves a parsed target to a file under the root and keeps small files in memory. The parser's
// parseTarget already refused encoded slashes, NUL and dot segments; here the real path (symlinks
// resolved) must still stay inside the root, because a symlink inside the root may point anywhere.

const INDEX_FILE = 'index.html'

export interface FileInfo {
  readonly realPath: string
  readonly ino: number
  readonly size: number
  readonly mtimeMs: number
  /** The strong validator of this version of the file (etag.ts), made once like lastModified. */
  readonly etag: string
  /** `mtimeMs` as the Last-Modified header says it: formatted once, not per response. */
  readonly lastModified: string
  readonly contentType: string
}

export type Lookup =
  | { readonly kind: 'file'; readonly file: FileInfo; readonly body: Buffer | null }
  | { readonly kind: 'redirect'; readonly location: string }
  | { readonly kind: 'not-found' }
  | { readonly kind: 'forbidden' }
  /** Out of descriptors or memory (EMFILE, ENFILE, ENOMEM): the file may well exist; try again. */
  | { readonly kind: 'unavailable' }
  /** A directory without index.html, with `listDirectories` on: the caller lists it. */
  | { readonly kind: 'directory'; readonly realPath: string; readonly root: string }

interface CacheEntry {
  readonly file: FileInfo
  readonly body: Buffer
  readonly ino: number
  readonly ctimeMs: number
  /** Request paths resolved to this entry, forgotten with it when it is evicted. */
  readonly resolvedAs: ResolvedEntry[]
}

/** A request path already resolved to a cached file, revalidated with one stat per request. */
interface ResolvedEntry {
  readonly map: Map<string, ResolvedEntry>
  readonly key: string
  readonly requestPath: string
  readonly entry: CacheEntry
  readonly found: Lookup
}

/**
 * A decoded path as it goes into a Location header: encodeURI, plus `?` and `#`, which it leaves
 * alone but which in a URL would start a query or a fragment (a directory named `a?b`).
 */
export function encodePath(pathname: string): string {
  return encodeURI(pathname).replaceAll('?', '%3F').replaceAll('#', '%23')
}

/** An open file is still the version a lookup described: same inode, size and mtime. */
export function isSameVersion(stats: Stats, file: FileInfo): boolean {
  return stats.ino === file.ino && stats.size === file.size && stats.mtimeMs === file.mtimeMs
}

function isSameFile(stats: Stats, entry: CacheEntry): boolean {
  return (
    stats.ino === entry.ino &&
    stats.size === entry.file.size &&
    stats.mtimeMs === entry.file.mtimeMs &&
    stats.ctimeMs === entry.ctimeMs
  )
}

export interface StaticFilesOptions {
  /** Files up to this size are kept in memory (validated by stat on every request). */
  readonly cacheMaxFileBytes: number
  /** Total bytes the cache may hold; the least recently added entries leave first. */
  readonly cacheMaxBytes: number
  /** `--list`: a directory without index.html is a 'directory' lookup instead of not-found. */
  readonly listDirectories?: boolean
}

const NOT_FOUND: Lookup = { kind: 'not-found' }
const FORBIDDEN: Lookup = { kind: 'forbidden' }
const UNAVAILABLE: Lookup = { kind: 'unavailable' }

/** What a failed realpath/stat/open means for the client: missing, forbidden, or try again. */
export function errorLookup(error: unknown): Lookup {
  const failure = classifyFsError(error)
  if (failure === 'forbidden') return FORBIDDEN
  if (failure === 'unavailable') return UNAVAILABLE
  return NOT_FOUND
}

type Resolved = { readonly realPath: string; readonly stats: Stats }

function isHiddenRelative(relative: string): boolean {
  return relative.startsWith('.') || relative.includes(`${path.sep}.`)
}

export class StaticFiles {
  readonly #root: string
  readonly #options: StaticFilesOptions
  readonly #cache = new Map<string, CacheEntry>()
  // Request path -> cached file, one map for file targets and one for directory (index) targets,
  // so '/docs' (a redirect) and '/docs/' (its index) never share an entry.
  readonly #resolvedFiles = new Map<string, ResolvedEntry>()
  readonly #resolvedIndexes = new Map<string, ResolvedEntry>()
  #cacheBytes = 0

  /** `root` must already be a real path (see `realpath`), so containment checks compare like with like. */
  constructor(root: string, options: StaticFilesOptions) {
    this.#root = root
    this.#options = options
  }

  /** Files held in memory, and what they are charged against the cache's budget (bytes). */
  get cacheUse(): { readonly files: number; readonly bytes: number } {
    return { files: this.#cache.size, bytes: this.#cacheBytes }
  }

  /** Finds what a GET/HEAD for `target` should answer. Never throws for a missing or odd path. */
  async lookup(target: ParsedTarget, wantBody: boolean): Promise<Lookup> {
    if (target.hasHiddenSegment) return NOT_FOUND
    const fast = this.#revalidate(target)
    if (fast !== null) return fast
    const found = await this.#resolve(target.relativePath)
    if ('kind' in found) return found
    let { realPath, stats } = found
    if (stats.isDirectory()) {
      // Relative links in an index page only work under a trailing slash, as nginx and Caddy know.
      if (!target.isDirectory) return { kind: 'redirect', location: `${encodePath(target.pathname)}/` }
      const index = await this.#resolve(path.join(target.relativePath, INDEX_FILE))
      if ('kind' in index && index !== NOT_FOUND) return index
      if ('kind' in index || !index.stats.isFile()) {
        const list = this.#options.listDirectories === true && index === NOT_FOUND
        return list ? { kind: 'directory', realPath, root: this.#root } : NOT_FOUND
      }
      ;({ realPath, stats } = index)
    } else if (!stats.isFile() || target.isDirectory) {
      return NOT_FOUND
    }
    if (!wantBody || stats.size > this.#options.cacheMaxFileBytes) {
      return { kind: 'file', file: fileInfo(realPath, stats), body: null }
    }
    const served = await this.#cached(realPath, stats)
    const entry = this.#cache.get(realPath)
    if (served.kind === 'file' && served.body !== null && entry !== undefined && entry.body === served.body) {
      const map = target.isDirectory ? this.#resolvedIndexes : this.#resolvedFiles
      const requestPath = path.join(this.#root, target.relativePath, target.isDirectory ? INDEX_FILE : '')
      const resolved: ResolvedEntry = { map, key: target.relativePath, requestPath, entry, found: served }
      map.set(target.relativePath, resolved)
      entry.resolvedAs.push(resolved)
    }
    return served
  }

  /**
   * The fast path for a path served before from memory: one synchronous stat (microseconds on a
   * local disk, as nginx does, instead of two thread-pool round trips for realpath + stat). A
   * matching inode, size, mtime and ctime means the very file whose real path was checked inside
   * the root, unchanged; anything else falls back to the full resolution.
   */
  #revalidate(target: ParsedTarget): Lookup | null {
    const map = target.isDirectory ? this.#resolvedIndexes : this.#resolvedFiles
    const resolved = map.get(target.relativePath)
    if (resolved === undefined) return null
    const stats = statSync(resolved.requestPath, { throwIfNoEntry: false })
    if (stats !== undefined && isSameFile(stats, resolved.entry)) return resolved.found
    map.delete(target.relativePath)
    return null
  }

  /**
   * Opens a file for streaming, or null when what the path holds is no longer the version
   * `file` describes (replaced or rewritten since the lookup): the caller looks it up again, so
   * the headers it sends describe the bytes it sends. The caller closes the handle.
   */
  async open(file: FileInfo): Promise<FileHandle | null> {
    const handle = await open(file.realPath, 'r')
    try {
      if (isSameVersion(await handle.stat(), file)) return handle
    } catch {
      // fstat failed: treat as changed
    }
    await handle.close()
    return null
  }

  /**
   * `--precompressed`: the sibling `file` + `suffix` (file.br, file.gz) if it is a regular file
   * whose real path is inside the root and not hidden, as `file` itself had to be.
   */
  async sibling(file: FileInfo, suffix: string): Promise<FileInfo | null> {
    const relative = path.relative(this.#root, `${file.realPath}${suffix}`)
    const found = await this.#resolve(relative)
    if ('kind' in found || !found.stats.isFile()) return null
    return { ...fileInfo(found.realPath, found.stats), contentType: file.contentType }
  }

  /** The real path (inside the root, not hidden) and its stats, or the Lookup that answers instead. */
  async #resolve(relativePath: string): Promise<Resolved | Lookup> {
    let realPath: string
    try {
      realPath = await realpath(path.join(this.#root, relativePath))
    } catch (error) {
      return errorLookup(error)
    }
    if (realPath !== this.#root) {
      if (!realPath.startsWith(this.#root) || realPath[this.#root.length] !== path.sep) return NOT_FOUND
      if (isHiddenRelative(realPath.slice(this.#root.length + 1))) return NOT_FOUND
    }
    try {
      return { realPath, stats: await stat(realPath) }
    } catch (error) {
      return errorLookup(error)
    }
  }

  async #cached(realPath: string, stats: Stats): Promise<Lookup> {
    const entry = this.#cache.get(realPath)
    if (
      entry !== undefined &&
      entry.ino === stats.ino &&
      entry.file.size === stats.size &&
      entry.file.mtimeMs === stats.mtimeMs &&
      entry.ctimeMs === stats.ctimeMs
    ) {
      return { kind: 'file', file: entry.file, body: entry.body }
    }
    if (entry !== undefined) this.#evict(realPath, entry)
    // Read through one descriptor and describe the bytes with that descriptor's fstat, so the
    // entry's stat and its bytes belong together even if the file changes meanwhile.
    let handle: FileHandle
    try {
      handle = await open(realPath, 'r')
    } catch (error) {
      return errorLookup(error)
    }
    try {
      const fresh = await handle.stat()
      if (!fresh.isFile()) return NOT_FOUND
      const body = Buffer.allocUnsafe(fresh.size)
      let offset = 0
      while (offset < body.length) {
        const { bytesRead } = await handle.read(body, offset, body.length - offset, offset)
        if (bytesRead === 0) break
        offset += bytesRead
      }
      const file = fileInfo(realPath, fresh)
      if (offset !== body.length) return { kind: 'file', file, body: null } // shrank meanwhile: stream it
      this.#remember(realPath, { file, body, ino: fresh.ino, ctimeMs: fresh.ctimeMs, resolvedAs: [] })
      return { kind: 'file', file, body }
    } catch (error) {
      return errorLookup(error)
    } finally {
      await handle.close()
    }
  }

  #remember(realPath: string, entry: CacheEntry): void {
    const cost = entryCost(realPath, entry)
    if (cost > this.#options.cacheMaxBytes) return
    while (this.#cacheBytes + cost > this.#options.cacheMaxBytes || this.#cache.size >= MAX_CACHE_ENTRIES) {
      const oldest = this.#cache.entries().next().value
      if (oldest === undefined) break
      this.#evict(oldest[0], oldest[1])
    }
    this.#cache.set(realPath, entry)
    this.#cacheBytes += cost
  }

  #evict(realPath: string, entry: CacheEntry): void {
    this.#cache.delete(realPath)
    this.#cacheBytes -= entryCost(realPath, entry)
    for (const resolved of entry.resolvedAs) {
      if (resolved.map.get(resolved.key) === resolved) resolved.map.delete(resolved.key)
    }
  }
}

// What a cache entry costs besides its bytes: a million empty files must not pin memory for
// free. Each entry is charged at least a page plus its key (twice: the map key and the file's
// path, as UTF-16), and there are never more than MAX_CACHE_ENTRIES.
const MIN_ENTRY_COST = 4096
const MAX_CACHE_ENTRIES = 4096

function entryCost(realPath: string, entry: CacheEntry): number {
  return Math.max(entry.body.length, MIN_ENTRY_COST) + 4 * realPath.length
}

function fileInfo(realPath: string, stats: Stats): FileInfo {
  return {
    realPath,
    ino: stats.ino,
    size: stats.size,
    mtimeMs: stats.mtimeMs,
    etag: formatEtag(stats.mtimeMs, stats.size),
    lastModified: formatHttpDate(stats.mtimeMs),
    contentType: contentTypeFor(realPath),
  }
}
