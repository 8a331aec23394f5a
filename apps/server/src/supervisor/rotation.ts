import type { TcpHandle } from '../common/tcp-handle.js'
import type { FleetMember } from './fleet-member.js'

// The ready workers, and which one takes the next connection: round-robin, over each worker's
// hand-off pipe, or over Node's IPC when it has none. (Batches, the connections of one supervisor
// wake-up to one worker, were tried and measured no better: docs/performance.md.)

/** taken: a worker has it. full: only full hand-off pipes were left. none: no worker could take it. */
export type HandOut = 'taken' | 'full' | 'none'

export class Rotation {
  #members: FleetMember[] = []
  #next = 0
  #sequence = 0

  get size(): number {
    return this.#members.length
  }

  /** Puts a worker that became ready at the end of the rotation (replacing one with its id). */
  add(member: FleetMember): void {
    this.#members = [...this.#members.filter((m) => m.id !== member.id), member]
  }

  remove(member: FleetMember): void {
    this.#members = this.#members.filter((m) => m !== member)
  }

  clear(): void {
    this.#members = []
  }

  /** Offers `client` to each ready worker in turn, starting after the one that took the last. */
  handOut(client: TcpHandle): HandOut {
    const members = this.#members
    const count = members.length
    let full = false
    for (let tries = 0; tries < count; tries++) {
      const member = members[this.#next++ % count] as FleetMember
      const overPipe = this.#sendOverPipe(member, client)
      if (overPipe === 'taken') return 'taken'
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
}
