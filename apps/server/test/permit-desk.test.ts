import { expect, test } from 'vitest'
import { PermitDesk } from '../src/supervisor/permit-desk.js'

test('one address gets at most its share; other addresses get the rest', () => {
  const desk = new PermitDesk(5, 4)
  const granted = Array.from({ length: 5 }, () => desk.request('w1', '127.0.0.2').granted)
  expect(granted).toEqual([true, true, true, true, false])
  expect(desk.request('w2', '127.0.0.3').granted).toBe(true)
  expect(desk.request('w2', '127.0.0.4').granted).toBe(false) // all five are taken
  expect(desk.inUse).toBe(5)
})

test('a released permit counts against its address no more', () => {
  const desk = new PermitDesk(2, 1)
  const first = desk.request('w1', '10.0.0.1')
  if (!first.granted) throw new Error('expected a permit')
  expect(desk.request('w1', '10.0.0.1').granted).toBe(false)
  desk.release('w1', first.permitId)
  expect(desk.request('w1', '10.0.0.1').granted).toBe(true)
})

test("a worker that dies gives back its permits and its clients' shares", () => {
  const desk = new PermitDesk(3, 1)
  desk.request('w1', 'a')
  desk.request('w1', 'b')
  expect(desk.releaseAll('w1')).toBe(2)
  expect(desk.request('w2', 'a').granted).toBe(true)
  expect(desk.request('w2', 'b').granted).toBe(true)
})

test('a request without a client address is limited only by the total', () => {
  const desk = new PermitDesk(2, 1)
  expect([desk.request('w1').granted, desk.request('w1').granted, desk.request('w1').granted]).toEqual([
    true,
    true,
    false,
  ])
})

test('a release from a worker that does not hold the permit is ignored', () => {
  const desk = new PermitDesk(1, 1)
  const permit = desk.request('w1', 'a')
  if (!permit.granted) throw new Error('expected a permit')
  desk.release('w2', permit.permitId)
  expect(desk.inUse).toBe(1)
})

test('a request that finds none free waits for a release on its way, and is denied if none comes', async () => {
  const desk = new PermitDesk(2, 1)
  const held = desk.request('w1', '127.0.0.1')
  if (!held.granted) throw new Error('expected a permit')
  const answers: boolean[] = []
  // The same client again, through another worker, before the first worker's release arrived.
  desk.requestSoon('w2', '127.0.0.1', (decision) => answers.push(decision.granted), 1000)
  expect(answers).toEqual([])
  desk.release('w1', held.permitId)
  expect(answers).toEqual([true])
  // None comes back: denied once the wait is over, not before.
  const started = Date.now()
  const denied = await new Promise<boolean>((resolve) =>
    desk.requestSoon('w1', '127.0.0.1', (decision) => resolve(decision.granted), 30),
  )
  expect(denied).toBe(false)
  expect(Date.now() - started).toBeGreaterThanOrEqual(25)
  expect(desk.inUse).toBe(1)
})

test('waiting requests are served oldest first and a dead worker frees permits for them', () => {
  const desk = new PermitDesk(1)
  desk.request('w1', 'a')
  const order: string[] = []
  desk.requestSoon('w2', 'b', (decision) => decision.granted && order.push('b'), 1000)
  desk.requestSoon('w2', 'c', (decision) => decision.granted && order.push('c'), 1000)
  expect(desk.releaseAll('w1')).toBe(1)
  expect(order).toEqual(['b']) // one permit: the older request has it, the other still waits
  expect(desk.releaseAll('w2')).toBe(1)
  expect(order).toEqual(['b', 'c'])
})
