// `node dist/hash-password.js <user>`: reads a password from stdin and prints the `user:hash` line
// an `--upload-auth` file holds (so the password never appears in argv or shell history).
import { text } from 'node:stream/consumers'
import { hashPassword } from './auth/basic-auth.js'

const user = process.argv[2] ?? ''
if (user === '' || user.includes(':')) {
  process.stderr.write('usage: node dist/hash-password.js <user>  (password on stdin)\n')
  process.exit(2)
}
const password = (await text(process.stdin)).replace(/\r?\n$/, '')
if (password === '') {
  process.stderr.write('hash-password: empty password\n')
  process.exit(2)
}
process.stdout.write(`${user}:${hashPassword(password)}\n`)
