import type { FleetMember } from './fleet-member.js'

// What SIGUSR2 prints about the workers: each one's state, and its own figures if it answers.

/** One worker as SIGUSR2 reports it. */
export interface WorkerSample {
  readonly id: number
  readonly pid: number | undefined
  readonly ready: boolean
  readonly inFlight?: number
  readonly queued?: number
  readonly served?: number
  readonly rssBytes?: number
  /** Connections closed for want of a valid PROXY header (--proxy-protocol). */
  readonly proxyHeadersRefused?: number
}

/**
 * Process ids and readiness of `members`, with each ready worker's own figures (requests in
 * flight, queued, served, RSS) where it answers within `timeoutMs`.
 */
export async function sampleMembers(members: readonly FleetMember[], timeoutMs: number): Promise<WorkerSample[]> {
  return Promise.all(
    members.map(async (m): Promise<WorkerSample> => {
      const sample = { id: m.id, pid: m.child.pid, ready: m.state === 'ready' }
      if (m.state !== 'ready') return sample
      try {
        const reply = await m.channel.request({ type: 'stats-request', v: 1 }, { timeoutMs })
        const { inFlight, queued, served, rssBytes, proxyHeadersRefused = 0 } = reply
        return { ...sample, inFlight, queued, served, rssBytes, proxyHeadersRefused }
      } catch {
        return sample // busy past the timeout, or gone meanwhile: its figures are left out
      }
    }),
  )
}
