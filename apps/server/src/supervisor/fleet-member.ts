import type { ChildProcess } from 'node:child_process'
import type { Channel, SupervisorMessage, WorkerMessage } from '@threadserve/ipc-protocol'
import type { TcpHandle } from '../common/tcp-handle.js'
import type { HandOffSender } from './hand-off-sender.js'

// One worker process as the fleet sees it: its channel, its state, and the connections handed
// to it that Node has not yet written to its pipe.

/**
 * starting: forked, not yet serving (no connection goes to it). ready: in the rotation.
 * retiring: replaced (SIGHUP) or the server is stopping; it finishes what it has, then exits.
 */
export type MemberState = 'starting' | 'ready' | 'retiring'

export interface FleetMember {
  readonly id: number
  readonly child: ChildProcess
  readonly channel: Channel<WorkerMessage, SupervisorMessage>
  /** Who holds its upload permits at the permit desk: `w<id>:<pid>`. */
  readonly owner: string
  readonly spawnedAt: number
  state: MemberState
  /** Resolves the promise of the start that forked it, once it is ready (or replaced). */
  onReady: (() => void) | null
  readyTimer: NodeJS.Timeout | null
  /**
   * Connections dispatched to this worker that Node has not written to its pipe yet, oldest
   * first: Node sends one handle at a time per child and queues the rest until the worker
   * acknowledges the one in flight, so the write callbacks come in dispatch order. If the worker
   * dies meanwhile, Node drops that queue without closing anything.
   */
  unsent: TcpHandle[]
  /**
   * Its hand-off pipe: how connections reach it by default. Null, or no longer usable, when they
   * go as 'connection' messages over Node's IPC instead (the `channel`; `unsent` and `onWritten`).
   */
  readonly handOff: HandOffSender | null
  /** The write callback of every hand-off to this worker over Node's IPC (one function, not one per connection). */
  onWritten: (error: Error | null) => void
}

/** True once the process has ended (its exit code or signal is known). */
export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null
}

export function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal === null ? `exited with code ${code}` : `was killed by ${signal}`
}
