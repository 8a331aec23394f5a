import { Socket, type SocketConstructorOpts } from 'node:net'
import type { NativeHandle } from '@threadserve/ipc-protocol'

// Every client socket of a worker reads into one buffer (net.Socket's `onread` option) instead of
// a new 64 KiB allocation per read. Those allocations are external memory that V8 frees only at
// its next GC, which it starts only after tens of MiB of them: with them, a 1 GiB upload leaves
// ~42 MiB of dead read buffers in a worker's RSS, and every GET pays for an allocation.
// The price: a chunk is valid only until the callback returns. Whoever keeps bytes past it copies
// them (http/keep-alive.ts HeldBytes, a waiting request's early body bytes, the upload writers).
const READ_BUFFER_BYTES = 256 * 1024
const readBuffer = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES)

/**
 * Called with each read: the bytes are `buffer[0, bytes)`, overwritten by the next read of any
 * socket. Pass a module-level function (`this` is the socket), not a closure per connection.
 */
export type OnRead = (this: Socket, bytes: number, buffer: Buffer) => void

/**
 * Wraps a raw TCP handle (handed over by the supervisor, or accepted here with --balance kernel)
 * the way net.Server wraps one it accepted with pauseOnConnect (`handle`, `pauseOnCreate`: the
 * untyped options node's own accept path uses), reading into the shared buffer. No 'data'
 * events: each read goes to `onRead`. pause() and resume() work as usual.
 */
export function socketFromHandle(handle: NativeHandle, onRead: OnRead): Socket {
  const options = {
    handle,
    readable: true,
    writable: true,
    pauseOnCreate: true,
    onread: { buffer: readBuffer, callback: onRead },
  }
  return new Socket(options as SocketConstructorOpts)
}
