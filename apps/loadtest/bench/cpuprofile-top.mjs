#!/usr/bin/env node
// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function, as a share of the
// process's busy (non-idle) time. Usage: node cpuprofile-top.mjs FILE.cpuprofile [ROWS]
import { readFileSync } from 'node:fs'

const [file, rows = '30'] = process.argv.slice(2)
if (file === undefined) {
  process.stderr.write('usage: node cpuprofile-top.mjs FILE.cpuprofile [ROWS]\n')
  process.exit(2)
}
const profile = JSON.parse(readFileSync(file, 'utf8'))
const nodes = new Map(profile.nodes.map((node) => [node.id, node]))
const selfByName = new Map()
let total = 0
profile.samples.forEach((id, index) => {
  const frame = nodes.get(id).callFrame
  const name = `${frame.functionName || '(anonymous)'} ${frame.url.split('/').at(-1)}:${frame.lineNumber + 1}`
  const micros = profile.timeDeltas[index] ?? 0
  selfByName.set(name, (selfByName.get(name) ?? 0) + micros)
  total += micros
})
const idle = [...selfByName].filter(([name]) => name.startsWith('(idle)')).reduce((sum, [, t]) => sum + t, 0)
const busy = total - idle
process.stdout.write(`${file}: ${(total / 1e3).toFixed(0)} ms sampled, ${(busy / 1e3).toFixed(0)} ms busy\n`)
const top = [...selfByName].filter(([name]) => !name.startsWith('(idle)')).sort((a, b) => b[1] - a[1])
for (const [name, micros] of top.slice(0, Number(rows))) {
  process.stdout.write(`${((100 * micros) / busy).toFixed(1).padStart(5)}%  ${name}\n`)
}
