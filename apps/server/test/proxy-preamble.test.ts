import { formatProxyHeaderV1, formatProxyHeaderV2 } from '@threadserve/http10-parser'
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import { type PreambleStep, ProxyPreamble, proxyPreambleCounts } from '../src/http/proxy-preamble.js'

// The PROXY header before a request (--proxy-protocol): gathered across reads from a buffer that
// is overwritten after each one, judged once, with the request's first bytes handed back; bad,
// late and cut-short headers fail and are counted.

const REQUEST = Buffer.from('GET /a.txt HTTP/1.0\r\nHost: x\r\n\r\n', 'latin1')
const TCP4 = {
  family: 'TCP4',
  sourceAddress: '127.0.0.5',
  sourcePort: 51000,
  destinationAddress: '127.0.0.1',
  destinationPort: 8080,
} as const
const TCP6 = {
  family: 'TCP6',
  sourceAddress: '2001:db8::5',
  sourcePort: 443,
  destinationAddress: '2001:db8::1',
  destinationPort: 8080,
} as const

const HEADERS = [
  { name: 'v1 TCP4', bytes: formatProxyHeaderV1(TCP4), address: '127.0.0.5', port: 51000 },
  { name: 'v1 TCP6', bytes: formatProxyHeaderV1(TCP6), address: '2001:db8::5', port: 443 },
  { name: 'v1 UNKNOWN', bytes: formatProxyHeaderV1({ family: 'UNKNOWN' }), address: null, port: null },
  { name: 'v2 TCP4', bytes: formatProxyHeaderV2(TCP4), address: '127.0.0.5', port: 51000 },
  {
    name: 'v2 TCP6 with a TLV',
    bytes: formatProxyHeaderV2(TCP6, [{ type: 0xea, value: Buffer.from('id') }]),
    address: '2001:db8::5',
    port: 443,
  },
  {
    name: 'v2 LOCAL (a check)',
    bytes: formatProxyHeaderV2({ command: 'LOCAL', family: 'UNKNOWN' }),
    address: null,
    port: null,
  },
]

const noTimeout = (): void => {}
const created: ProxyPreamble<string>[] = []

function preamble(timeoutMs = 10_000, onTimeout: (target: string) => void = noTimeout): ProxyPreamble<string> {
  const made = new ProxyPreamble<string>(timeoutMs, onTimeout, 'connection')
  created.push(made)
  return made
}

/**
 * Pushes `bytes` cut at `cuts`, each piece through one reused buffer that is scribbled over after
 * the push (as the worker's shared read buffer is), the way a connection would: bytes after the
 * completing push are the request's. Returns the last step and the request bytes seen.
 */
function pushInPieces(target: ProxyPreamble<string>, bytes: Buffer, cuts: number[]) {
  const shared = Buffer.alloc(bytes.length + 1)
  const ends = [...new Set(cuts.map((cut) => Math.min(Math.max(cut, 0), bytes.length)))].sort((a, b) => a - b)
  let step: PreambleStep = { kind: 'incomplete' }
  let request = Buffer.alloc(0)
  let from = 0
  for (const end of [...ends, bytes.length]) {
    if (end <= from) continue
    const piece = shared.subarray(0, end - from)
    bytes.copy(piece, 0, from, end)
    if (step.kind === 'complete') request = Buffer.concat([request, piece])
    else if (step.kind === 'incomplete') {
      step = target.push(piece)
      if (step.kind === 'complete') request = Buffer.from(step.rest)
    }
    piece.fill(0x58) // the next read overwrites the buffer
    from = end
  }
  return { step, request }
}

beforeEach(() => {
  created.length = 0
})
afterEach(() => {
  for (const made of created) made.close()
  vi.useRealTimers()
})

