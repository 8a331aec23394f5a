// The binary frame of the dedicated hand-off pipe: what a 'connection' message carries ({ id,
// acceptedAt }) in a fixed 16 bytes, written with the client's descriptor attached. The pipe
// carries nothing else, so a reader needs no JSON, no length prefix and no search for a newline:
// frame n is bytes 16n to 16n+15. Node's IPC channel (the 'connection' message) stays the fallback.
//
// Layout (little-endian):
//   0      magic 0x54 ('T'): a reader fed anything else (a wrong fd, a desync) stops at once
//   1      version (HAND_OFF_FRAME_VERSION): bumped by any change an older reader would misread
//   2..7   id, unsigned 48-bit
//   8..13  acceptedAt, epoch milliseconds, unsigned 48-bit (good until the year 10889)
//   14..15 zero

/** Bytes per frame. */
export const HAND_OFF_FRAME_BYTES = 16
export const HAND_OFF_FRAME_MAGIC = 0x54
export const HAND_OFF_FRAME_VERSION = 1

/** The largest id or acceptedAt a frame holds (2^48 - 1). */
export const HAND_OFF_FRAME_MAX = 2 ** 48 - 1

/** What a frame carries: the fields of a 'connection' message. */
export interface HandOffFrame {
  readonly id: number
  readonly acceptedAt: number
}

const TWO_32 = 2 ** 32

function writeUint48(target: Uint8Array, offset: number, value: number): void {
  const low = value % TWO_32
  const high = Math.floor(value / TWO_32)
  target[offset] = low & 0xff
  target[offset + 1] = (low >>> 8) & 0xff
  target[offset + 2] = (low >>> 16) & 0xff
  target[offset + 3] = low >>> 24
  target[offset + 4] = high & 0xff
  target[offset + 5] = high >>> 8
}

function readUint48(source: Uint8Array, offset: number): number {
  const low =
    ((source[offset] as number) | ((source[offset + 1] as number) << 8) | ((source[offset + 2] as number) << 16)) +
    (source[offset + 3] as number) * 2 ** 24
  const high = (source[offset + 4] as number) | ((source[offset + 5] as number) << 8)
  return high * TWO_32 + low
}

/**
 * Writes `frame` at `offset` of `target` (default: a fresh 16-byte array) and returns `target`.
 * `id` wraps modulo 2^48 (a counter that long-lived is still unique within any window that
 * matters); `acceptedAt` is rounded down to a whole millisecond and clamped to the 48-bit range.
 * @example
 * const bytes = encodeHandOffFrame({ id: 7, acceptedAt: Date.now() })
 */
export function encodeHandOffFrame(
  frame: HandOffFrame,
  target: Uint8Array = new Uint8Array(HAND_OFF_FRAME_BYTES),
  offset = 0,
): Uint8Array {
  if (offset < 0 || offset + HAND_OFF_FRAME_BYTES > target.length) throw new RangeError('no room for a frame')
  const id = Math.max(0, Math.floor(frame.id)) % (HAND_OFF_FRAME_MAX + 1)
  const acceptedAt = Math.min(HAND_OFF_FRAME_MAX, Math.max(0, Math.floor(frame.acceptedAt)))
  target[offset] = HAND_OFF_FRAME_MAGIC
  target[offset + 1] = HAND_OFF_FRAME_VERSION
  writeUint48(target, offset + 2, Number.isFinite(id) ? id : 0)
  writeUint48(target, offset + 8, acceptedAt)
  target[offset + 14] = 0
  target[offset + 15] = 0
  return target
}

/**
 * The frame at `offset` of `source`, or null when the bytes there are not a frame of this
 * version (wrong magic or version, non-zero padding, fewer than 16 bytes).
 * @example
 * const frame = decodeHandOffFrame(bytes)
 * if (frame === null) pipe.close() // not our peer, or a version skew
 */
export function decodeHandOffFrame(source: Uint8Array, offset = 0): HandOffFrame | null {
  if (offset < 0 || offset + HAND_OFF_FRAME_BYTES > source.length) return null
  if (source[offset] !== HAND_OFF_FRAME_MAGIC || source[offset + 1] !== HAND_OFF_FRAME_VERSION) return null
  if (source[offset + 14] !== 0 || source[offset + 15] !== 0) return null
  return { id: readUint48(source, offset + 2), acceptedAt: readUint48(source, offset + 8) }
}
