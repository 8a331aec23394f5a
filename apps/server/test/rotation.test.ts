import { expect, test } from 'vitest'
import type { TcpHandle } from '../src/common/tcp-handle.js'
import type { FleetMember } from '../src/supervisor/fleet-member.js'
import { Rotation } from '../src/supervisor/rotation.js'

// Who takes each connection: round-robin over the ready workers, over their hand-off pipes,
// skipping full pipes, over Node's IPC for a worker without one.

interface Fake {
  member: FleetMember
  got: string[]
  pipe: { usable: boolean; hasRoom: boolean; fails: boolean } | null
}

function fake(id: number, pipe: Fake['pipe'] = { usable: true, hasRoom: true, fails: false }): Fake {
  const got: string[] = []
  const handOff =
    pipe === null
      ? null
      : {
          get usable() {
            return pipe.usable
          },
          get hasRoom() {
            return pipe.hasRoom
          },
          send(client: TcpHandle) {
            if (pipe.fails) {
              pipe.usable = false
              return false
            }
            got.push(`pipe:${client as unknown as string}`)
            return true
          },
        }
  const member = {
    id,
    handOff,
    unsent: [] as TcpHandle[],
    onWritten: () => {},
    channel: {
      send(message: { type: string }, client: TcpHandle) {
        got.push(`ipc:${client as unknown as string}`)
        return message.type === 'connection'
      },
    },
  } as unknown as FleetMember
  return { member, got, pipe }
}

const client = (name: string): TcpHandle => name as unknown as TcpHandle

test('connections go round-robin over the ready workers, each over its pipe', () => {
  const [a, b, c] = [fake(1), fake(2), fake(3)]
  const rotation = new Rotation()
  for (const f of [a, b, c]) rotation.add(f.member)
  for (const name of ['c1', 'c2', 'c3', 'c4']) expect(rotation.handOut(client(name))).toBe('taken')
  expect(a.got).toEqual(['pipe:c1', 'pipe:c4'])
  expect(b.got).toEqual(['pipe:c2'])
  expect(c.got).toEqual(['pipe:c3'])
})

test('a full pipe is skipped; when every pipe is full the answer is full', () => {
  const [a, b] = [fake(1), fake(2)]
  const rotation = new Rotation()
  rotation.add(a.member)
  rotation.add(b.member)
  if (a.pipe !== null) a.pipe.hasRoom = false
  expect(rotation.handOut(client('c1'))).toBe('taken')
  expect(b.got).toEqual(['pipe:c1'])
  if (b.pipe !== null) b.pipe.hasRoom = false
  expect(rotation.handOut(client('c2'))).toBe('full')
  expect([...a.got, ...b.got]).toEqual(['pipe:c1'])
})

test('a worker without a pipe, or whose pipe just failed, gets its connection over Node IPC', async () => {
  const [a, b] = [fake(1, null), fake(2, { usable: true, hasRoom: true, fails: true })]
  const rotation = new Rotation()
  rotation.add(a.member)
  rotation.add(b.member)
  expect(rotation.handOut(client('c1'))).toBe('taken')
  expect(rotation.handOut(client('c2'))).toBe('taken')
  expect(a.got).toEqual(['ipc:c1'])
  expect(a.member.unsent).toEqual([client('c1')])
  expect(b.got).toEqual(['ipc:c2'])
  expect(b.member.unsent).toEqual([client('c2')])
})

test('a removed worker takes nothing more', () => {
  const [a, b] = [fake(1), fake(2)]
  const rotation = new Rotation()
  rotation.add(a.member)
  rotation.add(b.member)
  rotation.handOut(client('c1'))
  rotation.remove(a.member)
  rotation.handOut(client('c2'))
  expect(a.got).toEqual(['pipe:c1'])
  expect(b.got).toEqual(['pipe:c2'])
  rotation.clear()
  expect(rotation.handOut(client('c3'))).toBe('none')
  expect(rotation.size).toBe(0)
})

test('a worker added again (its replacement, same id) holds one place, not two', () => {
  const [a, b, again] = [fake(1), fake(2), fake(1)]
  const rotation = new Rotation()
  rotation.add(a.member)
  rotation.add(b.member)
  rotation.add(again.member)
  expect(rotation.size).toBe(2)
  for (const name of ['c1', 'c2', 'c3', 'c4']) rotation.handOut(client(name))
  expect(a.got).toEqual([])
  expect(b.got).toEqual(['pipe:c1', 'pipe:c3'])
  expect(again.got).toEqual(['pipe:c2', 'pipe:c4'])
})
