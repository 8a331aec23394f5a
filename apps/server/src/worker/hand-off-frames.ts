import { decodeHandOffFrame, HAND_OFF_FRAME_BYTES, type HandOffFrame } from '@threadserve/ipc-protocol'

// Pairs the bytes and descriptors read from a hand-off pipe into (frame, handle). Every frame is
// written with its own descriptor, but reads do not respect writes: several frames can come in
// one read (Linux glues queued messages until the one that carries descriptors, which ends the
// read; libuv takes one descriptor per read callback), a frame can be split across reads, and a
// descriptor can be lost: a worker out of descriptors (EMFILE) gets the bytes without it
// (MSG_CTRUNC, which libuv does not report). So a handle belongs to the frame holding the last
// byte of the read it came with: the message carrying it is the last one in that read. A frame
// that completes with no handle lost its descriptor; the kernel has closed it.

export type FrameSink<H> = (frame: HandOffFrame, handle: H | null) => void

export class HandOffFrames<H> {
  #received = 0 // bytes so far
  #partial = new Uint8Array(HAND_OFF_FRAME_BYTES)
  #partialLength = 0
  readonly #handles: { index: number; handle: H }[] = []
  #broken = false

  /** Frames that arrived without their descriptor. */
  lost = 0

  /**
   * Takes one read: `bytes`, and the handle that came with it, if any. Calls `sink` for each frame
   * completed, in order. Returns false, having called `sink` for nothing more, once the stream is
   * not a stream of frames (wrong magic or version): the caller closes the pipe and `drain()`s.
   */
  push(bytes: Uint8Array, handle: H | null, sink: FrameSink<H>): boolean {
    if (this.#broken) return false
    if (bytes.length === 0) return true
    const end = this.#received + bytes.length
    if (handle !== null) this.#handles.push({ index: Math.floor((end - 1) / HAND_OFF_FRAME_BYTES), handle })
    let offset = 0
    if (this.#partialLength > 0) {
      const take = Math.min(HAND_OFF_FRAME_BYTES - this.#partialLength, bytes.length)
      this.#partial.set(bytes.subarray(0, take), this.#partialLength)
      this.#partialLength += take
      offset = take
      if (this.#partialLength < HAND_OFF_FRAME_BYTES) {
        this.#received = end
        return true
      }
      this.#partialLength = 0
      if (!this.#emit(this.#partial, 0, this.#received - (HAND_OFF_FRAME_BYTES - take), sink)) return false
    }
    for (; offset + HAND_OFF_FRAME_BYTES <= bytes.length; offset += HAND_OFF_FRAME_BYTES) {
      if (!this.#emit(bytes, offset, this.#received + offset, sink)) return false
    }
    const rest = bytes.length - offset
    if (rest > 0) {
      this.#partial.set(bytes.subarray(offset), 0)
      this.#partialLength = rest
    }
    this.#received = end
    return true
  }

  /** Handles received whose frames never completed (the pipe ended or broke): the caller closes them. */
  drain(): H[] {
    return this.#handles.splice(0).map((entry) => entry.handle)
  }

  /** The frame starting at stream byte `start` (at `offset` in `source`), with its handle. */
  #emit(source: Uint8Array, offset: number, start: number, sink: FrameSink<H>): boolean {
    const frame = decodeHandOffFrame(source, offset)
    if (frame === null) {
      this.#broken = true
      return false
    }
    const index = start / HAND_OFF_FRAME_BYTES
    const next = this.#handles[0]
    const handle = next !== undefined && next.index === index ? (this.#handles.shift()?.handle ?? null) : null
    if (handle === null) this.lost++
    sink(frame, handle)
    return true
  }
}
