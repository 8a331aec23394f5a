import { expect, test, vi } from 'vitest'
import * as z from 'zod/mini'

// This file imports the package only inside its tests, so that the first test sees zod's
// global settings as they were before the package was loaded.

const REJECTED_READY = { type: 'ready', v: 1, workerId: -1, pid: 1 }

async function freshPackage() {
  vi.resetModules()
  return await import('../src/index.js')
}

test("importing the package leaves zod's global settings as they were", async () => {
  const before = { ...z.config() }
  const consumerMessage = z.string().safeParse(1).error?.issues[0]?.message
  await freshPackage()
  expect(z.config()).toEqual(before)
  expect(z.string().safeParse(1).error?.issues[0]?.message).toBe(consumerMessage)
})

test.each([
  { raw: REJECTED_READY, message: "invalid 'ready' message: workerId: Too small: expected number to be >=0" },
  {
    raw: { type: 'ready', v: 1, workerId: 'one', pid: 1 },
    message: "invalid 'ready' message: workerId: Invalid input: expected number, received string",
  },
  {
    raw: { type: 'listening', v: 1, port: 80 },
    message: `invalid 'listening' message: message: Unrecognized key: "port"`,
  },
])('a rejected message names the field and the reason in English: $message', async ({ raw, message }) => {
  const { decodeWorkerMessage } = await freshPackage()
  expect(decodeWorkerMessage(raw)).toMatchObject({ code: 'INVALID_MESSAGE', message })
})

test("a consumer's global zod error map does not reword the package's messages", async () => {
  const { decodeWorkerMessage } = await freshPackage()
  const expected = (decodeWorkerMessage(REJECTED_READY) as Error).message
  const config = z.config()
  const saved = config.customError
  config.customError = () => 'the consumer says no'
  try {
    expect((decodeWorkerMessage(REJECTED_READY) as Error).message).toBe(expected)
    expect(z.string().safeParse(1).error?.issues[0]?.message).toBe('the consumer says no')
  } finally {
    if (saved === undefined) delete config.customError
    else config.customError = saved
  }
})
