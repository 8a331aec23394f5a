/**
 * Checks the output of the race: blocks of `start id round`, `body id round n` x bodies and
 * `end id round`, each complete and uninterrupted. Returns the problems found (none = good).
 */
export function findInterleaving(text: string, writers: number, rounds: number, bodies: number): string[] {
  const lines = text.split('\n').filter((line) => line !== '')
  const problems: string[] = []
  const blockLength = bodies + 2
  if (lines.length !== writers * rounds * blockLength) {
    problems.push(`expected ${writers * rounds * blockLength} lines, got ${lines.length}`)
  }
  const seen = new Set<string>()
  for (let at = 0; at + blockLength <= lines.length; at += blockLength) {
    const start = lines[at]?.split(' ') ?? []
    if (start[0] !== 'start') {
      problems.push(`line ${at + 1} should start a block: ${lines[at]}`)
      break
    }
    const owner = `${start[1]} ${start[2]}`
    seen.add(owner)
    for (let n = 0; n < bodies; n++) {
      if (lines[at + 1 + n] !== `body ${owner} ${n}`) problems.push(`line ${at + 2 + n} interrupts ${owner}`)
    }
    if (lines[at + blockLength - 1] !== `end ${owner}`) problems.push(`line ${at + blockLength} should end ${owner}`)
  }
  if (seen.size !== writers * rounds) problems.push(`expected ${writers * rounds} blocks, saw ${seen.size}`)
  return problems
}
