import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type RunningServer, startServer, waitFor } from './helpers/server-process.js'

// Directory listings, the upload page, video served by ranges, and uploaded documents that must
// stay inert, in a real browser: Debian's Chromium driven by playwright-core (no browser
// download). CI installs Chromium (`.ci/run`, `pnpm test:setup`); without it this suite fails
// loudly instead of skipping.

const CHROMIUM = '/usr/bin/chromium'
const OUTPUT_DIR = fileURLToPath(new URL('../test-results/browser/', import.meta.url))
const HOSTILE = '<img src=x onerror="window.pwned=1">"\'.txt'
const VIDEO = fileURLToPath(new URL('./fixtures/testsrc-4s.webm', import.meta.url)) // see fixtures/README.md
const PLAYER = '<!doctype html><title>player</title><video muted preload="auto" src="testsrc-4s.webm"></video>\n'
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex')

let server: RunningServer
let browser: Browser

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install it with "apt-get install -y chromium" (CI's .ci/run does)`)
  }
  await mkdir(OUTPUT_DIR, { recursive: true })
  server = await startServer({
    args: ['--list'],
    files: {
      'test.txt': 'hello from the test root\n',
      [HOSTILE]: 'just text\n',
      'docs/readme.txt': 'docs\n',
      'media/testsrc-4s.webm': await readFile(VIDEO),
      'media/player.html': PLAYER,
    },
  })
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  })
})
afterAll(async () => {
  await browser?.close()
  await server?.stop()
})

/** A page that records CSP violations and uncaught errors, so a silently blocked script fails the test. */
async function openPage(javaScriptEnabled = true): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ javaScriptEnabled, viewport: { width: 900, height: 640 } })
  const page = await context.newPage()
  const problems: string[] = []
  page.on('pageerror', (error) => problems.push(error.message))
  page.on('console', (message) => {
    // CSP refusals are console errors; a missing /favicon.ico (404) is the one expected noise.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      problems.push(message.text())
    }
  })
  return { page, problems }
}

