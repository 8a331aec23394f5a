import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { handOffPipes, type PipeHandle, type PipeInternals } from './node-internals.js'

// The connected pair of AF_UNIX stream sockets behind a worker's hand-off pipe. Node has no
// socketpair(2), and libuv needs an IPC pipe on both ends (to send a descriptor, and to receive
// one), while a pipe that a listener accepts is never one. So: listen on a fresh socket path,
// connect an IPC pipe to it (the supervisor's end), accept the other end, close the listener
// and remove the path, and give the accepted end's descriptor to the child at fork, which opens it as an
// IPC pipe of its own (worker/hand-off-receiver.ts). One event-loop turn, well under a millisecond.

/** A pair whose child end is about to be inherited by a forked worker. */
export interface HandOffPair {
  /** The supervisor's end: an IPC pipe, connected. */
  readonly sender: PipeHandle
  /** The descriptor of the other end, to pass in the child's stdio. */
  readonly childFd: number
  /** Closes the supervisor's copy of the child's end: call it once the fork has it (or failed). */
  readonly releaseChildEnd: () => void
}

// A pair never takes this long on a sane machine; past it the worker uses Node's IPC instead.
const PAIR_TIMEOUT_MS = 2000

/**
 * A new hand-off pair, or null when the pipe internals are missing (THREADSERVE_NODE_IPC_HANDOFF=1
 * included) or any step fails: the caller then hands connections over Node's IPC channel.
 * The socket lives in a directory of its own that only our user may enter (mkdtemp: mode 0700),
 * not under an abstract name, which any local process could see in /proc/net/unix and connect
 * to first, taking the worker's end; the listener accepts one connection and closes, and the
 * path is removed, within one loop turn.
 */
export function createHandOffPair(pipes: PipeInternals | null = handOffPipes): Promise<HandOffPair | null> {
  if (pipes === null || process.platform !== 'linux') return Promise.resolve(null)
  let dir: string
  try {
    dir = mkdtempSync(path.join(tmpdir(), 'threadserve-hand-off-'))
  } catch {
    return Promise.resolve(null) // no writable temp dir: Node's IPC will do
  }
  const removeDir = (): void => rmSync(dir, { recursive: true, force: true })
  const name = path.join(dir, 'pipe')
  const listener = new pipes.Pipe(pipes.SERVER)
  if (listener.bind(name) !== 0 || listener.listen(1) !== 0) {
    listener.close()
    removeDir()
    return Promise.resolve(null)
  }
  const sender = new pipes.Pipe(pipes.IPC)
  return new Promise<HandOffPair | null>((resolve) => {
    let accepted: PipeHandle | null = null
    let connected = false
    let settled = false
    const finish = (pair: HandOffPair | null): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      listener.close()
      removeDir()
      if (pair === null) {
        sender.close()
        accepted?.close()
      }
      resolve(pair)
    }
    const timer = setTimeout(() => finish(null), PAIR_TIMEOUT_MS)
    const ready = (): void => {
      if (!connected || accepted === null) return
      const childEnd = accepted
      finish({ sender, childFd: childEnd.fd, releaseChildEnd: () => childEnd.close() })
    }
    listener.onconnection = (status, client) => {
      if (status !== 0 || client === undefined || accepted !== null) {
        client?.close()
        if (accepted === null) finish(null)
        return
      }
      accepted = client
      ready()
    }
    const request = new pipes.PipeConnectWrap()
    request.oncomplete = (status) => {
      if (status !== 0) return finish(null)
      connected = true
      ready()
    }
    if (sender.connect(request, name) !== 0) finish(null)
  })
}
