// Baseline for `pnpm bench:compare`: the least a Node static server can do per connection. Two
// processes accept on one port (node:cluster SCHED_NONE: the kernel spreads connections, no
// hand-off), files of --root read into memory at start, a hand parser, HTTP/1.0 with Date,
// Content-Length, Content-Type and Connection: close; no log, no limits, no freshness check.
import cluster from 'node:cluster'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: { port: { type: 'string' }, root: { type: 'string' }, workers: { type: 'string' } },
})
const workers = Number(values.workers ?? 2)
cluster.schedulingPolicy = cluster.SCHED_NONE // read when the first worker is forked

if (cluster.isPrimary) {
  let listening = 0
  for (let i = 0; i < workers; i++) cluster.fork()
  cluster.on('listening', (_worker, address) => {
    if (++listening === workers) console.log(`bare-node listening on http://127.0.0.1:${address.port}`)
  })
  process.on('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers)) worker.process.kill()
    process.exit(0)
  })
} else {
  const TYPES = { '.html': 'text/html', '.txt': 'text/plain', '.json': 'application/json' }
  const root = path.resolve(values.root ?? '.')
  const files = new Map()
  for (const entry of fs.readdirSync(root, { withFileTypes: true })) {
    const type = TYPES[path.extname(entry.name)] ?? 'application/octet-stream'
    if (entry.isFile()) files.set(`/${entry.name}`, { body: fs.readFileSync(path.join(root, entry.name)), type })
  }
  let date = new Date().toUTCString()
  setInterval(() => (date = new Date().toUTCString()), 1000).unref()
  const NOT_FOUND = { body: Buffer.from('not found\n'), type: 'text/plain' }
  const HEAD_END = Buffer.from('\r\n\r\n')

  function answer(socket, head) {
    // Request line: METHOD SP target SP version; the path is the target up to any '?'.
    const line = head.toString('latin1', 0, head.indexOf(13))
    const start = line.indexOf(' ') + 1
    const end = line.indexOf(' ', start)
    const target = line.slice(start, end < 0 ? line.length : end)
    const query = target.indexOf('?')
    const file = files.get(query < 0 ? target : target.slice(0, query))
    const { body, type } = file ?? NOT_FOUND
    const status = file === undefined ? '404 Not Found' : '200 OK'
    const fields = `Date: ${date}\r\nContent-Length: ${body.length}\r\nContent-Type: ${type}\r\nConnection: close`
    socket.cork() // head and body in one writev
    socket.write(`HTTP/1.0 ${status}\r\n${fields}\r\n\r\n`, 'latin1')
    socket.end(line.startsWith('HEAD ') ? undefined : body)
  }

  net
    .createServer((socket) => {
      let pending = null
      socket.on('error', () => {})
      socket.on('data', (chunk) => {
        if (pending === false) return
        pending = pending === null ? chunk : Buffer.concat([pending, chunk])
        if (pending.indexOf(HEAD_END) < 0) return
        answer(socket, pending)
        pending = false
      })
    })
    .listen(Number(values.port ?? 0), '127.0.0.1')
}
