import fc from 'fast-check'
import { expect, test } from 'vitest'
import {
  decodeHandOffFrame,
  encodeHandOffFrame,
  HAND_OFF_FRAME_BYTES,
  HAND_OFF_FRAME_MAGIC,
  HAND_OFF_FRAME_MAX,
  HAND_OFF_FRAME_VERSION,
} from '../src/index.js'

const field = fc.integer({ min: 0, max: HAND_OFF_FRAME_MAX })

test('every id and acceptedAt in the 48-bit range survives a round trip', () => {
  fc.assert(
    fc.property(field, field, (id, acceptedAt) => {
      expect(decodeHandOffFrame(encodeHandOffFrame({ id, acceptedAt }))).toEqual({ id, acceptedAt })
    }),
  )
})

test('the layout: magic, version, id and acceptedAt little-endian, zero padding', () => {
  const bytes = encodeHandOffFrame({ id: 0x0102_0304_0506, acceptedAt: 0x0a0b_0c0d_0e0f })
  expect([...bytes]).toEqual([
    HAND_OFF_FRAME_MAGIC,
    HAND_OFF_FRAME_VERSION,
    0x06,
    0x05,
    0x04,
    0x03,
    0x02,
    0x01,
    0x0f,
    0x0e,
    0x0d,
    0x0c,
    0x0b,
    0x0a,
    0,
    0,
  ])
  expect(bytes.length).toBe(HAND_OFF_FRAME_BYTES)
})

test('a real Date.now() and a large counter come back exactly', () => {
  const frame = { id: 2 ** 40 + 12345, acceptedAt: Date.now() }
  expect(decodeHandOffFrame(encodeHandOffFrame(frame))).toEqual(frame)
})

test('frames written side by side decode at their offsets, the rest of the buffer untouched', () => {
  const buffer = new Uint8Array(3 * HAND_OFF_FRAME_BYTES + 1).fill(0xee)
  encodeHandOffFrame({ id: 1, acceptedAt: 10 }, buffer, 0)
  encodeHandOffFrame({ id: 2, acceptedAt: 20 }, buffer, 2 * HAND_OFF_FRAME_BYTES)
  expect(decodeHandOffFrame(buffer, 0)).toEqual({ id: 1, acceptedAt: 10 })
  expect(decodeHandOffFrame(buffer, HAND_OFF_FRAME_BYTES), 'the untouched middle is no frame').toBeNull()
  expect(decodeHandOffFrame(buffer, 2 * HAND_OFF_FRAME_BYTES)).toEqual({ id: 2, acceptedAt: 20 })
  expect(buffer[3 * HAND_OFF_FRAME_BYTES]).toBe(0xee)
})

test('an id past 48 bits wraps; acceptedAt is clamped and floored; negatives become 0', () => {
  expect(decodeHandOffFrame(encodeHandOffFrame({ id: HAND_OFF_FRAME_MAX + 3, acceptedAt: 1.9 }))).toEqual({
    id: 2,
    acceptedAt: 1,
  })
  expect(decodeHandOffFrame(encodeHandOffFrame({ id: -5, acceptedAt: 2 ** 60 }))).toEqual({
    id: 0,
    acceptedAt: HAND_OFF_FRAME_MAX,
  })
})

test('the encoder refuses an offset without room for a whole frame', () => {
  expect(() => encodeHandOffFrame({ id: 1, acceptedAt: 1 }, new Uint8Array(20), 5)).toThrow(RangeError)
  expect(() => encodeHandOffFrame({ id: 1, acceptedAt: 1 }, new Uint8Array(20), -1)).toThrow(RangeError)
})

test('anything but a whole frame of this version decodes as null', () => {
  const good = encodeHandOffFrame({ id: 7, acceptedAt: 8 })
  const altered = (index: number, value: number): Uint8Array => {
    const copy = good.slice()
    copy[index] = value
    return copy
  }
  expect(decodeHandOffFrame(good)).toEqual({ id: 7, acceptedAt: 8 })
  expect(decodeHandOffFrame(altered(0, 0x7b)), 'a JSON message is not a frame').toBeNull()
  expect(decodeHandOffFrame(altered(1, HAND_OFF_FRAME_VERSION + 1)), 'another version').toBeNull()
  expect(decodeHandOffFrame(altered(15, 1)), 'non-zero padding').toBeNull()
  expect(decodeHandOffFrame(good.subarray(0, HAND_OFF_FRAME_BYTES - 1)), 'a short read').toBeNull()
  expect(decodeHandOffFrame(good, 1), 'past the end').toBeNull()
  expect(decodeHandOffFrame(good, -1)).toBeNull()
})
