/** A problem with how the server was started (flag, env value, port, root): one line, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}
