import { spawnSync } from 'node:child_process'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, test } from 'vitest'
import { type RawStream, serverHandleFactory, type TcpHandle } from '../src/common/node-internals.js'
import { acceptConnections } from '../src/common/tcp-handle.js'
import { createTransport } from '../src/transport/create-transport.js'
import { RawTransport } from '../src/transport/raw-transport.js'
import { sharedReadBuffer } from '../src/transport/read-buffer.js'
import { SocketTransport } from '../src/transport/socket-transport.js'
import type { Transport, TransportEvents } from '../src/transport/transport.js'

// The two transports a worker serves connections on (src/transport/) hold to one contract, the
// one http/connection.ts relies on: the same cases run against each, on real loopback
// connections accepted as raw handles, as workers get them.

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup()
})

type EventName = 'data' | 'end' | 'idle' | 'flushed' | 'close'

/** Records every event with the bytes read (copied: the chunk lives only during the call). */
class Recorder implements TransportEvents {
  readonly events: EventName[] = []
  text = ''
  chunks: Buffer[] = []
  handleData(chunk: Buffer): void {
    this.events.push('data')
    this.chunks.push(chunk)
    this.text += chunk.toString('latin1')
  }
  handleEnd(): void {
    this.events.push('end')
  }
  handleIdle(): void {
    this.events.push('idle')
  }
  handleFlushed(): void {
    this.events.push('flushed')
  }
  handleClose(): void {
    this.events.push('close')
  }
}

interface Pair {
  transport: Transport
  recorder: Recorder
  peer: net.Socket
  /** Everything the peer has read, and whether it saw our FIN. */
  received: () => { text: string; ended: boolean }
}

async function connectedPair(make: (handle: unknown) => Transport): Promise<Pair> {
  const listener = serverHandleFactory()?.('127.0.0.1', 0, 4) as TcpHandle
  let accept: (client: TcpHandle) => void = () => {}
  const accepted = new Promise<TcpHandle>((resolve) => {
    accept = resolve
  })
  expect(acceptConnections(listener, 16, accept, 'transport test')).toBe(0)
  const address: Record<string, unknown> = {}
  listener.getsockname(address)
  // Half-open like an HTTP/1.0 client that may still send after our FIN.
  const peer = net.connect({ port: Number(address.port), host: '127.0.0.1', allowHalfOpen: true })
  let text = ''
  let ended = false
  peer.on('data', (data) => {
    text += data.toString('latin1')
  })
  peer.on('end', () => {
    ended = true
  })
  peer.on('error', () => {})
  const transport = make(await accepted)
  listener.close()
  const recorder = new Recorder()
  transport.attach(recorder)
  cleanups.push(() => {
    peer.destroy()
    transport.destroy()
  })
  return { transport, recorder, peer, received: () => ({ text, ended }) }
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}

const kinds = [
  ['RawTransport', (handle: unknown) => new RawTransport(handle as RawStream)],
  ['SocketTransport', (handle: unknown) => new SocketTransport(handle)],
] as const