describe('in Chromium', () => {
  test('the listing shows a hostile file name as text and its link fetches it', async () => {
    const { page, problems } = await openPage()
    const response = await page.goto(`${server.url}/`)
    expect(response?.status()).toBe(200)
    await expect(page.locator('h1').textContent()).resolves.toBe('Index of /')
    const link = page.getByRole('link', { name: HOSTILE, exact: true })
    await expect(link.count()).resolves.toBe(1)
    expect(await page.locator('img').count()).toBe(0)
    expect(await page.evaluate('window.pwned')).toBeUndefined()
    await link.click()
    await page.waitForURL((url) => url.pathname !== '/')
    expect(await page.locator('pre').textContent()).toBe('just text\n') // Chromium shows text/plain in a <pre>
    await page.goto(`${server.url}/docs/`)
    await page.getByRole('link', { name: '../' }).click()
    await page.waitForURL(`${server.url}/`)
    expect(problems).toEqual([])
    await page.context().close()
  })

  test('two files uploaded through the page reach 100% and link to their exact bytes', async () => {
    const { page, problems } = await openPage()
    await page.goto(`${server.url}/upload`)
    const binary = randomBytes(3 * 1024 * 1024 + 123)
    const text = Buffer.from('two files, one page\n')
    await page.setInputFiles('#files', [
      { name: 'photo.png', mimeType: 'image/png', buffer: binary },
      { name: 'notes.txt', mimeType: 'text/plain', buffer: text },
    ])
    const rows = page.locator('li.file')
    await expect(rows.count()).resolves.toBe(2)
    // A locator wait, not waitForFunction: the page's CSP (rightly) forbids evaluating strings.
    await page.locator('li.file[data-state="done"]').nth(1).waitFor()
    for (let i = 0; i < 2; i++) {
      const row = rows.nth(i)
      expect(await row.locator('progress').getAttribute('value')).toBe('100')
      expect(await row.locator('.pct').textContent()).toBe('100%')
    }
    expect(await rows.nth(0).locator('.name').textContent()).toBe('photo.png')
    const links = await rows.locator('a.stored').all()
    const hrefs = await Promise.all(
      links.map(async (a) => new URL((await a.getAttribute('href')) ?? '', server.url).href),
    )
    expect(hrefs).toHaveLength(2)
    expect(hrefs[0]).toMatch(/\/uploads\/[0-9TZ-]+-[0-9a-f]{8}\.png$/)
    expect(hrefs[1]).toMatch(/\.txt$/)
    const fetched = await page.request.get(hrefs[0] as string)
    expect(sha256(await fetched.body())).toBe(sha256(binary))
    const stored = await readFile(path.join(server.root, 'uploads', path.basename(hrefs[0] as string)))
    expect(stored.equals(binary)).toBe(true)
    await page.screenshot({ path: path.join(OUTPUT_DIR, 'upload-page.png'), fullPage: true })
    await rows.nth(1).locator('a.stored').click()
    await page.waitForURL(hrefs[1] as string)
    expect(await page.locator('pre').textContent()).toBe(text.toString())
    expect(problems).toEqual([])
    await page.context().close()
  })

  test('a file dropped on the page is uploaded; a hostile name stays text', async () => {
    const { page, problems } = await openPage()
    await page.goto(`${server.url}/upload`)
    // Page code as a string: this test project has no DOM types.
    const dataTransfer = await page.evaluateHandle(`(() => {
      const transfer = new DataTransfer()
      transfer.items.add(new File(['dropped bytes'], ${JSON.stringify(HOSTILE)}, { type: 'text/plain' }))
      return transfer
    })()`)
    await page.dispatchEvent('#drop', 'drop', { dataTransfer })
    await page.waitForSelector('li.file[data-state="done"] a.stored')
    expect(await page.locator('li.file .name').textContent()).toBe(HOSTILE)
    expect(await page.locator('img').count()).toBe(0)
    expect(await page.evaluate('window.pwned')).toBeUndefined()
    const href = await page.locator('a.stored').getAttribute('href')
    expect(href).toMatch(/^\/uploads\/[0-9TZ-]+-[0-9a-f]{8}\.txt$/)
    expect((await (await page.request.get(`${server.url}${href}`)).body()).toString()).toBe('dropped bytes')
    expect(problems).toEqual([])
    await page.context().close()
  })

  test('with JavaScript off, the page is a plain multipart form that still works', async () => {
    const { page } = await openPage(false)
    await page.goto(`${server.url}/upload`)
    await page.setInputFiles('#files', [
      { name: 'first.txt', mimeType: 'text/plain', buffer: Buffer.from('first\n') },
      { name: HOSTILE, mimeType: 'text/plain', buffer: Buffer.from('second\n') },
    ])
    await Promise.all([page.waitForURL(`${server.url}/upload`), page.click('#send')])
    expect(await page.locator('h1').textContent()).toBe('Stored 2 files')
    expect(await page.locator('img').count()).toBe(0)
    // HTML's form encoding sends '"' in a file name as %22 (WHATWG HTML §4.10.21.8); the rest arrives as is.
    expect(await page.locator('body').textContent()).toContain(HOSTILE.replaceAll('"', '%22'))
    const links = page.locator('a[href^="/uploads/"]')
    await expect(links.count()).resolves.toBe(2)
    await links.nth(1).click()
    await page.waitForURL(/\/uploads\//)
    expect(await page.locator('pre').textContent()).toBe('second\n')
    await page.context().close()
  })
})

describe('video in Chromium', () => {
  // The page's own script, as a string: this test project has no DOM types. HAVE_CURRENT_DATA is 2.
  const PLAY_AND_SEEK = `(async () => {
    const video = document.querySelector('video')
    const failed = new Promise((_, reject) =>
      video.addEventListener('error', () => reject(new Error('media error ' + video.error?.code)), { once: true }))
    const once = (type) => Promise.race([failed, new Promise((resolve) => video.addEventListener(type, resolve, { once: true }))])
    if (video.readyState < 2) await once('loadeddata')
    const played = Promise.race([failed, new Promise((resolve) => {
      const check = () => video.currentTime > 0.3 && resolve(video.currentTime)
      video.addEventListener('timeupdate', check)
    })])
    await Promise.race([failed, video.play()])
    const playedTo = await played
    video.pause()
    const seeked = once('seeked')
    video.currentTime = 3
    await seeked
    return { playedTo, duration: video.duration, currentTime: video.currentTime, readyState: video.readyState }
  })()`

  test('a <video> plays and seeks in a WebM served with ranges', async () => {
    const { page, problems } = await openPage()
    await page.goto(`${server.url}/media/player.html`)
    const state = (await page.evaluate(PLAY_AND_SEEK)) as {
      playedTo: number
      duration: number
      currentTime: number
      readyState: number
    }
    expect(state.playedTo).toBeGreaterThan(0.3)
    expect(state.duration).toBeCloseTo(4, 1)
    expect(state.currentTime).toBeCloseTo(3, 1)
    expect(state.readyState).toBeGreaterThanOrEqual(2)
    // Chromium's media loader asks for `Range: bytes=0-` and more as it seeks: each answer a 206.
    const ranged = await waitFor(async () => {
      const log = await readFile(server.logPath, 'utf8')
      const count = log
        .split('\n')
        .filter((line) => /"GET \/media\/testsrc-4s\.webm HTTP\/1\.1" 206 /.test(line)).length
      return count > 0 ? count : undefined
    })
    expect(ranged).toBeGreaterThan(0)
    expect(problems).toEqual([])
    await page.context().close()
  })
})

describe('uploaded documents in Chromium', () => {
  // Each marks its own document and posts to /upload if its script ever runs.
  const SCRIPT = `document.documentElement.setAttribute('data-pwned', '1')
try { localStorage.setItem('pwned', '1') } catch {}
fetch('/upload', { method: 'POST', body: 'pwned' })`
  const DOCUMENTS = [
    {
      kind: 'HTML',
      name: 'page.html',
      type: 'text/html',
      body: `<!doctype html><title>inert</title><p>an uploaded page</p><script>document.title = 'pwned'\n${SCRIPT}</script>`,
    },
    {
      kind: 'SVG',
      name: 'picture.svg',
      type: 'image/svg+xml',
      body: `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/><script>${SCRIPT}</script></svg>`,
    },
  ]

  /** Stores `body` as an upload; resolves with its absolute URL. */
  async function upload(name: string, type: string, body: string): Promise<string> {
    const response = await fetch(`${server.url}/upload`, {
      method: 'POST',
      headers: { 'Content-Type': type, 'X-File-Name': name },
      body,
    })
    expect(response.status).toBe(201)
    return `${server.url}${response.headers.get('location')}`
  }

  const storedUploads = async (): Promise<string[]> =>
    (await readdir(path.join(server.root, 'uploads'))).filter((name) => !name.startsWith('.'))

  /** A page whose context records every request it makes, but for the favicon. */
  async function openRecordedPage(acceptDownloads: boolean): Promise<{ page: Page; requests: string[] }> {
    const context = await browser.newContext({ acceptDownloads })
    const requests: string[] = []
    context.on('request', (request) => {
      if (!request.url().endsWith('/favicon.ico')) requests.push(`${request.method()} ${request.url()}`)
    })
    return { page: await context.newPage(), requests }
  }

  /** Nothing ran in the server's origin: no request but the document's, no new upload, no localStorage. */
  async function expectNothingRan(page: Page, requests: string[], url: string, uploadsBefore: string[]): Promise<void> {
    expect(requests).toEqual([`GET ${url}`])
    expect(await storedUploads()).toEqual(uploadsBefore)
    await page.goto(`${server.url}/test.txt`)
    expect(await page.evaluate(`localStorage.getItem('pwned')`)).toBeNull()
  }

  test.each(DOCUMENTS)(
    'an uploaded $kind file opened from its Location downloads instead of rendering',
    async (doc) => {
      const url = await upload(doc.name, doc.type, doc.body)
      const uploadsBefore = await storedUploads()
      const { page, requests } = await openRecordedPage(true)
      const download = page.waitForEvent('download')
      const navigation = page.goto(url).catch((error: Error) => error)
      expect((await download).suggestedFilename()).toBe(path.basename(url))
      expect(String(await navigation)).toMatch(/Download is starting/)
      await expectNothingRan(page, requests, url, uploadsBefore)
      await page.context().close()
    },
  )

  test.each(DOCUMENTS)('an uploaded $kind file forced to render runs no script', async (doc) => {
    const url = await upload(doc.name, doc.type, doc.body)
    const uploadsBefore = await storedUploads()
    const { page, requests } = await openRecordedPage(false)
    const messages: string[] = []
    page.on('console', (message) => messages.push(message.text()))
    // Everything the server sent but the attachment: the CSP sandbox alone must stop the script.
    let disposition: string | undefined
    await page.route(url, async (route) => {
      const response = await route.fetch()
      const headers = response.headers()
      disposition = headers['content-disposition']
      delete headers['content-disposition']
      await route.fulfill({ response, headers })
    })
    const response = await page.goto(url)
    expect(response?.status()).toBe(200)
    expect(disposition).toBe('attachment')
    expect(await page.evaluate(`document.documentElement.getAttribute('data-pwned')`)).toBeNull()
    if (doc.kind === 'HTML') expect(await page.title()).toBe('inert')
    // Chromium says why the script did not run: proof that there was one, and that it was stopped.
    expect(messages.some((text) => text.includes('sandboxed') && text.includes("'allow-scripts'"))).toBe(true)
    await expectNothingRan(page, requests, url, uploadsBefore)
    await page.context().close()
  })
})
