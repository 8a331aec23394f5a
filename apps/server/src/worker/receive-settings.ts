import type { connectToSupervisor } from '@threadserve/ipc-protocol'
import { PREFORKED_ENV, WORKER_CONFIG_ENV } from '../common/worker-env.js'
import { type Config, parseConfig } from '../config/config.js'

type SupervisorChannel = ReturnType<typeof connectToSupervisor>

const SETTINGS_REQUEST_INTERVAL_MS = 20
// A forked-early worker nobody answers leaves after this, whatever else went wrong: the
// supervisor gives a worker 15 s to be ready before it replaces it anyway.
const SETTINGS_WAIT_MS = 30_000

/** The settings as JSON text, checked against the settings table; throws if missing or invalid. */
function parseSettings(text: string | undefined): Config {
  if (text === undefined || text === '') {
    throw new Error('worker started without its settings (it is run by the supervisor)')
  }
  return parseConfig(JSON.parse(text))
}

/**
 * The settings, validated by the supervisor and checked again here: in the environment, or, for
 * a worker forked before the supervisor had read them (supervisor/fork-worker.ts), asked for
 * until the 'configure' answer comes (Node drops a message that arrives before anyone listens
 * for it, at either end). If the supervisor goes away first (a usage error, say), this worker
 * was never needed: it leaves quietly, as the supervisor has said what went wrong.
 */
export async function receiveSettings(env: NodeJS.ProcessEnv, channel: SupervisorChannel): Promise<Config> {
  if (env[PREFORKED_ENV] !== '1') return parseSettings(env[WORKER_CONFIG_ENV])
  const leave = (): never => process.exit(0)
  process.once('disconnect', leave)
  try {
    return await new Promise<Config>((resolve, reject) => {
      const ask = (): void => {
        // The supervisor may have stopped while this process was still loading: 'disconnect'
        // has fired already then, and only `connected` tells. (The first ask is immediate.)
        if (!process.connected) leave()
        channel.send({ type: 'settings-request', v: 1 })
      }
      const started = Date.now()
      const timer = setInterval(() => {
        if (Date.now() - started > SETTINGS_WAIT_MS) leave()
        ask()
      }, SETTINGS_REQUEST_INTERVAL_MS)
      channel.on('configure', (message) => {
        clearInterval(timer)
        try {
          resolve(parseSettings(message.settings))
        } catch (error) {
          reject(error)
        }
      })
      ask()
    })
  } finally {
    process.off('disconnect', leave)
  }
}
