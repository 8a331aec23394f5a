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