describe.each(kinds)('%s', (_name, make) => {
  test('reads nothing before resume(), then into the shared buffer; knows the peer address', async () => {
    const { transport, recorder, peer } = await connectedPair(make)
    expect(transport.remoteAddress).toBe('127.0.0.1')
    peer.write('hello')
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(recorder.events).toEqual([])
    transport.resume()
    await until(() => recorder.text === 'hello', 'the read')
    expect(recorder.chunks[0]?.buffer).toBe(sharedReadBuffer.buffer)
  })

  test('pause() stops delivery until resume()', async () => {
    const { transport, recorder, peer } = await connectedPair(make)
    transport.resume()
    peer.write('one')
    await until(() => recorder.text === 'one', 'the first read')
    transport.pause()
    peer.write('two')
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(recorder.text).toBe('one')
    transport.resume()
    await until(() => recorder.text === 'onetwo', 'the read after resume')
  })

  test('write() sends head and body, counts them, and calls back later, never inside', async () => {
    const { transport, received } = await connectedPair(make)
    let called: unknown = 'not yet'
    transport.write('HTTP/1.0 200 OK\r\n\r\n', Buffer.from('body'), (error) => {
      called = error ?? null
    })
    expect(called).toBe('not yet')
    expect(transport.bytesWritten).toBe(23)
    await until(() => called === null, 'the write callback')
    await until(() => received().text === 'HTTP/1.0 200 OK\r\n\r\nbody', 'the bytes at the peer')
    expect(transport.pendingBytes).toBe(0)
  })

  test('end() half-closes: flushed, the peer sees FIN, reading goes on; the peer FIN then closes', async () => {
    const { transport, recorder, peer, received } = await connectedPair(make)
    transport.resume()
    transport.write('answer', null)
    transport.end()
    expect(transport.ended).toBe(true)
    await until(() => received().ended, 'our FIN at the peer')
    await until(() => recorder.events.includes('flushed'), 'flushed')
    expect(transport.finished).toBe(true)
    expect(received().text).toBe('answer')
    peer.end('late')
    await until(() => recorder.events.includes('close'), 'the close')
    expect(recorder.text).toBe('late')
    expect(recorder.events.filter((event) => event !== 'data')).toEqual(['flushed', 'end', 'close'])
  })

  test("the peer's FIN first: our side stays open for the answer", async () => {
    const { transport, recorder, peer, received } = await connectedPair(make)
    transport.resume()
    peer.end('request')
    await until(() => recorder.events.includes('end'), 'end')
    expect(transport.destroyed).toBe(false)
    transport.write('response', null)
    transport.end()
    await until(() => recorder.events.includes('close'), 'the close')
    expect(received()).toEqual({ text: 'response', ended: true })
  })

  test('endAndClose() delivers what was written, then closes', async () => {
    const { transport, recorder, received } = await connectedPair(make)
    transport.write('HTTP/1.0 204 No Content\r\n\r\n', null)
    transport.endAndClose()
    await until(() => recorder.events.includes('close'), 'the close')
    await until(() => received().ended, 'FIN at the peer')
    expect(received().text).toBe('HTTP/1.0 204 No Content\r\n\r\n')
  })

  test('endAndClose() with a write still queued closes only once all of it is in the kernel', async () => {
    const { transport, recorder, peer } = await connectedPair(make)
    let bytes = 0
    let ended = false
    peer.removeAllListeners('data')
    peer.on('data', (data) => {
      bytes += data.length
    })
    peer.on('end', () => {
      ended = true
    })
    peer.pause()
    const big = Buffer.alloc(16 * 1024 * 1024, 0x62)
    transport.write('', big)
    expect(transport.pendingBytes).toBeGreaterThan(0)
    transport.endAndClose()
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(recorder.events).not.toContain('close') // the peer has not read: the write is queued
    peer.resume()
    await until(() => recorder.events.includes('close') && ended, 'the close after the last byte')
    expect(bytes).toBe(big.length)
  })

  test('destroy() closes once; a write after it fails through its callback', async () => {
    const { transport, recorder } = await connectedPair(make)
    transport.destroy()
    transport.destroy()
    expect(transport.destroyed).toBe(true)
    let failure: Error | null | undefined
    transport.write('x', null, (error) => {
      failure = error
    })
    await until(() => recorder.events.includes('close') && failure !== undefined, 'the close')
    expect(failure).toBeInstanceOf(Error)
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(recorder.events).toEqual(['close'])
  })

  test('the idle timeout fires after no reads or writes, and reads and writes put it off', async () => {
    const { transport, recorder, peer } = await connectedPair(make)
    transport.resume()
    transport.setIdleTimeout(400)
    for (let i = 0; i < 4; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      if (i % 2 === 0) peer.write('.')
      else transport.write('.', null) // writes put it off too
    }
    expect(recorder.events).not.toContain('idle')
    await until(() => recorder.events.includes('idle'), 'the idle timeout')
    expect(transport.destroyed).toBe(false)
  })

  test('a write the peer does not read stays pending until it does', async () => {
    const { transport, peer } = await connectedPair(make)
    peer.pause()
    const big = Buffer.alloc(16 * 1024 * 1024, 0x61)
    let done = false
    transport.write('', big, () => {
      done = true
    })
    expect(transport.pendingBytes).toBeGreaterThan(0)
    expect(transport.bytesWritten).toBe(big.length)
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(done).toBe(false)
    peer.resume()
    await until(() => done, 'the write to complete')
    expect(transport.pendingBytes).toBe(0)
  })
})

describe('createTransport', () => {
  test('gives the raw transport on this Node, for a handle accepted as workers get them', async () => {
    const { transport } = await connectedPair(createTransport)
    expect(transport).toBeInstanceOf(RawTransport)
  })

  test('THREADSERVE_NET_SOCKET=1 leaves the raw internals out, so connections get net.Socket', () => {
    // A module-level choice, made at load: checked in a fresh process with the switch set.
    const internals = fileURLToPath(new URL('../src/common/node-internals.ts', import.meta.url))
    const probe = `import(${JSON.stringify(internals)}).then((m) => console.log(m.rawStreams === null, m.loadRawStreams() === null))`
    const run = (env: NodeJS.ProcessEnv): string =>
      spawnSync(process.execPath, ['--import', 'tsx', '-e', probe], {
        env: { ...process.env, ...env },
        encoding: 'utf8',
      }).stdout.trim()
    expect(run({ THREADSERVE_NET_SOCKET: '1' })).toBe('true false')
    expect(run({ THREADSERVE_NET_SOCKET: '' })).toBe('false false')
  })
})
