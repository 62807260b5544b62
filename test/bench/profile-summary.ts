/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and lists where the time went: self time by
 * function, total (inclusive) time of the project's own functions, and self time by file.
 *
 *   npx tsx test/bench/profile-summary.ts test/bench/results/profiles/<file>.cpuprofile
 *
 * tsx compiles TypeScript on load, so the profile's line numbers are those of the compiled code;
 * for the project's files the line of the function's definition is looked up in the source.
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

interface CallFrame { functionName: string, url: string, lineNumber: number, columnNumber: number }
interface ProfileNode { id: number, callFrame: CallFrame, hitCount?: number, children?: number[] }
export interface CpuProfile { nodes: ProfileNode[], startTime: number, endTime: number, samples: number[], timeDeltas: number[] }

interface Row { name: string, where: string, selfMs: number, totalMs: number }

const sourceCache = new Map<string, string[] | null>()

function sourceLines (file: string): string[] | null {
  if (!sourceCache.has(file)) {
    try {
      sourceCache.set(file, fs.readFileSync(file, 'utf8').split('\n'))
    } catch {
      sourceCache.set(file, null)
    }
  }
  return sourceCache.get(file) ?? null
}

// A method or function definition (`#deliver (`, `async join (`, `function decode (`) first, then
// an arrow assigned to a name (`const x = (`, `send: (frame) =>`), at the start of a line.
function definitionLine (file: string, name: string): number | null {
  const lines = sourceLines(file)
  if (!lines || name === '' || name === '(anonymous)') return null
  const escaped = name.replace(/^#/, '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const modifiers = '^\\s*(export\\s+)?(default\\s+)?(private\\s+|public\\s+|protected\\s+)?(static\\s+)?(async\\s+)?(get\\s+|set\\s+)?(function\\s*\\*?\\s*)?\\*?#?'
  const patterns = [
    new RegExp(`${modifiers}${escaped}\\s*(<[^>]*>)?\\s*\\(.*\\)[^=]*\\{\\s*$`),
    new RegExp(`${modifiers}${escaped}\\s*(<[^>]*>)?\\s*\\(`),
    new RegExp(`^\\s*(export\\s+)?(const|let|readonly)?\\s*#?${escaped}\\s*[=:]\\s*(async\\s*)?\\(.*=>`)
  ]
  for (const pattern of patterns) {
    const i = lines.findIndex((line) => pattern.test(line))
    if (i >= 0) return i + 1
  }
  return null
}

function describe (frame: CallFrame, root: string): { name: string, where: string } {
  const name = frame.functionName || '(anonymous)'
  if (!frame.url) return { name, where: '(native)' }
  let file = frame.url
  if (file.startsWith('file://')) file = fileURLToPath(file)
  const rel = file.startsWith(root) ? path.relative(root, file) : file.replace(/^.*node_modules\//, 'node_modules/')
  const ours = file.startsWith(root) && !rel.startsWith('node_modules') && rel.endsWith('.ts')
  const line = ours ? definitionLine(file, name) : null
  return { name, where: line ? `${rel}:${line}` : `${rel}:${frame.lineNumber + 1} (compiled)` }
}

export function summarizeProfile (profile: CpuProfile, { root, top = 25 }: { root: string, top?: number }): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  // Self time per node from the sample intervals.
  const selfUs = new Map<number, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  }
  const totalUs = profile.endTime - profile.startTime
  const keyOf = (n: ProfileNode): string => `${n.callFrame.functionName}\u0000${n.callFrame.url}\u0000${n.callFrame.lineNumber}`
  const rows = new Map<string, Row>()
  const rowOf = (n: ProfileNode): Row => {
    const key = keyOf(n)
    let row = rows.get(key)
    if (!row) rows.set(key, row = { ...describe(n.callFrame, root), selfMs: 0, totalMs: 0 })
    return row
  }
  for (const [id, us] of selfUs) {
    const node = byId.get(id)
    if (!node) continue
    rowOf(node).selfMs += us / 1000
    // Inclusive: every distinct function on the sample's stack, once.
    const seen = new Set<string>()
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur)
      if (!n) break
      const key = keyOf(n)
      if (seen.has(key)) continue
      seen.add(key)
      rowOf(n).totalMs += us / 1000
    }
  }
  const all = [...rows.values()]
  const pct = (ms: number): string => `${(100 * ms * 1000 / totalUs).toFixed(1)}%`
  const fmt = (r: Row, ms: number): string => `${pct(ms).padStart(6)}  ${ms.toFixed(0).padStart(7)} ms  ${r.name}  ${r.where}`
  const selfTop = all.filter((r) => r.name !== '(idle)').sort((a, b) => b.selfMs - a.selfMs).slice(0, top)
  const isOurs = (r: Row): boolean => /^(src|test)\//.test(r.where)
  const oursTop = all.filter(isOurs).sort((a, b) => b.totalMs - a.totalMs).slice(0, top)
  const byFile = new Map<string, number>()
  for (const r of all) {
    const file = r.where.replace(/:\d+.*$/, '').replace(/^(node_modules\/(@[^/]+\/)?[^/]+)\/.*$/, '$1')
    byFile.set(file, (byFile.get(file) ?? 0) + r.selfMs)
  }
  const files = [...byFile].sort((a, b) => b[1] - a[1]).slice(0, top)
  const idle = all.filter((r) => r.name === '(idle)').reduce((s, r) => s + r.selfMs, 0)
  return [
    `Profile of ${(totalUs / 1e6).toFixed(1)} s, ${pct(idle)} idle.`,
    '',
    'Self time by function:',
    ...selfTop.map((r) => fmt(r, r.selfMs)),
    '',
    'Total (inclusive) time of the project\'s functions:',
    ...oursTop.map((r) => fmt(r, r.totalMs)),
    '',
    'Self time by file or package:',
    ...files.map(([file, ms]) => `${pct(ms).padStart(6)}  ${ms.toFixed(0).padStart(7)} ms  ${file}`)
  ].join('\n')
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const file = process.argv[2]
  if (!file) throw new Error('usage: profile-summary.ts <file.cpuprofile> [top]')
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile
  console.log(summarizeProfile(profile, { root: path.resolve(import.meta.dirname, '../..'), top: Number(process.argv[3] ?? 30) }))
}
