import { IpcError } from './errors.js'

// The default `onInvalid` and `onError`: one line on stderr each, so that a dropped message or a
// failed handler is never silent.

// A report callback that throws would throw out of the 'message' listener, into the event loop.
export function guarded(
  report: (error: IpcError, context: unknown) => void,
): (error: IpcError, context: unknown) => void {
  return (error, context) => {
    try {
      report(error, context)
    } catch (failure) {
      printError(new IpcError(error.code, `${error.message} (and its report callback threw: ${String(failure)})`))
    }
  }
}

export function printError(error: IpcError): void {
  const cause = error.cause instanceof Error && error.code === 'HANDLER_FAILED' ? `\n${error.cause.stack}` : ''
  process.stderr.write(`ipc-protocol: ${error.code}: ${error.message}${cause}\n`)
}

export function printInvalid(peerName: string, error: IpcError): void {
  process.stderr.write(`ipc-protocol: dropped a message from ${peerName}: ${error.code}: ${error.message}\n`)
}
