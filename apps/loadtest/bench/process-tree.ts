import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'

// CPU time and resident memory of a server's whole process tree, from /proc: a multi-process
// server (ThreadServe's supervisor and workers, nginx's master and workers) is compared by all
// it uses, not by its first process.

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100
const PAGE_KIB = 4

/** The pid and every descendant, from /proc. */
function processTree(rootPid: number): number[] {
  const children = new Map<number, number[]>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      const list = children.get(ppid) ?? []
      list.push(Number(entry))
      children.set(ppid, list)
    } catch {
      // the process ended while we looked
    }
  }
  const tree = [rootPid]
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i] as number) ?? []))
  return tree
}

/** utime+stime of the tree, plus cutime+cstime (children that exited and were reaped), in seconds. */
export function treeCpuSeconds(rootPid: number): number {
  let ticks = 0
  for (const pid of processTree(rootPid)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      // fields[0] is field 3 (state); utime, stime, cutime, cstime are fields 14-17.
      for (let k = 11; k <= 14; k++) ticks += Number(fields[k])
    } catch {
      // ended
    }
  }
  return ticks / CLOCK_TICKS
}

/** Resident memory of a process tree: the sum, and the largest single process. */
export function treeRssMiB(rootPid: number): { sum: number; largest: number } {
  let sum = 0
  let largest = 0
  for (const pid of processTree(rootPid)) {
    try {
      const pages = Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1])
      sum += pages
      largest = Math.max(largest, pages)
    } catch {
      // ended
    }
  }
  return { sum: (sum * PAGE_KIB) / 1024, largest: (largest * PAGE_KIB) / 1024 }
}