describe('a whole header', () => {
  test.each(HEADERS)('$name, cut anywhere, gives its address and the request untouched', ({ bytes, address, port }) => {
    const wire = Buffer.concat([bytes, REQUEST])
    for (let cut = 0; cut <= wire.length; cut++) {
      const { step, request } = pushInPieces(preamble(), wire, [cut])
      expect(step.kind).toBe('complete')
      if (step.kind !== 'complete') return
      expect(step.clientAddress).toBe(address)
      expect(step.clientPort).toBe(port)
      expect(request.equals(REQUEST)).toBe(true)
    }
  })

  test('byte by byte, then the request arrives later: the rest is empty and the header counted once', () => {
    const before = proxyPreambleCounts()
    const bytes = formatProxyHeaderV2(TCP4)
    const { step, request } = pushInPieces(preamble(), bytes, [...bytes.keys()])
    expect(step.kind).toBe('complete')
    expect(request.length).toBe(0)
    expect(proxyPreambleCounts().accepted).toBe(before.accepted + 1)
  })

  test('pushing after the header was judged is our own bug', () => {
    const target = preamble()
    target.push(Buffer.concat([formatProxyHeaderV1(TCP4), REQUEST]))
    expect(target.reading).toBe(false)
    expect(() => target.push(REQUEST)).toThrow(/after the PROXY header/)
  })
})

describe('failures are closes, counted', () => {
  test.each([
    { name: 'a plain HTTP request', bytes: REQUEST },
    { name: 'a v1 line with a bad address', bytes: Buffer.from('PROXY TCP4 1.2.3.256 1.2.3.4 1 2\r\n') },
    { name: 'a v1 line without its CRLF in 107 bytes', bytes: Buffer.from(`PROXY UNKNOWN ${'x'.repeat(120)}`) },
    {
      name: 'a v2 signature with version 1',
      bytes: Buffer.concat([formatProxyHeaderV2(TCP4).subarray(0, 12), Buffer.from([0x11, 0x11, 0, 12])]),
    },
  ])('$name fails at once, whatever the cut', ({ bytes }) => {
    for (let cut = 0; cut <= bytes.length; cut++) {
      const before = proxyPreambleCounts().badHeader
      const { step } = pushInPieces(preamble(), bytes, [cut])
      expect(step.kind).toBe('failed')
      expect(proxyPreambleCounts().badHeader).toBe(before + 1)
    }
  })

  test('a header not complete by the deadline fails once, calling back with the target', () => {
    vi.useFakeTimers()
    const timedOut: string[] = []
    const before = proxyPreambleCounts().timedOut
    const target = preamble(3000, (connection) => timedOut.push(connection))
    expect(target.push(Buffer.from('PROXY TCP4 ')).kind).toBe('incomplete')
    vi.advanceTimersByTime(2999)
    expect(timedOut).toEqual([])
    vi.advanceTimersByTime(1)
    expect(timedOut).toEqual(['connection'])
    expect(target.reading).toBe(false)
    expect(proxyPreambleCounts().timedOut).toBe(before + 1)
    const closedBefore = proxyPreambleCounts().closedEarly
    target.close() // the caller closes the connection: already counted as a timeout
    expect(proxyPreambleCounts().closedEarly).toBe(closedBefore)
  })

  test('a header complete in time never times out', () => {
    vi.useFakeTimers()
    const timedOut: string[] = []
    const target = preamble(3000, (connection) => timedOut.push(connection))
    target.push(formatProxyHeaderV1(TCP4))
    vi.advanceTimersByTime(10_000)
    expect(timedOut).toEqual([])
  })

  test('a close before the header is complete is counted once; after it, not at all', () => {
    const before = proxyPreambleCounts().closedEarly
    const cut = preamble()
    cut.push(Buffer.from('PROXY TC'))
    cut.close()
    cut.close()
    const whole = preamble()
    whole.push(formatProxyHeaderV1(TCP4))
    whole.close()
    expect(proxyPreambleCounts().closedEarly).toBe(before + 1)
  })
})
