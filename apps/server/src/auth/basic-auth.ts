import { createHash, randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { Semaphore } from '@threadserve/locking'
import { UsageError } from '../config/usage-error.js'

// HTTP Basic authentication (RFC 7617; RFC 1945 §11.1) for uploads, or for everything.
//
// Passwords are kept as scrypt hashes (node:crypto, memory-hard, no dependency), in a
// PHC-style string `$scrypt$ln=14,r=8,p=1$<salt base64>$<key base64>`. A fast hash (sha256)
// would let anyone who reads the password file try billions of guesses a second. scrypt costs
// ~16 MiB and tens of ms per check, so each worker remembers the last credentials it accepted
// (keyed by their sha256, never stored as text) and only a new or wrong password pays it.

/** One `user:hash` entry; plain data, so it travels to the workers inside the config JSON. */
export interface Credential {
  readonly user: string
  readonly hash: string
}

/** RFC 7617 §2 challenge; `charset` says we decode user and password as UTF-8. */
export const BASIC_CHALLENGE = 'Basic realm="ThreadServe", charset="UTF-8"'

const HASH_FORMAT = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/
const DEFAULT_LOG2_COST = 14
const MAX_LOG2_COST = 16
const KEY_BYTES = 32
const CACHE_ENTRIES = 256

interface ScryptParams {
  readonly cost: number
  readonly blockSize: number
  readonly parallelization: number
  readonly maxmem: number
}

interface ParsedHash {
  readonly params: ScryptParams
  readonly salt: Buffer
  readonly key: Buffer
}

function scryptParams(log2Cost: number, blockSize: number, parallelization: number): ScryptParams {
  const cost = 2 ** log2Cost
  return { cost, blockSize, parallelization, maxmem: 256 * cost * blockSize + 1024 * 1024 }
}

function parseHash(hash: string): ParsedHash | null {
  const match = HASH_FORMAT.exec(hash)
  if (match === null) return null
  const [, ln, r, p, salt = '', key = ''] = match
  const log2Cost = Number(ln)
  const blockSize = Number(r)
  const parallelization = Number(p)
  if (log2Cost < 10 || log2Cost > MAX_LOG2_COST || blockSize < 1 || blockSize > 16) return null
  if (parallelization < 1 || parallelization > 4) return null
  const keyBytes = Buffer.from(key, 'base64')
  const saltBytes = Buffer.from(salt, 'base64')
  if (keyBytes.length < 16 || saltBytes.length < 8) return null
  return { params: scryptParams(log2Cost, blockSize, parallelization), salt: saltBytes, key: keyBytes }
}

/**
 * Hashes a password into the format `--upload-auth` files hold (random salt, ln=14, r=8, p=1).
 * @example
 * hashPassword('s3cret') // '$scrypt$ln=14,r=8,p=1$Ss2k…$Vb1Q…'
 */
export function hashPassword(password: string): string {
  const salt = randomBytes(16)
  const params = scryptParams(DEFAULT_LOG2_COST, 8, 1)
  const key = scryptSync(password.normalize('NFC'), salt, KEY_BYTES, {
    cost: params.cost,
    blockSize: params.blockSize,
    parallelization: params.parallelization,
    maxmem: params.maxmem,
  })
  return `$scrypt$ln=${DEFAULT_LOG2_COST},r=8,p=1$${salt.toString('base64')}$${key.toString('base64')}`
}

function isValidUser(user: string): boolean {
  // RFC 7617 §2: the user-id cannot contain a colon, and neither may carry control characters.
  if (user === '') return false
  for (let i = 0; i < user.length; i++) {
    const code = user.charCodeAt(i)
    if (code === 0x3a || code < 0x20 || code === 0x7f) return false
  }
  return true
}

/**
 * Reads the `--upload-auth` value: `user:password` (it has a colon), or else the path of a file of
 * `user:hash` lines (blank lines and `#` comments ignored). Throws UsageError (exit 2) for anything
 * unusable, so a typo never starts a server that is open by mistake.
 */
export function loadCredentials(value: string, baseDir: string, source: string): Credential[] {
  const colon = value.indexOf(':')
  if (colon >= 0) {
    const user = value.slice(0, colon)
    const password = value.slice(colon + 1)
    if (!isValidUser(user) || password === '') throw new UsageError(`${source}: expected user:password`)
    return [{ user, hash: hashPassword(password) }]
  }
  const file = path.resolve(baseDir, value)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new UsageError(`${source}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`)
  }
  const credentials: Credential[] = []
  for (const [index, rawLine] of text.split('\n').entries()) {
    const line = rawLine.trim()
    if (line === '' || line.startsWith('#')) continue
    const sep = line.indexOf(':')
    const user = sep < 0 ? '' : line.slice(0, sep)
    const hash = sep < 0 ? '' : line.slice(sep + 1)
    if (!isValidUser(user) || parseHash(hash) === null) {
      throw new UsageError(`${source}: ${file} line ${index + 1}: expected user:$scrypt$ln=…,r=…,p=…$salt$key`)
    }
    credentials.push({ user, hash })
  }
  if (credentials.length === 0) throw new UsageError(`${source}: ${file} has no user:hash lines`)
  return credentials
}

