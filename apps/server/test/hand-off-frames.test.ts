import { encodeHandOffFrame, HAND_OFF_FRAME_BYTES, type HandOffFrame } from '@threadserve/ipc-protocol'
import fc from 'fast-check'
import { expect, test } from 'vitest'
import { HandOffFrames } from '../src/worker/hand-off-frames.js'

// How the worker pairs the bytes and descriptors it reads from its hand-off pipe: a handle belongs
// to the frame holding the last byte of the read it came with (Linux ends a read at the message
// that carries descriptors), and a frame without one lost its descriptor.

type Got = { id: number; handle: string | null }

function frames(...ids: number[]): Uint8Array {
  const bytes = new Uint8Array(ids.length * HAND_OFF_FRAME_BYTES)
  ids.forEach((id, i) => {
    encodeHandOffFrame({ id, acceptedAt: 1000 + id }, bytes, i * HAND_OFF_FRAME_BYTES)
  })
  return bytes
}

function collector(): { got: Got[]; sink: (frame: HandOffFrame, handle: string | null) => void } {
  const got: Got[] = []
  return { got, sink: (frame, handle) => got.push({ id: frame.id, handle }) }
}

test('one frame with its handle per read, as the kernel delivers them', () => {
  const reader = new HandOffFrames<string>()
  const { got, sink } = collector()
  for (const id of [1, 2, 3]) expect(reader.push(frames(id), `h${id}`, sink)).toBe(true)
  expect(got).toEqual([
    { id: 1, handle: 'h1' },
    { id: 2, handle: 'h2' },
    { id: 3, handle: 'h3' },
  ])
  expect(reader.lost).toBe(0)
})

test('frames whose descriptors were lost (EMFILE) glued before the last: only the last gets the handle', () => {
  const reader = new HandOffFrames<string>()
  const { got, sink } = collector()
  reader.push(frames(1, 2, 3), 'h3', sink)
  expect(got).toEqual([
    { id: 1, handle: null },
    { id: 2, handle: null },
    { id: 3, handle: 'h3' },
  ])
  expect(reader.lost).toBe(2)
})

test('a frame split across reads keeps the handle that came with its first part', () => {
  const reader = new HandOffFrames<string>()
  const { got, sink } = collector()
  const bytes = frames(1, 2)
  reader.push(bytes.subarray(0, 5), 'h1', sink)
  expect(got).toEqual([])
  reader.push(bytes.subarray(5, 20), 'h2', sink) // the rest of 1 and the start of 2, with 2's handle
  expect(got).toEqual([{ id: 1, handle: 'h1' }])
  reader.push(bytes.subarray(20), null, sink)
  expect(got).toEqual([
    { id: 1, handle: 'h1' },
    { id: 2, handle: 'h2' },
  ])
})

test('any way the kernel can cut the stream into reads pairs every frame with its own handle', () => {
  // Linux's model: a read goes on until its size runs out or it has consumed the first message
  // whose descriptors it took (they come with the read that reaches into the message).
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 20 }),
      fc.array(fc.integer({ min: 1, max: 60 }), { maxLength: 40 }),
      (count, sizes) => {
        const ids = Array.from({ length: count }, (_, i) => i + 1)
        const bytes = frames(...ids)
        const reader = new HandOffFrames<string>()
        const { got, sink } = collector()
        let offset = 0
        for (let i = 0; offset < bytes.length; i++) {
          const next = Math.ceil(offset / HAND_OFF_FRAME_BYTES) // the first message not yet started
          const end = Math.min(offset + (sizes[i] ?? 64), (next + 1) * HAND_OFF_FRAME_BYTES, bytes.length)
          const handle = end > next * HAND_OFF_FRAME_BYTES ? `h${next + 1}` : null
          expect(reader.push(bytes.subarray(offset, end), handle, sink)).toBe(true)
          offset = end
        }
        expect(got).toEqual(ids.map((id) => ({ id, handle: `h${id}` })))
        expect(reader.lost).toBe(0)
      },
    ),
  )
})

test('bytes that are not frames stop the reader; handles received meanwhile are given back', () => {
  const reader = new HandOffFrames<string>()
  const { got, sink } = collector()
  expect(reader.push(frames(1), 'h1', sink)).toBe(true)
  const junk = new TextEncoder().encode('{"cmd":"NODE_HANDLE"}\n')
  expect(reader.push(junk, 'h2', sink)).toBe(false)
  expect(reader.push(frames(3), 'h3', sink), 'stays stopped').toBe(false)
  expect(got).toEqual([{ id: 1, handle: 'h1' }])
  expect(reader.drain()).toEqual(['h2'])
})
