import { mkdir, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { exchange } from '../test/helpers/raw-exchange.js'
import { type RunningServer, startServer } from '../test/helpers/server-process.js'
import { createRandom, seedFor } from './helpers/reliability.js'

// Traversal (docs/reliability.md, promise 6): a generated table of hostile targets (encodings,
// double encodings, overlong UTF-8, backslashes, NUL, symlinks out of the root, absolute paths,
// dot segments in every position, case variants) against a root with secrets next to it, inside
// it as dotfiles and as upload temp files. No response may carry a secret, and none may be a 5xx.

const SECRET = `TOP-SECRET-${Date.now().toString(36)}`
const PASSWD_MARK = 'root:x:0:0'

let server: RunningServer | undefined
let outside = ''
afterAll(async () => {
  await server?.stop()
})

beforeAll(async () => {
  server = await startServer({
    files: {
      'test.txt': 'public\n',
      'sub/inner.txt': 'inner\n',
      'sub/deeper/leaf.txt': 'leaf\n',
      '.secret': `${SECRET} dotfile\n`,
      'sub/.env': `${SECRET} env\n`,
      'uploads/.upload-1-0123456789ab.part': `${SECRET} temp upload\n`,
    },
  })
  const { dir, root } = server
  outside = dir
  await writeFile(path.join(dir, 'secret.txt'), `${SECRET} next to the root\n`)
  await mkdir(path.join(dir, 'root-evil'))
  await writeFile(path.join(dir, 'root-evil', 'secret.txt'), `${SECRET} in a sibling that shares the root's prefix\n`)
  await symlink('../secret.txt', path.join(root, 'link-secret'))
  await symlink('..', path.join(root, 'link-dir'))
  await symlink('../../secret.txt', path.join(root, 'sub', 'link-up'))
  await symlink(path.join(dir, 'secret.txt'), path.join(root, 'abs-link'))
  await symlink('../root-evil', path.join(root, 'evil'))
  await symlink('/etc/passwd', path.join(root, 'passwd-link'))
  await symlink('/etc', path.join(root, 'etc-link'))
  await symlink('test.txt', path.join(root, 'link-in')) // a symlink that stays inside: served
})

function hostileTargets(): string[] {
  const dots = [
    '..',
    '%2e%2e',
    '%2E%2E',
    '.%2e',
    '%2e.',
    '%252e%252e',
    '%c0%ae%c0%ae',
    '%e0%80%ae%e0%80%ae',
    '%ef%bc%8e%ef%bc%8e',
    '%u002e%u002e',
    '..%00',
    '...',
    '.. ',
    '..;',
  ]
  const seps = ['/', '%2f', '%2F', '%252f', '\\', '%5c', '%5C', '%c0%af', '%e0%80%af', '//', '/./']
  const names = ['secret.txt', 'root-evil/secret.txt', 'etc/passwd', 'SECRET.TXT', 'Secret.txt']
  const prefixes = ['/', '/sub/', '/sub/deeper/', '/./', '/nope/', '/test.txt/', '/uploads/', '/sub/./deeper/../']
  const targets = new Set<string>()
  for (const prefix of prefixes) {
    for (const dot of dots) {
      for (const sep of seps) {
        for (const depth of [1, 2, 4])
          targets.add(`${prefix}${`${dot}${sep}`.repeat(depth)}${names[depth % names.length]}`)
      }
    }
  }
  // Dot segments in every position, and at the end.
  for (const segment of ['..', '%2e%2e', '.', '%2e']) {
    for (const shape of [
      '/X/secret.txt',
      '/sub/X/X/secret.txt',
      '/sub/X',
      '/X',
      '/sub/deeper/X/X/X/secret.txt',
      '/X/X/X/X/X/etc/passwd',
      '/sub/X/',
    ]) {
      targets.add(shape.replaceAll('X', segment))
    }
  }
  // Symlinks, dotfiles, temp files, absolute paths and forms, NUL, case variants.
  for (const t of [
    '/link-secret',
    '/link-dir/secret.txt',
    '/link-dir/root-evil/secret.txt',
    '/sub/link-up',
    '/abs-link',
    '/evil/secret.txt',
    '/passwd-link',
    '/etc-link/passwd',
    '/LINK-SECRET',
    '/Link-Dir/secret.txt',
    '/link-dir/',
    '/link-dir',
    '/.secret',
    '/sub/.env',
    '/%2esecret',
    '/%2Esecret',
    '/sub/%2eenv',
    '/./.secret',
    '/sub/../.secret',
    '/.SECRET',
    '/uploads/.upload-1-0123456789ab.part',
    '/uploads/%2eupload-1-0123456789ab.part',
    `${outside}/secret.txt`,
    `/${outside}/secret.txt`,
    `//${outside}/secret.txt`,
    `file://${outside}/secret.txt`,
    `http://127.0.0.1${outside}/secret.txt`,
    `http://127.0.0.1/../secret.txt`,
    'http://127.0.0.1/%2e%2e/secret.txt',
    'http://../secret.txt',
    'secret.txt',
    '../secret.txt',
    '..\\secret.txt',
    'C:\\secret.txt',
    '/etc/passwd',
    '//etc/passwd',
    '/%2fetc%2fpasswd',
    '/secret.txt%00.txt',
    '/test.txt%00/../../secret.txt',
    '/test.txt\x00../secret.txt',
    '/%00../secret.txt',
    '/sub%2f..%2f..%2fsecret.txt',
    '/sub\\..\\..\\secret.txt',
    '/?/../../secret.txt',
    '/#/../../secret.txt',
    '/test.txt?../../secret.txt',
    '/%3f/../../secret.txt',
    '/..%252f..%252fsecret.txt',
    '/%25%32%65%25%32%65/secret.txt',
    '/.%2e/.%2e/secret.txt',
    '/%2e%2e%2fsecret.txt',
    '/..%c0%afsecret.txt',
    '/..%c1%9csecret.txt',
    '/%c0%2e%c0%2e/secret.txt',
    '/%f0%80%80%ae%f0%80%80%ae/secret.txt',
    '/..%ff/secret.txt',
    '/ ../secret.txt',
    '/..\t/secret.txt',
  ]) {
    targets.add(t)
  }
  return [...targets]
}

test('no hostile target reads a secret next to the root, a dotfile, a temp file or /etc/passwd, and none gets a 5xx', async () => {
  const running = server as RunningServer
  const targets = hostileTargets()
  const random = createRandom(seedFor('traversal'))
  const statuses = new Map<string, number>()
  const leaks: string[] = []
  const errors: string[] = []
  let requests = 0
  // Each target as HTTP/1.0 GET, HTTP/1.1 GET, HEAD, and HTTP/0.9 (a body-only answer could leak too).
  const forms = (t: string) => [
    `GET ${t} HTTP/1.0\r\n\r\n`,
    `GET ${t} HTTP/1.1\r\nHost: localhost\r\n\r\n`,
    `HEAD ${t} HTTP/1.0\r\n\r\n`,
    `GET ${t}\r\n`,
  ]
  const queue = targets.flatMap((t) => forms(t).map((raw) => ({ t, raw })))
  // Shuffle (seeded) so that the worker's file cache sees the targets in varying orders.
  for (let i = queue.length - 1; i > 0; i--) {
    const j = random.int(i + 1)
    ;[queue[i], queue[j]] = [queue[j]!, queue[i]!]
  }
  let next = 0
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < queue.length) {
        const { raw } = queue[next++]!
        const result = await exchange(running.port, raw, { halfClose: true })
        requests++
        const text = result.raw.toString('latin1') // every byte: an HTTP/0.9 answer has no head to parse
        const key =
          result.status === 0 ? (text.length > 0 ? '0.9 body' : (result.error ?? 'no answer')) : String(result.status)
        statuses.set(key, (statuses.get(key) ?? 0) + 1)
        if (text.includes(SECRET) || text.includes(PASSWD_MARK))
          leaks.push(`${JSON.stringify(raw)} -> ${JSON.stringify(text.slice(0, 200))}`)
        if (result.status >= 500 || result.error === 'timeout')
          errors.push(`${JSON.stringify(raw)} -> ${result.status} ${result.error ?? ''}`)
      }
    }),
  )
  // Controls: the same server does serve the public file, also through a symlink that stays inside.
  const control = await exchange(running.port, 'GET /link-in HTTP/1.0\r\n\r\n', { halfClose: true })
  const summary = [...statuses.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}: ${n}`)
  console.log(
    `[traversal] ${targets.length} hostile targets, ${requests} requests; answers ${summary.join(', ')}; leaks ${leaks.length}`,
  )
  for (const leak of leaks.slice(0, 10)) console.log(`[traversal] LEAK ${leak}`)
  expect(targets.length).toBeGreaterThanOrEqual(500)
  expect(leaks).toEqual([])
  expect(errors).toEqual([])
  expect(control.status).toBe(200)
  expect(control.body.toString('latin1')).toContain('public')
})
