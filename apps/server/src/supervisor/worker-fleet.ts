import { availableParallelism } from 'node:os'
import { connectToWorker, type SendableHandle, type SupervisorMessage } from '@threadserve/ipc-protocol'
import { createHandOffPair, type HandOffPair } from '../common/hand-off-pair.js'
import { handOffPipes } from '../common/node-internals.js'
import type { TcpHandle } from '../common/tcp-handle.js'
import { WORKER_CONFIG_ENV } from '../common/worker-env.js'
import { removeWorkerTempFiles } from '../uploads/temp-files.js'
import { describeExit, type FleetMember, hasExited } from './fleet-member.js'
import { sampleMembers, type WorkerSample } from './fleet-sample.js'
import { forkWorker, type PreforkedWorker } from './fork-worker.js'
import { HandOffSender } from './hand-off-sender.js'
import type { HealthDesk } from './health-desk.js'
import type { PermitDesk } from './permit-desk.js'
import { decideRestart, type ExitHistory, NO_EXITS } from './restart-policy.js'
import { Rotation } from './rotation.js'

// The supervisor's worker processes: forks them, hands connections round-robin to those that
// are ready, restarts the ones that die (restart-policy.ts), and gives up loudly on a crash
// loop instead of spinning. Nothing here parses HTTP.

const MAX_PENDING_CONNECTIONS = 4096 // accepted before any worker is ready (start-up, restarts)
const READY_TIMEOUT_MS = 15_000

export type { WorkerSample }

export interface WorkerFleetOptions {
  readonly count: number
  /** The workers' environment, settings included (WORKER_CONFIG_ENV). */
  readonly env: NodeJS.ProcessEnv
  /**
   * Worker 1, forked by the command-line entry before the supervisor had loaded (start-up): it
   * takes the slot of the first worker and gets its settings in a 'configure' message.
   */
  readonly preforked: PreforkedWorker | null
  readonly uploadDir: string
  readonly permits: PermitDesk
  /** Answers the workers' health requests (--health-path). */
  readonly health: HealthDesk
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

export class WorkerFleet {
  readonly #options: WorkerFleetOptions
  readonly #slots: (FleetMember | null)[]
  readonly #history: ExitHistory[]
  readonly #retiring = new Set<FleetMember>()
  readonly #rotation = new Rotation()
  #pending: TcpHandle[] = []
  #stopping = false
  readonly #cleanups = new Set<Promise<number>>()
  #restarts = 0
  #preforked: PreforkedWorker | null
  readonly #readyCount = (): number => this.#rotation.size

