import { mkdir, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { exchange } from './helpers/raw-exchange.js'
import { type RunningServer, startServer } from './helpers/server-process.js'

// `--list` directory listings. Names on disk are hostile input: they must come out as
// text (never markup), link only to what the server itself serves, and never reveal hidden files,
// upload temp files or anything outside the root.

let server: RunningServer

const LONG_NAME = `${'L'.repeat(240)}.txt`
const NON_UTF8 = Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe, 0x2e, 0x74, 0x78, 0x74]) // "bad\xff\xfe.txt"
const HOSTILE: Record<string, string> = {
  'quote"\'name.txt': 'quotes\n',
  '<script>alert(1)<.txt': 'script\n',
  '<img src=x onerror=alert(2)>.txt': 'img\n',
  'a%2fb.txt': 'percent two f\n',
  'line\nbreak.txt': 'newline\n',
  [LONG_NAME]: 'long\n',
  'sub dir/inner.txt': 'inner\n',
  'ünïcødé ✓.txt': 'unicode\n',
}

interface JsonListing {
  path: string
  entries: { name: string; href: string | null; type: 'file' | 'directory'; size: number; mtime: string }[]
  truncated: boolean
}

async function listJson(urlPath: string): Promise<JsonListing> {
  const response = await fetch(`${server.url}${urlPath}`, { headers: { Accept: 'application/json' } })
  expect(response.status).toBe(200)
  expect(response.headers.get('content-type')).toBe('application/json')
  return (await response.json()) as JsonListing
}

function hrefsOf(html: string): string[] {
  return [...html.matchAll(/href="([^"]*)"/g)].map((m) =>
    (m[1] as string).replaceAll('&#39;', "'").replaceAll('&quot;', '"').replaceAll('&amp;', '&'),
  )
}

beforeAll(async () => {
  server = await startServer({
    args: ['--list'],
    files: { 'test.txt': 'plain\n', 'docs/index.html': '<h1>docs</h1>\n', ...HOSTILE, '.hidden.txt': 'secret\n' },
  })
  await writeFile(Buffer.from(path.join(server.root, NON_UTF8.toString('latin1')), 'latin1'), 'bytes\n')
  await writeFile(path.join(server.root, 'uploads', '.upload-4242-abcdef012345.part'), 'half an upload')
  await mkdir(path.join(server.root, '.git'))
  await writeFile(path.join(server.dir, 'outside.txt'), 'OUTSIDE\n')
  await symlink(path.join(server.dir, 'outside.txt'), path.join(server.root, 'escape.txt'))
  await symlink(path.join(server.root, 'test.txt'), path.join(server.root, 'alias.txt'))
})
afterAll(async () => {
  await server?.stop()
})

