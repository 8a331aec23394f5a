import type { Channel, HealthMessage, SupervisorMessage, WorkerMessage } from '@threadserve/ipc-protocol'

// What a load balancer's health check learns (--health-path): a worker answers the request, but
// only the supervisor knows whether the server is starting, draining or short of workers, so the
// worker asks it with 'health-request' and this desk answers.
//
// 'starting' lasts until every worker has been ready once: a balancer that sent a full share of
// clients to a host with one worker of five up would overload it while the others boot (on 2
// cores they come one at a time). From then on one ready worker is enough for 'ok': a worker that
// crashed is back within a second, and taking the whole host out for that would move all of its
// clients for a blip. 'draining' starts with SIGINT/SIGTERM and never ends.

export type HealthStatus = HealthMessage['status']

export class HealthDesk {
  readonly #permitsInUse: () => number
  #started = false
  #draining = false

  constructor(permitsInUse: () => number) {
    this.#permitsInUse = permitsInUse
  }

  /** Every worker has been ready once: from now on, 'ok' while one is. */
  started(): void {
    this.#started = true
  }

  /** A stop signal came: 503 from now on, so that balancers stop sending clients here. */
  drain(): void {
    this.#draining = true
  }

  /** The status with `readyWorkers` workers ready now. */
  status(readyWorkers: number): HealthStatus {
    if (this.#draining) return 'draining'
    if (!this.#started) return 'starting'
    return readyWorkers > 0 ? 'ok' : 'no-workers'
  }

  /** Answers one worker's health requests; `readyWorkers` counts the workers ready now. */
  serve(channel: Channel<WorkerMessage, SupervisorMessage>, readyWorkers: () => number): void {
    channel.on('health-request', ({ requestId }) => {
      const workers = readyWorkers()
      const status = this.status(workers)
      channel.send({ type: 'health', v: 1, requestId, status, workers, permitsInUse: this.#permitsInUse() })
    })
  }
}
