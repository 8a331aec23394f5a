import type { TcpHandle } from '../common/tcp-handle.js'
import type { FleetMember } from './fleet-member.js'

// The ready workers, and which one takes the next connection: round-robin, over each worker's
// hand-off pipe, or over Node's IPC when it has none. With the pipe, the connections accepted in
// one wake-up of the supervisor go to one worker as a batch (up to BATCH_MAX), and the batches go
// round-robin: a worker then wakes once for several connections instead of once per connection,
// which is what costs when there are more workers than cores (docs/performance.md).

/** The most connections one worker takes from one wake-up of the supervisor. */
export const BATCH_MAX = 8
const BATCHING = process.env.THREADSERVE_HANDOFF_BATCH !== '0'

/** taken: a worker has it. full: only full hand-off pipes were left. none: no worker could take it. */
export type HandOut = 'taken' | 'full' | 'none'

export class Rotation {
  #members: FleetMember[] = []
  #next = 0
  #sequence = 0
  #batch: FleetMember | null = null
  #batchSize = 0
  #batchEnds = false
  readonly #endBatch = (): void => {
    this.#batch = null
    this.#batchEnds = false
  }

  get size(): number {
    return this.#members.length
  }

  /** Puts a worker that became ready at the end of the rotation (replacing one with its id). */
  add(member: FleetMember): void {
    this.#members = [...this.#members.filter((m) => m.id !== member.id), member]
  }

  remove(member: FleetMember): void {
    this.#members = this.#members.filter((m) => m !== member)
    if (this.#batch === member) this.#batch = null
  }

  clear(): void {
    this.#members = []
    this.#batch = null
  }

  /** Offers `client` to the batch's worker, then to each ready worker in turn. */
  handOut(client: TcpHandle): HandOut {
    const batch = this.#batch
    if (batch !== null && this.#batchSize < BATCH_MAX && this.#sendOverPipe(batch, client) === 'taken') {
      this.#batchSize++
      return 'taken'
    }
    const members = this.#members
    const count = members.length
    let full = false
    for (let tries = 0; tries < count; tries++) {
      const member = members[this.#next++ % count] as FleetMember
      const overPipe = this.#sendOverPipe(member, client)
      if (overPipe === 'taken') {
        this.#startBatch(member)
        return 'taken'
      }
      if (overPipe === 'full') {
        full = true
        continue
      }
      if (this.#sendOverIpc(member, client)) return 'taken'
    }
    return full ? 'full' : 'none'
  }

  /** 'none': the worker has no usable pipe (Node's IPC is its way), or the write failed. */
  #sendOverPipe(member: FleetMember, client: TcpHandle): HandOut {
    const pipe = member.handOff
    if (pipe === null || !pipe.usable) return 'none'
    if (!pipe.hasRoom) return 'full'
    return pipe.send(client, ++this.#sequence, Date.now()) ? 'taken' : 'none'
  }

  #sendOverIpc(member: FleetMember, client: TcpHandle): boolean {
    const message = { type: 'connection', v: 1, id: ++this.#sequence, acceptedAt: Date.now() } as const
    if (!member.channel.send(message, client, undefined, member.onWritten)) return false
    member.unsent.push(client) // the callback is asynchronous: it always finds it here
    return true
  }

  #startBatch(member: FleetMember): void {
    if (!BATCHING) return
    this.#batch = member
    this.#batchSize = 1
    // The batch ends with this turn of the event loop: every accept of one wake-up runs in its
    // poll phase, and setImmediate runs right after it.
    if (!this.#batchEnds) {
      this.#batchEnds = true
      setImmediate(this.#endBatch)
    }
  }
}
