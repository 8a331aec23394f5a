// An SVG of req/s and p99 per server for each workload: bars scaled within each workload (a
// 1 MiB POST and a 1 KiB GET differ a hundredfold), the value written beside each bar.

export interface ChartGroup {
  readonly workload: string
  readonly rows: readonly { readonly label: string; readonly rps: number; readonly p99: number }[]
}

const COLORS = ['#2f6fde', '#7aa7f0', '#2e9e5b', '#e08a1e', '#9b59b6', '#c0392b', '#888888']
const LABEL_WIDTH = 250
const BAR_WIDTH = 260
const PANEL_GAP = 150
const ROW = 18
const GROUP_GAP = 30

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

function color(label: string, labels: string[]): string {
  const index = labels.indexOf(label)
  return COLORS[index % COLORS.length] ?? '#888888'
}

export function renderChart(groups: readonly ChartGroup[]): string {
  const labels = [...new Set(groups.flatMap((group) => group.rows.map((row) => row.label)))]
  const width = LABEL_WIDTH + 2 * BAR_WIDTH + PANEL_GAP + 100
  let y = 50
  const parts: string[] = []
  const rpsX = LABEL_WIDTH
  const p99X = LABEL_WIDTH + BAR_WIDTH + PANEL_GAP
  parts.push(`<text x="${rpsX}" y="30" font-weight="bold">requests/s (higher is better)</text>`)
  parts.push(`<text x="${p99X}" y="30" font-weight="bold">p99 latency, ms (lower is better)</text>`)
  for (const group of groups) {
    parts.push(`<text x="10" y="${y + 12}" font-weight="bold">${escapeXml(group.workload)}</text>`)
    y += ROW + 4
    const maxRps = Math.max(1, ...group.rows.map((row) => row.rps))
    const maxP99 = Math.max(0.001, ...group.rows.map((row) => row.p99))
    for (const row of group.rows) {
      const fill = color(row.label, labels)
      const rpsWidth = Math.max(1, (row.rps / maxRps) * BAR_WIDTH)
      const p99Width = Math.max(1, (row.p99 / maxP99) * BAR_WIDTH)
      parts.push(`<text x="${LABEL_WIDTH - 8}" y="${y + 12}" text-anchor="end">${escapeXml(row.label)}</text>`)
      parts.push(`<rect x="${rpsX}" y="${y}" width="${rpsWidth.toFixed(1)}" height="${ROW - 4}" fill="${fill}"/>`)
      parts.push(`<text x="${rpsX + rpsWidth + 6}" y="${y + 12}">${Math.round(row.rps).toLocaleString('en-US')}</text>`)
      parts.push(`<rect x="${p99X}" y="${y}" width="${p99Width.toFixed(1)}" height="${ROW - 4}" fill="${fill}"/>`)
      parts.push(`<text x="${p99X + p99Width + 6}" y="${y + 12}">${row.p99.toFixed(2)}</text>`)
      y += ROW
    }
    y += GROUP_GAP
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="sans-serif" font-size="12" role="img">`,
    '<title>bench:compare: requests/s and p99 latency per server and workload</title>',
    `<rect width="${width}" height="${y}" fill="white"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n')
}
