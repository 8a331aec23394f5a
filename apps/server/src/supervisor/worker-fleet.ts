import type { ChildProcess } from 'node:child_process'
import { availableParallelism } from 'node:os'
import {
  type Channel,
  connectToWorker,
  type SendableHandle,
  type SupervisorMessage,
  type WorkerMessage,
} from '@threadserve/ipc-protocol'
import type { TcpHandle } from '../shared/tcp-handle.js'
import { removeTempFiles } from '../uploads/upload-store.js'
import { forkWorker } from './fork-worker.js'
import type { PermitDesk } from './permit-desk.js'

// The supervisor's workers: forks them, hands connections round-robin to those that are ready,
// restarts the ones that die (with backoff), and gives up loudly on a crash loop instead of
// spinning. Nothing here parses HTTP.

const MAX_PENDING_CONNECTIONS = 4096 // accepted before any worker is ready (start-up, restarts)
const CRASH_LOOP_EXITS = 5 // exits before ready, in a row, on one slot
const QUICK_EXIT_MS = 1000
const MAX_BACKOFF_MS = 5000
const READY_TIMEOUT_MS = 15_000

export interface WorkerPoolOptions {
  readonly count: number
  /** The workers' environment, settings included (THREADSERVE_WORKER_CONFIG). */
  readonly env: NodeJS.ProcessEnv
  /**
   * Worker 1, forked by the command-line entry before the supervisor had loaded (start-up): it
   * takes the slot of the first worker and gets its settings in a 'configure' message.
   */
  readonly preforked: ChildProcess | null
  readonly uploadDir: string
  readonly permits: PermitDesk
  /** A one-line event for the operator (stderr). */
  readonly report: (line: string) => void
  /** The workers cannot start: the server must stop. */
  readonly onCrashLoop: (reason: string) => void
  /** How long a replaced worker may take to finish its requests. */
  readonly graceMs: number
  /**
   * Kernel balancing: the bound, not yet listening, server handle each worker listens and
   * accepts on itself (null: the supervisor accepts and hands sockets over).
   */
  readonly listenHandle: SendableHandle | null
}

interface Worker {
  readonly id: number
  readonly child: ChildProcess
  readonly channel: Channel<WorkerMessage, SupervisorMessage>
  readonly owner: string
  readonly spawnedAt: number
  ready: boolean
  retiring: boolean
  onReady: (() => void) | null
  readyTimer: NodeJS.Timeout | null
  /**
   * Connections dispatched to this worker that Node has not written to its pipe yet, oldest
   * first: Node sends one handle at a time per child and queues the rest until the worker
   * acknowledges the one in flight, so the write callbacks come in dispatch order. If the worker
   * dies meanwhile, Node drops that queue without closing anything.
   */
  unsent: TcpHandle[]
  /** The write callback of every hand-off to this worker (one function, not one per connection). */
  onWritten: (error: Error | null) => void
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal === null ? `exited with code ${code}` : `was killed by ${signal}`
}

export class WorkerPool {
  readonly #options: WorkerPoolOptions
  readonly #slots: (Worker | null)[]
  readonly #earlyExits: number[]
  readonly #quickExits: number[]
  readonly #retiring = new Set<Worker>()
  #rotation: Worker[] = []
  #next = 0
  #pending: TcpHandle[] = []
  #sequence = 0
  #stopping = false
  readonly #cleanups = new Set<Promise<number>>()
  #restarts = 0
  #preforked: ChildProcess | null

  constructor(options: WorkerPoolOptions) {
    this.#options = options
    this.#preforked = options.preforked
    this.#slots = Array.from({ length: options.count }, () => null)
    this.#earlyExits = Array.from({ length: options.count }, () => 0)
    this.#quickExits = Array.from({ length: options.count }, () => 0)
  }

  get restarts(): number {
    return this.#restarts
  }

  get pendingConnections(): number {
    return this.#pending.length
  }

  /**
   * Forks every worker; resolves once all of them are ready. The first starts alone: forked all at
   * once, the workers share the cores while loading their modules and none is ready until nearly
   * all are. Connections accepted meanwhile wait in the supervisor for the first ready worker.
   * The others then start at most (cores - 1) at a time, so that booting ones leave a core to
   * the worker already serving.
   */
  async start(): Promise<void> {
    await this.#spawn(1)
    const rest = this.#slots.slice(1).map((_, index) => index + 2)
    const lanes = Math.max(1, availableParallelism() - 1)
    await Promise.all(
      Array.from({ length: Math.min(lanes, rest.length) }, async () => {
        for (let id = rest.shift(); id !== undefined; id = rest.shift()) await this.#spawn(id)
      }),
    )
  }

