import { closeSync } from 'node:fs'
import type { NativeHandle } from '@threadserve/ipc-protocol'
import { handOffPipes, type PipeHandle } from '../common/node-internals.js'
import { HAND_OFF_FD_ENV } from '../common/worker-env.js'
import { HandOffFrames } from './hand-off-frames.js'

// The worker's end of its hand-off pipe (common/hand-off-pair.ts): reads the supervisor's
// 16-byte frames and the client descriptors that come with them, and admits each connection the
// way a 'connection' message over Node's IPC does (run-worker.ts). Nothing is written back: no
// acknowledgement per handle.

/**
 * Starts reading the hand-off pipe the supervisor gave us, if it gave one (HAND_OFF_FD_ENV).
 * Without the pipe internals we close the descriptor instead: the supervisor's next write then
 * fails and it falls back to Node's IPC for this worker. `report`: one line for the operator.
 */
export function receiveHandOffs(
  env: NodeJS.ProcessEnv,
  admitHandle: (handle: NativeHandle) => void,
  report: (line: string) => void,
): void {
  const fd = Number(env[HAND_OFF_FD_ENV] ?? Number.NaN)
  if (!Number.isInteger(fd) || fd < 0) return
  const pipes = handOffPipes
  const pipe = pipes === null ? null : new pipes.Pipe(pipes.IPC)
  if (pipes === null || pipe === null || pipe.open(fd) !== 0) {
    pipe?.close()
    closeQuietly(fd)
    return
  }
  const frames = new HandOffFrames<NativeHandle>()
  let lost = 0
  const admit = (_frame: unknown, handle: NativeHandle | null): void => {
    if (handle !== null) admitHandle(handle)
  }
  const stop = (why: string | null): void => {
    pipe.close()
    for (const handle of frames.drain()) (handle as PipeHandle).close()
    if (why !== null) report(why)
  }
  pipe.onread = function onHandOffRead(arrayBuffer) {
    const nread = pipes.state[pipes.kReadBytesOrError] as number
    const handle = (pipe.pendingHandle as NativeHandle | null | undefined) ?? null
    pipe.pendingHandle = null
    if (nread < 0 || arrayBuffer === undefined) {
      // EOF: the supervisor is gone ('disconnect' drains us). Anything else is a broken pipe.
      stop(null)
      return
    }
    const bytes = new Uint8Array(arrayBuffer, pipes.state[pipes.kArrayBufferOffset], nread)
    if (!frames.push(bytes, handle, admit)) {
      stop('hand-off pipe: not a hand-off frame; no more connections over it')
      return
    }
    if (frames.lost !== lost) {
      lost = frames.lost
      // The 1st, 10th, 100th...: a worker out of descriptors loses them by the thousand.
      if (Number.isInteger(Math.log10(lost)))
        report(`hand-off pipe: ${lost} connection(s) arrived without their descriptor (out of descriptors?)`)
    }
  }
  pipe.readStart()
  // The IPC channel, not this pipe, decides when the worker may exit.
  pipe.unref()
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd)
  } catch {
    // Not open after all: nothing to release.
  }
}
