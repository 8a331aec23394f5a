// The environment variables through which the supervisor tells a worker process who it is and
// what its settings are. Both processes read this module; nothing else passes between them
// outside @threadserve/ipc-protocol.

/** The worker's number, 1 to --workers. */
export const WORKER_ID_ENV = 'THREADSERVE_WORKER_ID'

/** The settings, as the JSON of a Config (config/config.ts), checked again by the worker. */
export const WORKER_CONFIG_ENV = 'THREADSERVE_WORKER_CONFIG'

/** '1': the worker was forked before its settings existed; they come in a 'configure' message. */
export const PREFORKED_ENV = 'THREADSERVE_WORKER_PREFORKED'

/**
 * The descriptor (a number) on which a worker finds its end of the hand-off pipe
 * (common/hand-off-pair.ts); absent when connections come over Node's IPC channel.
 */
export const HAND_OFF_FD_ENV = 'THREADSERVE_HAND_OFF_FD'
