/** The markdown report of a bench run: targets as columns, figures as rows, medians ± spread. */
import { TARGETS, type TargetName } from './generator/target.ts'
import { figures, median, spread, type LoadRun, type Results } from './results.ts'

const FLOOR: TargetName = 'ws-floor'

function num (value: number): string {
  if (Number.isNaN(value)) return 'n/a'
  const abs = Math.abs(value)
  // 999.6 rounds to 1,000 too, not to "1000".
  if (abs >= 999.5) return Math.round(value).toLocaleString('en-US')
  if (abs >= 100) return value.toFixed(0)
  if (abs >= 10) return value.toFixed(1)
  return value.toFixed(2)
}

function cell (values: number[]): string {
  const m = median(values)
  if (Number.isNaN(m)) return 'n/a'
  const s = spread(values)
  return values.length > 1 && s >= 0.5 ? `${num(m)} ±${s.toFixed(0)}%` : num(m)
}

function table (header: string[], rows: string[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => i === 0 ? '---' : '---:').join('|')}|`,
    ...rows.map((row) => `| ${row.join(' | ')} |`)
  ].join('\n')
}

function loadSection (results: Results, users: number, targets: TargetName[]): string {
  const runs = (target: TargetName): LoadRun[] => results.load.filter((r) => r.target === target && r.users === users)
  const present = targets.filter((t) => runs(t).length > 0)
  if (present.length === 0) return ''
  const first = runs(present[0])[0]
  // Some rows are one target's only (PostgreSQL CPU): n/a for the others.
  const rowNames = [...new Set(present.flatMap((t) => runs(t).flatMap((r) => Object.keys(figures(r)))))]
  const rows = rowNames.map((name) => [name, ...present.map((t) => cell(runs(t).map((r) => figures(r)[name] ?? NaN)))])
  const floorRuns = runs(FLOOR)
  if (floorRuns.length > 0) {
    const ratio = (name: string, t: TargetName): string => {
      const base = median(floorRuns.map((r) => figures(r)[name]))
      const value = median(runs(t).map((r) => figures(r)[name]))
      return base > 0 && !Number.isNaN(value) ? `${num(value / base)}×` : 'n/a'
    }
    rows.push(['server CPU ÷ floor', ...present.map((t) => ratio('server CPU % (one core)', t))])
    rows.push(['KB/s ÷ floor', ...present.map((t) => ratio('KB/s delivered', t))])
    rows.push(['p99 ÷ floor', ...present.map((t) => ratio('latency p99 ms', t))])
  }
  const n = runs(present[0]).length
  const rooms = first.rooms
  return `### ${users} users (${rooms} rooms of ${results.config.roomSize}, ${n} run${n === 1 ? '' : 's'} each)\n\n${table(['', ...present], rows)}\n`
}

function idleSection (results: Results, targets: TargetName[]): string {
  const present = targets.filter((t) => results.idle.some((r) => r.target === t))
  if (present.length === 0) return ''
  const of = (t: TargetName): typeof results.idle => results.idle.filter((r) => r.target === t)
  const rows = [
    ['RSS per idle connection, KB', ...present.map((t) => cell(of(t).map((r) => r.rssPerConnectionKB)))],
    ['JS heap per idle connection, KB', ...present.map((t) => cell(of(t).map((r) => r.heapPerConnectionKB)))]
  ]
  const k = results.idle[0].connections
  return `### Memory per idle connection (growth from ${k} to ${2 * k} connections joined to rooms of ${results.config.roomSize}, not moving; ws-floor: connected only)\n\n${table(['', ...present], rows)}\n`
}

function joinSection (results: Results): string {
  if (results.joins.length === 0) return ''
  const targets = TARGETS.filter((t) => results.joins.some((j) => j.target === t))
  const rows = results.config.joinSizes.map((size) => {
    const row = [size.toLocaleString('en-US')]
    for (const t of targets) {
      const j = results.joins.find((x) => x.target === t && x.entities === size)
      row.push(j ? cell(j.firstMs) : 'n/a', j ? cell(j.laterMs) : 'n/a', j ? num(j.bytes / 1024) : 'n/a')
    }
    return row
  })
  const header = ['entities', ...targets.flatMap((t) => [`${t} first join ms`, `${t} later joins ms`, `${t} state KB`])]
  return '### Join: from the join request to the complete initial state\n\n' +
    'xr-rooms: `phx_join` sent → `entities_state` received (the room starts on the first join). ' +
    'Colyseus: `joinById` called (matchmaking request, WebSocket handshake) → first state decoded.\n\n' +
    `${table(header, rows)}\n`
}

function rampSection (results: Results): string {
  if (results.ramp.length === 0) return ''
  const { rampP99LimitMs, rampLostLimitPercent } = results.config
  const rows = results.ramp.map((r) => {
    const last = r.steps.filter((s) => s.ok).at(-1)
    return [r.target, r.sustained.toLocaleString('en-US'), last ? num(last.p99Ms) : 'n/a', last ? num(last.serverCpuPercent) : 'n/a', r.stop]
  })
  return `### Ramp: most users sustained (p99 ≤ ${rampP99LimitMs} ms, lost ≤ ${rampLostLimitPercent}%; ${results.config.rampMeasureS} s measured per step)\n\n` +
    `${table(['target', 'users sustained', 'p99 ms there', 'server CPU % there', 'stopped because'], rows)}\n`
}

export function markdown (results: Results): string {
  const { machine, config } = results
  const targets = config.targets
  const parts = [
    `## Bench ${results.mode} run, ${results.startedAt}`,
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGB} GB, Node ${machine.node} (${machine.platform}); ` +
      `server and generator ${machine.pinned ? 'pinned to cores 0 and 1' : 'not pinned (no taskset or one core)'}. ` +
      `xr-rooms at ${machine.commit}${machine.srcDirty ? ' plus uncommitted changes in src/' : ''}, ` +
      `on ${config.database === 'postgres' ? 'PostgreSQL (DATABASE_URL)' : 'embedded PGlite in a directory on disk'}. ` +
      `Each user sends a pose at 20 Hz and receives everything of its room; ${config.observersPerRoom} per room decode it and time the moves (latency, skipped, lost count those). ` +
      `${config.warmupS} s warm-up, ${config.measureS} s measured, settled ${config.graceS} s later. ` +
      `Cells: median of the runs ±half their range. Took ${Math.round(results.durationS)} s.`,
    ...[...new Set(results.load.map((r) => r.users))].sort((a, b) => a - b).map((users) => loadSection(results, users, targets)),
    idleSection(results, targets),
    joinSection(results),
    rampSection(results)
  ]
  return parts.filter((p) => p !== '').join('\n\n') + '\n'
}
