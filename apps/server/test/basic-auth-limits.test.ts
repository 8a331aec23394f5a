import { expect, test } from 'vitest'
import { BasicAuthenticator, hashPassword } from '../src/auth/basic-auth.js'

// The Basic checker under a flood: a bad password repeated costs no second scrypt, and no more
// than a bounded number of checks wait for the thread pool.

const CREDENTIALS = [{ user: 'ann', hash: hashPassword('right horse battery') }]

function header(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
}

test('the right password is accepted and a wrong one refused', async () => {
  const auth = new BasicAuthenticator(CREDENTIALS)
  expect(await auth.verify(header('ann', 'right horse battery'))).toBe('ok')
  expect(await auth.verify(header('ann', 'wrong'))).toBe('denied')
  expect(await auth.verify(undefined)).toBe('denied')
})

test('a flood of distinct wrong passwords is answered busy past the waiting room, never queued without bound', async () => {
  const auth = new BasicAuthenticator(CREDENTIALS)
  const verdicts = await Promise.all(Array.from({ length: 100 }, (_, i) => auth.verify(header('ann', `guess ${i}`))))
  const busy = verdicts.filter((v) => v === 'busy').length
  // Two run, 64 wait: the other 34 are told to come back later.
  expect(busy).toBe(100 - 2 - 64)
  expect(verdicts.filter((v) => v === 'denied')).toHaveLength(66)
})

test('a wrong password already seen is refused without waiting behind a flood', async () => {
  const auth = new BasicAuthenticator(CREDENTIALS)
  expect(await auth.verify(header('ann', 'seen before'))).toBe('denied')
  const flood = Array.from({ length: 80 }, (_, i) => auth.verify(header('ann', `new guess ${i}`)))
  // The flood fills the running and waiting places; the remembered failure needs neither.
  expect(await auth.verify(header('ann', 'seen before'))).toBe('denied')
  await Promise.all(flood)
})

test('credentials already accepted are accepted during a flood too', async () => {
  const auth = new BasicAuthenticator(CREDENTIALS)
  expect(await auth.verify(header('ann', 'right horse battery'))).toBe('ok')
  const flood = Array.from({ length: 80 }, (_, i) => auth.verify(header('ann', `new guess ${i}`)))
  expect(await auth.verify(header('ann', 'right horse battery'))).toBe('ok')
  await Promise.all(flood)
})
