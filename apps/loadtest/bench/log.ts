// Progress goes to stderr: stdout carries only the Markdown the run prints at the end.
export function log(text: string): void {
  process.stderr.write(`${text}\n`)
}
