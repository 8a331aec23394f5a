import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { exchange, openExchange } from './helpers/raw-exchange.js'
import { type RunningServer, startServer, waitFor } from './helpers/server-process.js'

// multipart/form-data POST /upload (plain HTML forms, curl -F). Each file part becomes
// its own stored upload with the raw path's naming and durability, under one permit; a malformed
// body is a 400 and leaves nothing behind.

let server: RunningServer
const BOUNDARY = '----threadserve-test-boundary-7MA4YWxk'
const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex')
const uploadsDir = (): string => path.join(server.root, 'uploads')

interface FormPart {
  name: string
  filename?: string
  type?: string
  data: Buffer | string
}

function formBody(parts: readonly FormPart[], boundary = BOUNDARY): Buffer {
  const pieces: Buffer[] = []
  for (const part of parts) {
    const filename = part.filename === undefined ? '' : `; filename="${part.filename}"`
    const type = part.type === undefined ? '' : `Content-Type: ${part.type}\r\n`
    pieces.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"${filename}\r\n${type}\r\n`),
      Buffer.from(part.data),
      Buffer.from('\r\n'),
    )
  }
  pieces.push(Buffer.from(`--${boundary}--\r\n`))
  return Buffer.concat(pieces)
}

function formRequest(body: Buffer, extraHeaders = ''): Buffer {
  return Buffer.concat([
    Buffer.from(
      `POST /upload HTTP/1.0\r\nContent-Type: multipart/form-data; boundary=${BOUNDARY}\r\n${extraHeaders}Content-Length: ${body.length}\r\n\r\n`,
    ),
    body,
  ])
}

interface FormReply {
  files: { name: string; size: number; sha256: string; location: string | null }[]
}

/** The upload dir's names once no temp file is left (an answer may precede the last unlink by a tick). */
async function settledUploads(): Promise<string[]> {
  return waitFor(async () => {
    const names = await readdir(uploadsDir())
    return names.some((n) => n.startsWith('.')) ? undefined : names.sort()
  })
}

beforeAll(async () => {
  server = await startServer({ args: ['--max-body', '1MiB', '--body-timeout', '2s'] })
})
afterAll(async () => {
  await server?.stop()
})

