import net from 'node:net'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { exchange, openExchange } from './helpers/raw-exchange.js'

// The raw-socket client every e2e test reads answers with, against a scripted server on
// 127.0.0.1: whatever a test concludes from `status`, `body`, `exact` or `closedBy` rests on this.

type Script = (socket: net.Socket, request: Buffer) => void
const scripts = new Map<string, Script>()
let server: net.Server
let port = 0

beforeAll(async () => {
  // A request's first line names the script that answers it; the request ends at an empty line.
  server = net.createServer((socket) => {
    let request = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      request = Buffer.concat([request, chunk])
      const end = request.indexOf('\r\n\r\n')
      if (end === -1) return
      const name = request.toString('latin1', 0, request.indexOf('\r\n'))
      scripts.get(name)?.(socket, request.subarray(0, end + 4))
    })
    socket.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as net.AddressInfo).port
})
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
})

function script(name: string, answer: Script): string {
  scripts.set(name, answer)
  return `${name}\r\n\r\n`
}

describe('exchange', () => {
  test('a response with Content-Length: status, fields by any case, body, exact', async () => {
    const request = script('one', (socket) => socket.end('HTTP/1.0 200 OK\r\nContent-Length: 3\r\nX-A: b\r\n\r\nabc'))
    const result = await exchange(port, request)
    expect(result).toMatchObject({ status: 200, exact: true, parseError: null, closedBy: 'server', error: null })
    expect(result.headers.get('x-a')).toBe('b')
    expect(result.headers.get('X-A')).toBe('b')
    expect(result.body.toString()).toBe('abc')
    expect(result.raw.toString()).toBe('HTTP/1.0 200 OK\r\nContent-Length: 3\r\nX-A: b\r\n\r\nabc')
  })

  test('a body without Content-Length runs to the close', async () => {
    const request = script('until-close', (socket) => socket.end('HTTP/1.0 200 OK\r\n\r\nall of it'))
    const result = await exchange(port, request)
    expect(result).toMatchObject({ status: 200, exact: true })
    expect(result.body.toString()).toBe('all of it')
  })

  test('bytes after the announced body are not part of it, and the answer is not exact', async () => {
    const request = script('extra', (socket) => socket.end('HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nab'))
    const result = await exchange(port, request)
    expect(result.body.toString()).toBe('a')
    expect(result.exact).toBe(false)
    expect(result.parseError).toBe('INCOMPLETE_RESPONSE') // 'b' begins a second response that never ends
  })

  test('a body cut short keeps its status and what arrived, marked incomplete', async () => {
    const request = script('cut', (socket) => socket.end('HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nabc'))
    const result = await exchange(port, request)
    expect(result).toMatchObject({ status: 200, exact: false, parseError: 'INCOMPLETE_RESPONSE' })
    expect(result.responses.map((r) => [r.body.toString(), r.complete])).toEqual([['abc', false]])
  })

  test('an HTTP/0.9 answer (a bare body) has status 0 and stays readable in raw', async () => {
    const request = script('simple', (socket) => socket.end('just the body, no head\n'))
    const result = await exchange(port, request)
    expect(result).toMatchObject({ status: 0, exact: false, parseError: 'BAD_STATUS_LINE', responses: [] })
    expect(result.raw.toString()).toBe('just the body, no head\n')
  })

  test('a close without a byte is status 0 with no parse error', async () => {
    const request = script('silent', (socket) => socket.end())
    const result = await exchange(port, request)
    expect(result).toMatchObject({ status: 0, exact: false, parseError: null, closedBy: 'server', responses: [] })
    expect(result.raw.length).toBe(0)
  })

  test('responses to HEAD end with their head whatever their Content-Length', async () => {
    const request = script('head', (socket) => socket.end('HTTP/1.0 200 OK\r\nContent-Length: 99\r\n\r\n'))
    const result = await exchange(port, request, { headResponses: true })
    expect(result).toMatchObject({ status: 200, exact: true })
    expect(result.body.length).toBe(0)
  })

  test('pipelined responses come out in order, the HEAD ones without a body', async () => {
    const request = script('pipelined', (socket) =>
      socket.end(
        'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA' +
          'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n' +
          'HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nNo',
      ),
    )
    const result = await exchange(port, request, { headResponses: new Set([1]) })
    expect(result.responses.map((r) => [r.status, r.body.toString(), r.complete])).toEqual([
      [200, 'A', true],
      [200, '', true],
      [404, 'No', true],
    ])
    expect(result.exact).toBe(false) // three responses, not one
    expect(result.parseError).toBeNull()
  })

  test('pieces arrive in order, and halfClose ends our side after the last one', async () => {
    let received = ''
    const server = net.createServer((socket) => {
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('latin1')
      })
      socket.on('end', () => socket.end(`HTTP/1.0 200 OK\r\nContent-Length: ${received.length}\r\n\r\n${received}`))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const echo = (server.address() as net.AddressInfo).port
      const result = await exchange(echo, ['a', Buffer.from('b'), 'c'], { pieceGapMs: 0, halfClose: true })
      expect(result.body.toString()).toBe('abc')
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })

  test('a refused connection is reported, not thrown', async () => {
    const closed = net.createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const unused = (closed.address() as net.AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))
    const result = await exchange(unused, 'GET / HTTP/1.0\r\n\r\n')
    expect(result).toMatchObject({ status: 0, closedBy: 'error', error: 'ECONNREFUSED' })
  })

  test('our deadline ends an exchange the server leaves open', async () => {
    const request = script('never', () => {})
    const result = await exchange(port, request, { timeoutMs: 200 })
    expect(result).toMatchObject({ status: 0, closedBy: 'timeout', error: 'timeout' })
  })
})

describe('openExchange', () => {
  test('response(i) resolves as each response completes, and with null once the connection closed', async () => {
    const answers: string[] = []
    const request = script('twice', (socket) => {
      answers.push('x')
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n${answers.length}`)
      if (answers.length === 2) socket.end()
    })
    const connection = openExchange(port)
    await connection.write(request)
    expect((await connection.response(0))?.body.toString()).toBe('1')
    await connection.write(request)
    expect((await connection.response(1))?.body.toString()).toBe('2')
    expect(await connection.response(2)).toBeNull()
    expect((await connection.result).closedBy).toBe('server')
  })

  test('a connection the test destroys is closed by the client', async () => {
    const connection = openExchange(port)
    expect(await connection.connected).toBe(true)
    connection.destroy()
    expect(await connection.result).toMatchObject({ closedBy: 'client', status: 0 })
  })
})