function sha256(data: string | Buffer): Buffer {
  return createHash('sha256').update(data).digest()
}

function deriveKey(password: string, hash: ParsedHash): Promise<Buffer> {
  const { cost, blockSize, parallelization, maxmem } = hash.params
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize('NFC'),
      hash.salt,
      hash.key.length,
      { cost, blockSize, parallelization, maxmem },
      (error, key) => (error === null ? resolve(key) : reject(error)),
    )
  })
}

interface Account {
  readonly userDigest: Buffer
  readonly hash: ParsedHash
}

/** The user and password of an `Authorization: Basic …` header, or null when it is not one. */
export function parseBasicAuthorization(header: string | undefined): { user: string; password: string } | null {
  if (header === undefined) return null
  const match = /^basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header)
  if (match === null) return null
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return null
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
}

/** The outcome of a check: `busy` when too many checks are already waiting (answer 503). */
export type Verdict = 'ok' | 'denied' | 'busy'

// scrypt runs on libuv's thread pool (4 threads by default), which file I/O needs too: a flood of
// Authorization headers must not fill it. At most this many checks run at once per worker, this
// many more wait their turn, and beyond that the answer is `busy`.
const MAX_RUNNING_CHECKS = 2
const MAX_WAITING_CHECKS = 64
const CHECK_OWNER = 'basic-auth'

/** Checks `Authorization` headers against a set of credentials; one per worker (it caches). */
export class BasicAuthenticator {
  readonly #accounts: Account[]
  readonly #decoy: ParsedHash
  readonly #accepted = new Set<string>()
  // Recent failures, so repeating a wrong password costs a hash lookup, not another scrypt.
  readonly #rejected = new Set<string>()
  // A permit is handed straight to the first waiter on release, so a new check cannot slip in
  // between and make it three running.
  readonly #checks = new Semaphore(MAX_RUNNING_CHECKS)

  constructor(credentials: readonly Credential[]) {
    this.#accounts = []
    for (const { user, hash } of credentials) {
      const parsed = parseHash(hash)
      if (parsed !== null) this.#accounts.push({ userDigest: sha256(user), hash: parsed })
    }
    // An unknown user still pays a full scrypt, so response time does not tell which users exist.
    this.#decoy = this.#accounts[0]?.hash ?? (parseHash(hashPassword(randomBytes(16).toString('hex'))) as ParsedHash)
  }

  /** Whether the header carries a known user with the right password (or `busy`: try again). */
  async verify(authorization: string | undefined): Promise<Verdict> {
    const given = parseBasicAuthorization(authorization)
    if (given === null) return 'denied'
    const cacheKey = sha256(`${given.user}\0${given.password}`).toString('hex')
    if (this.#accepted.has(cacheKey)) return 'ok'
    if (this.#rejected.has(cacheKey)) return 'denied'
    if (!this.#checks.tryAcquire(CHECK_OWNER)) {
      if (this.#checks.waiting >= MAX_WAITING_CHECKS) return 'busy'
      await this.#checks.acquire(CHECK_OWNER)
    }
    try {
      const ok = await this.#check(given.user, given.password)
      remember(ok ? this.#accepted : this.#rejected, cacheKey)
      return ok ? 'ok' : 'denied'
    } finally {
      this.#checks.release(CHECK_OWNER)
    }
  }

  async #check(user: string, password: string): Promise<boolean> {
    // Compare fixed-length digests in constant time, and look at every account (no early exit).
    const userDigest = sha256(user)
    let account: Account | null = null
    for (const candidate of this.#accounts) {
      if (timingSafeEqual(candidate.userDigest, userDigest) && account === null) account = candidate
    }
    const hash = account?.hash ?? this.#decoy
    const key = await deriveKey(password, hash)
    return timingSafeEqual(key, hash.key) && account !== null
  }
}

function remember(cache: Set<string>, key: string): void {
  if (cache.size >= CACHE_ENTRIES) cache.clear()
  cache.add(key)
}
