// Baseline for `pnpm bench:compare`: plain node:cluster + node:http, GET from --root, and POST
// stored durably before the 201 the way docs/design.md asks of ThreadServe: temp file, fsync, rename,
// fsync of the directory (without the last step a crash can lose the rename, and the file).
import cluster from 'node:cluster'
import { randomUUID } from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    root: { type: 'string' },
    'upload-dir': { type: 'string' },
    workers: { type: 'string' },
  },
})
const root = path.resolve(values.root ?? '.')
const uploads = path.resolve(values['upload-dir'] ?? '.')
const workers = Number(values.workers ?? 2)
const reply = (res, status, body = '') => res.writeHead(status, { 'Content-Length': Buffer.byteLength(body) }).end(body)

function syncDirectory(done) {
  fs.open(uploads, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY, (error, fd) => {
    if (error) return done()
    fs.fsync(fd, () => fs.close(fd, done))
  })
}

function upload(req, res) {
  const name = randomUUID()
  const temp = path.join(uploads, `.${name}.tmp`)
  fs.open(temp, 'wx', (error, fd) => {
    if (error) return reply(res, 500, 'cannot store')
    req.pipe(fs.createWriteStream('', { fd, autoClose: false })).on('finish', () => {
      fs.fsync(fd, () =>
        fs.close(fd, () => fs.rename(temp, path.join(uploads, name), () => syncDirectory(() => reply(res, 201)))),
      )
    })
  })
}

function serve(req, res) {
  if (req.method === 'POST') return upload(req, res)
  const file = path.join(root, path.normalize(decodeURIComponent(req.url.split('?')[0])))
  fs.stat(file, (error, stat) => {
    if (error || !stat.isFile() || !file.startsWith(root)) return reply(res, 404, 'not found')
    res.writeHead(200, { 'Content-Length': stat.size })
    fs.createReadStream(file).pipe(res)
  })
}

if (cluster.isPrimary) {
  let listening = 0
  for (let i = 0; i < workers; i++) cluster.fork()
  cluster.on('listening', (_worker, address) => {
    if (++listening === workers) console.log(`node-cluster listening on http://127.0.0.1:${address.port}`)
  })
  process.on('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers)) worker.process.kill()
    process.exit(0)
  })
} else http.createServer(serve).listen(Number(values.port ?? 0), '127.0.0.1')