  constructor(options: WorkerFleetOptions) {
    this.#options = options
    this.#preforked = options.preforked
    this.#slots = Array.from({ length: options.count }, () => null)
    this.#history = Array.from({ length: options.count }, () => NO_EXITS)
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
   * Hands an accepted connection to the next ready worker (or keeps it until one is): over its
   * hand-off pipe (a 16-byte frame with the descriptor), or as a 'connection' message over Node's
   * IPC when it has none. Once written, the descriptor travels in the pipe and our copy is
   * closed; if the worker dies first, the connection goes to another worker, untouched. A worker
   * whose pipe is full (it stopped reading) is skipped; if all are, the connection is closed.
   */
  dispatch(client: TcpHandle): void {
    const outcome = this.#rotation.handOut(client)
    if (outcome === 'taken') return
    if (outcome === 'full' || this.#pending.length >= MAX_PENDING_CONNECTIONS || this.#stopping) {
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
    const everyone = [...this.#members(), ...this.#retiring]
    this.#rotation.clear()
    await Promise.all(everyone.map((member) => this.#stopMember(member, deadline)))
    await Promise.all(this.#cleanups) // temp files of workers that were cut off
  }

  /** Sends a message to every live worker (log reopen). */
  broadcast(message: SupervisorMessage): void {
    for (const member of this.#slots) member?.channel.send(message)
  }

  /** What SIGUSR2 prints about the workers (fleet-sample.ts). */
  sample(timeoutMs: number): Promise<WorkerSample[]> {
    return sampleMembers(this.#members(), timeoutMs)
  }

  #members(): FleetMember[] {
    return this.#slots.filter((m): m is FleetMember => m !== null)
  }

  #stopMember(member: FleetMember, deadline: number): Promise<void> {
    return new Promise<void>((resolve) => {
      if (hasExited(member.child)) return resolve()
      member.child.once('exit', () => resolve())
      // Not ready yet: it holds no connection, and may not listen for 'shutdown' yet either.
      if (member.state === 'starting') {
        member.child.kill('SIGKILL')
        return
      }
      this.#sendShutdown(member, deadline)
      // A worker that ignores its deadline is cut off a moment after it.
      setTimeout(() => member.child.kill('SIGKILL'), Math.max(0, deadline - Date.now()) + 1000).unref()
    })
  }

  /**
   * The early-forked worker, once, for slot 1's first start. One that died before we got here
   * (its 'exit' came before anyone listened) is not used: slot 1 forks a new one at once.
   */
  #takePreforked(): PreforkedWorker | null {
    const preforked = this.#preforked
    this.#preforked = null
    if (preforked === null) return null
    const { child, handOff } = preforked
    const usable = !hasExited(child) && child.connected
    // Kernel balancing needs no hand-off pipe; nor does a worker we do not use.
    if (handOff !== null && (!usable || this.#options.listenHandle !== null)) handOff.close()
    if (!usable) return null
    return this.#options.listenHandle === null ? preforked : { child, handOff: null }
  }

  /** A worker forked with a fresh hand-off pair, unless kernel balancing (or the fallback) needs none. */
  async #fork(id: number): Promise<PreforkedWorker> {
    const pair: HandOffPair | null = this.#options.listenHandle === null ? await createHandOffPair() : null
    return { child: forkWorker(id, this.#options.env, pair), handOff: pair?.sender ?? null }
  }

  async #spawn(id: number): Promise<void> {
    const preforked = id === 1 ? this.#takePreforked() : null
    const { child, handOff } = preforked ?? (await this.#fork(id))
    if (this.#stopping && preforked === null) {
      // Stopped while the pair was made: nobody would stop this one.
      handOff?.close()
      child.kill('SIGKILL')
      return
    }
    const owner = `w${id}:${child.pid ?? 'unknown'}`
    const channel = connectToWorker(child, {
      onInvalid: (error) => this.#options.report(`worker ${id} sent a bad IPC message: ${error.message}`),
    })
    if (preforked !== null) this.#configure(channel)
    const member: FleetMember = {
      id,
      child,
      channel,
      owner,
      spawnedAt: Date.now(),
      state: 'starting',
      onReady: null,
      readyTimer: null,
      unsent: [],
      handOff:
        handOff === null || handOffPipes === null
          ? null
          : new HandOffSender(handOff, handOffPipes, (client) => this.dispatch(client)),
      onWritten: (error) => {
        const client = member.unsent.shift()
        if (client === undefined) return // the worker died first; #onExit took them back
        // Written: close our copy. Not written (the pipe broke): the worker never had it.
        if (error === null) client.close()
        else this.dispatch(client)
      },
    }
    this.#slots[id - 1] = member
    this.#options.permits.serve(channel, owner)
    this.#options.health.serve(channel, this.#readyCount)
    child.on('error', (error) => this.#options.report(`worker ${id}: ${error.message}`))
    child.on('exit', (code, signal) => this.#onExit(member, code, signal))

    return new Promise<void>((resolve) => {
      member.readyTimer = setTimeout(() => {
        this.#options.report(`worker ${id} (pid ${child.pid}) not ready after ${READY_TIMEOUT_MS} ms; replacing it`)
        child.kill('SIGKILL')
      }, READY_TIMEOUT_MS)
      member.onReady = resolve
      const listenHandle = this.#options.listenHandle
      if (listenHandle !== null) {
        // Kernel balancing: ready means "accepting on the shared handle", not just "started".
        channel.on('ready', () => {
          if (!this.#stopping && member.state !== 'retiring') channel.send({ type: 'listen', v: 1 }, listenHandle)
        })
      }
      channel.on(listenHandle === null ? 'ready' : 'listening', () => this.#onReady(member))
    })
  }

  /** The early-forked worker asks (repeatedly, see worker/receive-settings.ts) once it has loaded. */
  #configure(channel: FleetMember['channel']): void {
    const settings = this.#options.env[WORKER_CONFIG_ENV] ?? ''
    let configured = false
    channel.on('settings-request', () => {
      if (configured) return
      configured = true
      channel.send({ type: 'configure', v: 1, settings })
    })
  }

  #onReady(member: FleetMember): void {
    if (member.state !== 'starting') return
    member.state = 'ready'
    if (member.readyTimer !== null) clearTimeout(member.readyTimer)
    this.#rotation.add(member)
    this.#flushPending()
    const done = member.onReady
    member.onReady = null
    done?.()
  }

  #retire(member: FleetMember, deadline: number): void {
    member.state = 'retiring'
    this.#retiring.add(member)
    this.#rotation.remove(member)
    this.#sendShutdown(member, deadline)
  }

  /** 'shutdown', once the worker has read every connection already in its hand-off pipe. */
  #sendShutdown(member: FleetMember, deadline: number): void {
    const flushed = member.handOff?.finish(Math.max(0, deadline - Date.now())) ?? Promise.resolve()
    void flushed.then(() => member.channel.send({ type: 'shutdown', v: 1, deadline }))
  }

  #flushPending(): void {
    const pending = this.#pending
    this.#pending = []
    for (const client of pending) this.dispatch(client)
  }

  #onExit(member: FleetMember, code: number | null, signal: NodeJS.Signals | null): void {
    if (member.readyTimer !== null) clearTimeout(member.readyTimer)
    member.channel.close()
    this.#rotation.remove(member)
    this.#retiring.delete(member)
    member.handOff?.close() // writes still queued come back to dispatch(), cancelled
    // Connections still queued for it were never sent, so nothing has read from them: another
    // worker serves them. (One already written but not yet taken is lost with the dead worker's
    // pipe: the kernel closes it and the client sees a reset.)
    const unsent = member.unsent
    member.unsent = []
    for (const client of unsent) this.dispatch(client)
    const returned = this.#options.permits.releaseAll(member.owner)
    // A worker whose fork failed has no pid, and so no temp files.
    const pid = member.child.pid
    const removing = pid === undefined ? Promise.resolve(0) : removeWorkerTempFiles(this.#options.uploadDir, pid)
    const cleanup = removing.finally(() => this.#cleanups.delete(cleanup))
    this.#cleanups.add(cleanup)
    const index = member.id - 1
    if (this.#stopping || member.state === 'retiring' || this.#slots[index] !== member) return

    const how = describeExit(code, signal)
    const decision = decideRestart(
      this.#history[index] ?? NO_EXITS,
      member.state === 'ready',
      Date.now() - member.spawnedAt,
    )
    this.#history[index] = decision.history
    if (decision.kind === 'give-up') {
      this.#stopping = true
      const times = decision.history.earlyExits
      this.#options.onCrashLoop(`worker ${member.id} ${how} ${times} times in a row before it was ready`)
      return
    }
    const permits = returned > 0 ? `, ${returned} upload permit(s) returned` : ''
    this.#options.report(
      `worker ${member.id} (pid ${member.child.pid}) ${how}${permits}; restarting in ${decision.delayMs} ms`,
    )
    this.#restarts++
    this.#slots[index] = null
    setTimeout(() => {
      if (!this.#stopping && this.#slots[index] === null) {
        const wasOnReady = member.onReady
        void this.#spawn(member.id).then(() => wasOnReady?.())
      }
    }, decision.delayMs).unref()
  }
}