describe('directory listing', () => {
  test('the root without index.html is an HTML listing with a strict CSP', async () => {
    const response = await fetch(`${server.url}/`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(response.headers.get('content-security-policy')).toMatch(/^default-src 'none'; style-src 'sha256-/)
    expect(response.headers.get('vary')).toBe('Accept')
    const html = await response.text()
    expect(html).toContain('<h1>Index of /</h1>')
    expect(html).toContain('>test.txt</a>')
  })

  test('a directory with index.html still serves its index', async () => {
    const response = await fetch(`${server.url}/docs/`)
    expect(await response.text()).toBe('<h1>docs</h1>\n')
  })

  test('hostile names are escaped text: no markup, no attribute break-out', async () => {
    const html = await (await fetch(`${server.url}/`)).text()
    const body = html.slice(html.indexOf('<body>'))
    expect(body).not.toMatch(/<script|<img|onerror=alert\(2\)>/i)
    expect(body).toContain('&lt;script&gt;alert(1)&lt;.txt')
    expect(body).toContain('&lt;img src=x onerror=alert(2)&gt;.txt')
    expect(body).toContain('quote&quot;&#39;name.txt')
    for (const href of hrefsOf(body)) expect(href).toMatch(/^(\.\.\/|[A-Za-z0-9%\-_.!~*'()]+\/?)$/)
  })

  test('every link is one percent-encoded segment and fetches exactly that file', async () => {
    const html = await (await fetch(`${server.url}/`)).text()
    const hrefs = hrefsOf(html.slice(html.indexOf('<body>')))
    expect(hrefs).toContain('a%252fb.txt')
    expect(hrefs).toContain("quote%22'name.txt")
    expect(hrefs).toContain('sub%20dir/')
    for (const [name, content] of Object.entries(HOSTILE)) {
      if (name.includes('\n') || name.includes('/')) continue
      const href = hrefs.find((h) => decodeURIComponent(h) === name)
      expect(href, name).toBeDefined()
      const response = await fetch(new URL(href as string, `${server.url}/`))
      expect(response.status, name).toBe(200)
      expect(await response.text()).toBe(content)
    }
  })

  test('JSON when the client asks for it, directories first then by name', async () => {
    const listing = await listJson('/')
    expect(listing.path).toBe('/')
    expect(listing.truncated).toBe(false)
    const names = listing.entries.map((e) => e.name)
    expect(names.slice(0, 3)).toEqual(['docs', 'sub dir', 'uploads'])
    expect(listing.entries.slice(0, 3).every((e) => e.type === 'directory')).toBe(true)
    const files = names.slice(3)
    expect(files).toEqual([...files].sort())
    const test = listing.entries.find((e) => e.name === 'test.txt')
    expect(test).toMatchObject({ href: 'test.txt', type: 'file', size: 6 })
    expect(Number.isNaN(Date.parse(test?.mtime ?? ''))).toBe(false)
  })

  test('names the server would refuse to serve are shown, replaced characters and all, without a link', async () => {
    const listing = await listJson('/')
    const newline = listing.entries.find((e) => e.name.startsWith('line'))
    expect(newline).toMatchObject({ name: 'line\uFFFDbreak.txt', href: null })
    const bytes = listing.entries.find((e) => e.name.startsWith('bad'))
    expect(bytes).toMatchObject({ name: 'bad\uFFFD\uFFFD.txt', href: null })
    const html = await (await fetch(`${server.url}/`)).text()
    expect(html).toContain('<td class="name">bad\uFFFD\uFFFD.txt</td>')
  })

  test('a very long name is listed and linked', async () => {
    const listing = await listJson('/')
    expect(listing.entries.find((e) => e.name === LONG_NAME)?.href).toBe(LONG_NAME)
  })

  test('hidden files, upload temp files and symlinks out of the root are never listed', async () => {
    const root = await listJson('/')
    const names = root.entries.map((e) => e.name)
    expect(names).not.toContain('.hidden.txt')
    expect(names).not.toContain('.git')
    expect(names).not.toContain('escape.txt')
    expect(names).toContain('alias.txt') // a symlink inside the root is served, so it is listed
    const uploads = await listJson('/uploads/')
    expect(uploads.entries).toEqual([])
    const html = await (await fetch(`${server.url}/uploads/`)).text()
    expect(html).not.toContain('.upload-')
  })

  test('a subdirectory links back to its parent; the root does not', async () => {
    const sub = await (await fetch(`${server.url}/sub%20dir/`)).text()
    expect(hrefsOf(sub.slice(sub.indexOf('<body>')))).toEqual(['../', 'inner.txt'])
    const root = await (await fetch(`${server.url}/`)).text()
    expect(hrefsOf(root.slice(root.indexOf('<body>')))).not.toContain('../')
    expect((await listJson('/sub%20dir/')).path).toBe('/sub dir/')
  })

  test('a directory without its trailing slash is redirected first', async () => {
    const response = await exchange(server.port, 'GET /sub%20dir HTTP/1.0\r\n\r\n')
    expect(response.status).toBe(301)
    expect(response.headers.get('location')).toBe('/sub%20dir/')
  })

  test('HEAD of a listing has its length and no body', async () => {
    const get = await exchange(server.port, 'GET / HTTP/1.0\r\n\r\n')
    const head = await exchange(server.port, 'HEAD / HTTP/1.0\r\n\r\n', { headResponses: true })
    expect(get.exact).toBe(true) // the GET's Content-Length is the length of its body
    expect(head.status).toBe(200)
    expect(head.headers.get('content-length')).toBe(String(get.body.length))
    expect(head.exact).toBe(true) // not a byte after the head
  })

  test('traversal through a listing target is still refused', async () => {
    for (const target of ['/../', '/sub%20dir/../../', '/%2e%2e/', '/sub%20dir%2f..%2f/']) {
      const response = await exchange(server.port, `GET ${target} HTTP/1.0\r\n\r\n`)
      expect(response.status, target).toBe(404)
    }
  })
})

test('no worker crashed on any of the above', () => {
  expect(server.stderr()).not.toMatch(/threadserve worker/)
})

describe('without --list', () => {
  test('a directory without index.html stays 404', async () => {
    const plain = await startServer({ files: { 'empty/readme.txt': 'x' } })
    try {
      expect((await fetch(`${plain.url}/empty/`)).status).toBe(404)
      expect((await fetch(`${plain.url}/`)).status).toBe(404)
    } finally {
      await plain.stop()
    }
  })

  test('THREADSERVE_LIST=1 turns listings on like --list', async () => {
    const listed = await startServer({ files: { 'empty/readme.txt': 'x' }, env: { THREADSERVE_LIST: '1' } })
    try {
      const response = await fetch(`${listed.url}/empty/`, { headers: { Accept: 'application/json' } })
      expect(response.status).toBe(200)
      expect(((await response.json()) as JsonListing).entries.map((e) => e.name)).toEqual(['readme.txt'])
    } finally {
      await listed.stop()
    }
  })
})
