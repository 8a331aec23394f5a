import type { ChildProcess } from 'node:child_process'
import type { Channel, ChannelOptions } from './channel.js'
import { decodeSupervisorMessage, decodeUnchecked, decodeWorkerMessage } from './decode.js'
import { IpcError } from './errors.js'
import { type Endpoint, IpcChannel } from './ipc-channel.js'
import type { SupervisorMessage, WorkerMessage } from './messages.js'

/**
 * The supervisor's channel to one forked worker.
 * @example
 * const worker = connectToWorker(fork('worker.js'))
 * worker.on('ready', ({ workerId }) => markHealthy(workerId))
 */
export function connectToWorker(
  child: ChildProcess,
  options: ChannelOptions = {},
): Channel<WorkerMessage, SupervisorMessage> {
  if (typeof child.send !== 'function') {
    throw new IpcError('NO_IPC_CHANNEL', 'the child process has no IPC channel: start it with fork()')
  }
  const decode = options.validate === false ? decodeUnchecked<WorkerMessage> : decodeWorkerMessage
  // 'exit' can come before the IPC pipe reports its end ('disconnect'): a send in between would be
  // written into a dead pipe and fail later with EPIPE, so an exited child counts as gone. The
  // channel still reads what the child sent before it died until 'disconnect' (a last
  // 'permit-release' must not be lost), so 'exit' does not close it.
  const peer = { name: `worker ${child.pid}`, hasExited: () => child.exitCode !== null || child.signalCode !== null }
  return new IpcChannel<WorkerMessage, SupervisorMessage>(child as Endpoint, decode, peer, options)
}

/**
 * A worker's channel to its supervisor (the parent that forked it).
 * @example
 * const supervisor = connectToSupervisor()
 * supervisor.on('connection', (message, socket) => socket && serve(socket))
 * supervisor.send({ type: 'ready', v: 1, workerId, pid: process.pid })
 */
export function connectToSupervisor(
  proc: NodeJS.Process = process,
  options: ChannelOptions = {},
): Channel<SupervisorMessage, WorkerMessage> {
  if (typeof proc.send !== 'function') {
    throw new IpcError('NO_IPC_CHANNEL', 'this process has no IPC channel: it must be started with fork()')
  }
  const decode = options.validate === false ? decodeUnchecked<SupervisorMessage> : decodeSupervisorMessage
  const peer = { name: 'supervisor', hasExited: () => false } // a dead parent shows as 'disconnect'
  return new IpcChannel<SupervisorMessage, WorkerMessage>(proc as Endpoint, decode, peer, options)
}