describe('multipart uploads', () => {
  test('every file part of a FormData POST is stored byte-exact, fields are ignored', async () => {
    const files = [randomBytes(70_000), Buffer.from('hello, form\n'), randomBytes(3)]
    const form = new FormData()
    form.append('note', 'a text field, not a file')
    form.append('file', new Blob([files[0] as Buffer], { type: 'image/png' }), 'photo.png')
    form.append('file', new Blob([files[1] as Buffer], { type: 'text/plain' }), 'notes.TXT')
    form.append('other', new Blob([files[2] as Buffer]), '../../etc/passwd')
    const response = await fetch(`${server.url}/upload`, { method: 'POST', body: form })
    expect(response.status).toBe(201)
    expect(response.headers.get('content-type')).toBe('application/json')
    const reply = (await response.json()) as FormReply
    expect(reply.files).toHaveLength(3)
    expect(reply.files.map((f) => path.extname(f.name))).toEqual(['.png', '.txt', '.bin'])
    for (const [i, file] of reply.files.entries()) {
      const bytes = files[i] as Buffer
      expect(file).toMatchObject({ size: bytes.length, sha256: sha256(bytes), location: `/uploads/${file.name}` })
      expect(sha256(await readFile(path.join(uploadsDir(), file.name)))).toBe(file.sha256)
      const back = Buffer.from(await (await fetch(`${server.url}${file.location}`)).arrayBuffer())
      expect(back.equals(bytes)).toBe(true)
    }
  })

  test('curl -F stores each file and lists them all', async () => {
    const a = path.join(server.dir, 'a.csv')
    const b = path.join(server.dir, 'b.json')
    await writeFile(a, 'x,y\n1,2\n')
    await writeFile(b, '{"k":1}\n')
    const { stdout } = await promisify(execFile)('curl', [
      '-sS',
      '-F',
      `one=@${a}`,
      '-F',
      `two=@${b};type=application/json`,
      `${server.url}/upload`,
    ])
    const reply = JSON.parse(stdout) as FormReply
    expect(reply.files.map((f) => [path.extname(f.name), f.sha256])).toEqual([
      ['.csv', sha256('x,y\n1,2\n')],
      ['.json', sha256('{"k":1}\n')],
    ])
  })

  test('one file gets a Location header too; the raw upload answer is unchanged', async () => {
    const response = await exchange(server.port, formRequest(formBody([{ name: 'f', filename: 'a.txt', data: 'A' }])))
    expect(response.status).toBe(201)
    const reply = JSON.parse(response.body.toString()) as FormReply
    expect(response.headers.get('location')).toBe(reply.files[0]?.location)
    const raw = await fetch(`${server.url}/upload`, { method: 'POST', body: 'raw' })
    expect(Object.keys((await raw.json()) as object)).toEqual(['name', 'size', 'sha256'])
  })

  test('a browser form (Accept text/html) gets a page of links, file names escaped', async () => {
    const body = formBody([{ name: 'f', filename: '<img src=x onerror=alert(1)>.txt', data: 'pwn?' }])
    const accept = 'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n'
    const response = await exchange(server.port, formRequest(body, accept))
    expect(response.status).toBe(201)
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(response.headers.get('content-security-policy')).toMatch(/^default-src 'none'/)
    const html = response.body.toString('utf8')
    expect(html).not.toContain('<img')
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;.txt')
    const href = /<a href="(\/uploads\/[^"]+)">/.exec(html)?.[1] as string
    expect(await (await fetch(`${server.url}${href}`)).text()).toBe('pwn?')
  })

  test('an empty file input (no file chosen) is skipped; a form with no file at all is a 400', async () => {
    const before = await settledUploads()
    const withEmpty = formBody([
      { name: 'f', filename: '', type: 'application/octet-stream', data: '' },
      { name: 'g', filename: 'real.txt', data: 'real' },
    ])
    const reply = JSON.parse((await exchange(server.port, formRequest(withEmpty))).body.toString()) as FormReply
    expect(reply.files.map((f) => f.size)).toEqual([4])
    const after = await settledUploads()
    const onlyFields = formBody([{ name: 'note', data: 'hello' }])
    const response = await exchange(server.port, formRequest(onlyFields))
    expect(response.status).toBe(400)
    expect(await settledUploads()).toEqual(after)
    expect(after.length).toBe(before.length + 1)
  })

  test.each([
    {
      name: 'a body cut before the closing boundary',
      body: () => formBody([{ name: 'f', filename: 'a.txt', data: 'complete part' }]).subarray(0, -8),
    },
    {
      name: 'a complete first part, then garbage',
      body: () =>
        Buffer.concat([
          formBody([{ name: 'f', filename: 'a.txt', data: randomBytes(20_000) }]).subarray(0, -(BOUNDARY.length + 6)),
          Buffer.from(`--${BOUNDARY}\r\nno colon in this header\r\n\r\nxyz`),
        ]),
    },
    { name: 'no boundary anywhere', body: () => Buffer.from('just some bytes, not a form') },
    {
      name: 'a part header that never ends',
      body: () => Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="f"; filename="a.txt"`),
    },
  ])('$name is a 400 and leaves no file behind', async ({ body }) => {
    const before = await settledUploads()
    const response = await exchange(server.port, formRequest(body()))
    expect(response.status).toBe(400)
    expect(await settledUploads()).toEqual(before)
  })

  test('a multipart Content-Type without a boundary is a 400', async () => {
    const response = await exchange(
      server.port,
      'POST /upload HTTP/1.0\r\nContent-Type: multipart/form-data\r\nContent-Length: 3\r\n\r\nabc',
    )
    expect(response.status).toBe(400)
  })

  test('more than 64 files is a 413 and stores none of them', async () => {
    const before = await settledUploads()
    const parts = Array.from({ length: 65 }, (_, i) => ({ name: 'f', filename: `${i}.txt`, data: `${i}` }))
    const response = await exchange(server.port, formRequest(formBody(parts)))
    expect(response.status).toBe(413)
    expect(await settledUploads()).toEqual(before)
  })

  test('a form over --max-body is a 413 before its body is read', async () => {
    const response = await exchange(
      server.port,
      `POST /upload HTTP/1.0\r\nContent-Type: multipart/form-data; boundary=${BOUNDARY}\r\nContent-Length: ${2 * 1024 * 1024}\r\n\r\n`,
    )
    expect(response.status).toBe(413)
  })

  test('a client that aborts mid-form leaves no file and no temp file', async () => {
    const before = await settledUploads()
    const body = formBody([
      { name: 'f', filename: 'done.txt', data: 'first part is complete' },
      { name: 'g', filename: 'big.bin', data: randomBytes(500_000) },
    ])
    const socket = net.connect(server.port, '127.0.0.1')
    await new Promise((resolve) => socket.once('connect', resolve))
    socket.write(formRequest(body).subarray(0, 300_000))
    await waitFor(async () => ((await readdir(uploadsDir())).some((n) => n.startsWith('.upload-')) ? true : undefined))
    socket.destroy()
    expect(await settledUploads()).toEqual(before)
  })
})

test('no worker crashed on any of the above', () => {
  expect(server.stderr()).not.toMatch(/threadserve worker/)
})

describe('multipart and the permit', () => {
  test('a whole form takes one permit: with --max-posts 1 a second POST meanwhile is a 503', async () => {
    const small = await startServer({ args: ['--max-posts', '1'] })
    try {
      const body = formBody([
        { name: 'a', filename: 'a.bin', data: randomBytes(1000) },
        { name: 'b', filename: 'b.bin', data: randomBytes(1000) },
        { name: 'c', filename: 'c.bin', data: randomBytes(1000) },
      ])
      const request = formRequest(body)
      const upload = openExchange(small.port)
      await upload.write(request.subarray(0, 2500)) // two parts in, the third one pending
      const dir = path.join(small.root, 'uploads')
      await waitFor(async () =>
        (await readdir(dir)).filter((n) => n.startsWith('.upload-')).length >= 2 ? true : undefined,
      )
      const second = await fetch(`${small.url}/upload`, { method: 'POST', body: 'x' })
      expect(second.status).toBe(503)
      upload.end(request.subarray(2500))
      const reply = await upload.result
      expect(reply.status).toBe(201)
      expect((JSON.parse(reply.body.toString()) as FormReply).files).toHaveLength(3)
      expect((await fetch(`${small.url}/upload`, { method: 'POST', body: 'x' })).status).toBe(201) // released
    } finally {
      await small.stop()
    }
  })
})