  /**
   * Hands an accepted connection to the next ready worker (or keeps it until one is). Once Node
   * has written it to the worker's pipe, the descriptor travels in the pipe and our copy is
   * closed; if the worker dies first, the connection goes to another worker, untouched.
   */
  dispatch(client: TcpHandle): void {
    const rotation = this.#rotation
    const count = rotation.length
    for (let tries = 0; tries < count; tries++) {
      const worker = rotation[this.#next++ % count] as Worker
      const message = { type: 'connection', v: 1, id: ++this.#sequence, acceptedAt: Date.now() } as const
      if (worker.channel.send(message, client, undefined, worker.onWritten)) {
        worker.unsent.push(client) // the callback is asynchronous: it always finds it here
        return
      }
    }
    if (this.#pending.length >= MAX_PENDING_CONNECTIONS || this.#stopping) {
      client.close()
      return
    }
    this.#pending.push(client)
  }

  /** SIGHUP: replace each worker by a fresh one, one at a time, never leaving a slot empty. */
  async replaceAll(): Promise<void> {
    for (let index = 0; index < this.#slots.length && !this.#stopping; index++) {
      const old = this.#slots[index]
      await this.#spawn(index + 1) // the old worker keeps serving until its successor is ready
      if (old !== null && old !== undefined) this.#retire(old, Date.now() + this.#options.graceMs)
    }
  }

  /** Asks every worker to finish in-flight requests by `deadline`; resolves when all have exited. */
  async stop(deadline: number): Promise<void> {
    this.#stopping = true
    for (const client of this.#pending) client.close()
    this.#pending = []
    const everyone = [...this.#slots.filter((w): w is Worker => w !== null), ...this.#retiring]
    this.#rotation = []
    await Promise.all(
      everyone.map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.child.exitCode !== null || worker.child.signalCode !== null) return resolve()
            worker.child.once('exit', () => resolve())
            // Not ready yet: it holds no connection, and may not listen for 'shutdown' yet either.
            if (!worker.ready) {
              worker.child.kill('SIGKILL')
              return
            }
            worker.channel.send({ type: 'shutdown', v: 1, deadline })
            // A worker that ignores its deadline is cut off a moment after it.
            setTimeout(() => worker.child.kill('SIGKILL'), Math.max(0, deadline - Date.now()) + 1000).unref()
          }),
      ),
    )
    await Promise.all(this.#cleanups) // temp files of workers that were cut off
  }

  /** Sends a message to every live worker (log reopen). */
  broadcast(message: SupervisorMessage): void {
    for (const worker of this.#slots) worker?.channel.send(message)
  }

  /** Process ids and readiness of the current workers. */
  describe(): { id: number; pid: number | undefined; ready: boolean }[] {
    return this.#slots
      .filter((w): w is Worker => w !== null)
      .map((w) => ({ id: w.id, pid: w.child.pid, ready: w.ready }))
  }

  /**
   * The early-forked worker, once, for slot 1's first start. One that died before we got here
   * (its 'exit' came before anyone listened) is not used: slot 1 forks a new one at once.
   */
  #takePreforked(): ChildProcess | null {
    const child = this.#preforked
    this.#preforked = null
    if (child === null || child.exitCode !== null || child.signalCode !== null || !child.connected) return null
    return child
  }

  #spawn(id: number): Promise<void> {
    const preforked = id === 1 ? this.#takePreforked() : null
    const child = preforked ?? forkWorker(id, this.#options.env)
    const owner = `w${id}:${child.pid ?? 'unknown'}`
    const channel = connectToWorker(child, {
      onInvalid: (error) => this.#options.report(`worker ${id} sent a bad IPC message: ${error.message}`),
    })
    if (preforked !== null) {
      // It asks (repeatedly, see worker.ts) once it has loaded; until now nobody was listening.
      const settings = this.#options.env.THREADSERVE_WORKER_CONFIG ?? ''
      let configured = false
      channel.on('settings-request', () => {
        if (configured) return
        configured = true
        channel.send({ type: 'configure', v: 1, settings })
      })
    }
    const worker: Worker = {
      id,
      child,
      channel,
      owner,
      spawnedAt: Date.now(),
      ready: false,
      retiring: false,
      onReady: null,
      readyTimer: null,
      unsent: [],
      onWritten: (error) => {
        const client = worker.unsent.shift()
        if (client === undefined) return // the worker died first; #onExit took them back
        // Written: close our copy. Not written (the pipe broke): the worker never had it.
        if (error === null) client.close()
        else this.dispatch(client)
      },
    }
    this.#slots[id - 1] = worker

    channel.on('permit-request', (message) => {
      const decision = this.#options.permits.request(owner)
      if (decision.granted) {
        channel.send({ type: 'permit-grant', v: 1, requestId: message.requestId, permitId: decision.permitId })
      } else {
        channel.send({
          type: 'permit-deny',
          v: 1,
          requestId: message.requestId,
          retryAfterSeconds: decision.retryAfterSeconds,
        })
      }
    })
    channel.on('permit-release', (message) => this.#options.permits.release(owner, message.permitId))
    child.on('error', (error) => this.#options.report(`worker ${id}: ${error.message}`))
    child.on('exit', (code, signal) => this.#onExit(worker, code, signal))

    return new Promise<void>((resolve) => {
      worker.readyTimer = setTimeout(() => {
        this.#options.report(`worker ${id} (pid ${child.pid}) not ready after ${READY_TIMEOUT_MS} ms; replacing it`)
        child.kill('SIGKILL')
      }, READY_TIMEOUT_MS)
      worker.onReady = resolve
      const listenHandle = this.#options.listenHandle
      if (listenHandle !== null) {
        // Kernel balancing: ready means "accepting on the shared handle", not just "started".
        channel.on('ready', () => {
          if (!this.#stopping && !worker.retiring) channel.send({ type: 'listen', v: 1 }, listenHandle)
        })
      }
      channel.on(listenHandle === null ? 'ready' : 'listening', () => {
        if (worker.ready || worker.retiring) return
        worker.ready = true
        if (worker.readyTimer !== null) clearTimeout(worker.readyTimer)
        this.#earlyExits[id - 1] = 0
        this.#rotation = [...this.#rotation.filter((w) => w.id !== id), worker]
        this.#flushPending()
        const done = worker.onReady
        worker.onReady = null
        done?.()
      })
    })
  }

  #retire(worker: Worker, deadline: number): void {
    worker.retiring = true
    this.#retiring.add(worker)
    this.#rotation = this.#rotation.filter((w) => w !== worker)
    worker.channel.send({ type: 'shutdown', v: 1, deadline })
  }

  #flushPending(): void {
    const pending = this.#pending
    this.#pending = []
    for (const client of pending) this.dispatch(client)
  }

  #onExit(worker: Worker, code: number | null, signal: NodeJS.Signals | null): void {
    if (worker.readyTimer !== null) clearTimeout(worker.readyTimer)
    worker.channel.close()
    this.#rotation = this.#rotation.filter((w) => w !== worker)
    this.#retiring.delete(worker)
    // Connections still queued for it were never sent, so nothing has read from them: another
    // worker serves them. (One already written but not yet taken is lost with the dead worker's
    // pipe: the kernel closes it and the client sees a reset.)
    const unsent = worker.unsent
    worker.unsent = []
    for (const client of unsent) this.dispatch(client)
    const returned = this.#options.permits.releaseAll(worker.owner)
    const cleanup = removeTempFiles(this.#options.uploadDir, worker.child.pid).finally(() =>
      this.#cleanups.delete(cleanup),
    )
    this.#cleanups.add(cleanup)
    const index = worker.id - 1
    if (this.#stopping || worker.retiring || this.#slots[index] !== worker) return

    const how = describeExit(code, signal)
    const permits = returned > 0 ? `, ${returned} upload permit(s) returned` : ''
    if (!worker.ready) {
      const early = ++this.#earlyExits[index]!
      if (early >= CRASH_LOOP_EXITS) {
        this.#stopping = true
        this.#options.onCrashLoop(`worker ${worker.id} ${how} ${early} times in a row before it was ready`)
        return
      }
    }
    const lived = Date.now() - worker.spawnedAt
    this.#quickExits[index] = lived < QUICK_EXIT_MS ? this.#quickExits[index]! + 1 : 0
    const quick = this.#quickExits[index]!
    const delay = quick === 0 ? 0 : Math.min(MAX_BACKOFF_MS, 50 * 2 ** quick)
    this.#options.report(`worker ${worker.id} (pid ${worker.child.pid}) ${how}${permits}; restarting in ${delay} ms`)
    this.#restarts++
    this.#slots[index] = null
    setTimeout(() => {
      if (!this.#stopping && this.#slots[index] === null) {
        const wasOnReady = worker.onReady
        void this.#spawn(worker.id).then(() => wasOnReady?.())
      }
    }, delay).unref()
  }
}
