/** What a bench run records (the JSON file), and the figures derived from it. */
import type { GeneratorStats } from './generator/load.ts'
import type { TargetName } from './generator/target.ts'

export interface Machine {
  cpu: string
  cores: number
  memoryGB: number
  node: string
  platform: string
  /** Whether server and generator were pinned to cores 0 and 1 (taskset). */
  pinned: boolean
  /** The project's commit, and whether src/ had uncommitted changes (the code measured). */
  commit: string
  srcDirty: boolean
}

export interface ServerWindow {
  /** CPU of the server process over the window, percent of one core. */
  cpuPercent: number
  rssMB: number
  heapMB: number
  /** CPU used by anything but the bench's processes meanwhile (percent of one core), and hypervisor steal. */
  otherCpuPercent: number
  stealPercent: number
  /** xr-rooms on PostgreSQL: CPU of the postgres processes over the window (percent of one core). */
  databaseCpuPercent?: number
}

export interface LoadRun {
  target: TargetName
  run: number
  users: number
  rooms: number
  stats: GeneratorStats
  server: ServerWindow
}

export interface IdleRun {
  target: TargetName
  run: number
  connections: number
  rssPerConnectionKB: number
  heapPerConnectionKB: number
}

export interface JoinRun {
  target: TargetName
  entities: number
  /**
   * The first join of each of a few rooms of this size (it starts the room: loaded from the
   * database); one number in runs before 2026-12-04, which timed one room.
   */
  firstMs: number[]
  /** The joins after each first one, room running. */
  laterMs: number[]
  bytes: number
}

export interface RampStep {
  users: number
  ok: boolean
  generatorBound: boolean
  p99Ms: number
  lostPercent: number
  serverCpuPercent: number
  generatorCpuPercent: number
  otherCpuPercent: number
}

export interface RampResult {
  target: TargetName
  /** Largest user count that kept p99 ≤ the limit with no loss. */
  sustained: number
  /** Why the ramp stopped. */
  stop: string
  steps: RampStep[]
}

export interface Results {
  startedAt: string
  mode: 'quick' | 'full' | 'custom'
  durationS: number
  machine: Machine
  config: {
    targets: TargetName[]
    /** Where xr-rooms keeps its data: embedded PGlite on disk, or PostgreSQL (DATABASE_URL). */
    database: 'pglite' | 'postgres'
    levels: number[]
    runs: number
    roomSize: number
    /** Users per room that decode and time what they receive (all receive). */
    observersPerRoom: number
    warmupS: number
    measureS: number
    /** The measuring window of each ramp step. */
    rampMeasureS: number
    graceS: number
    idleConnections: number
    joinSizes: number[]
    rampP99LimitMs: number
    rampLostLimitPercent: number
    /** Node options of the xr-rooms server process (`--server-node-options`), e.g. V8 heap flags being tried. */
    serverNodeOptions?: string[]
  }
  load: LoadRun[]
  idle: IdleRun[]
  joins: JoinRun[]
  ramp: RampResult[]
}

/** The figures of one load run, by row name; NaN where a figure means nothing for the target. */
export function figures (run: LoadRun): Record<string, number> {
  const s = run.stats
  const floor = run.target === 'ws-floor'
  const pairs = s.expectedPairs || NaN
  return {
    'moves/s offered': s.offered / s.seconds,
    'moves/s delivered': floor ? NaN : s.delivered / s.seconds,
    'skipped (coalesced) %': floor ? NaN : 100 * s.skippedPairs / pairs,
    'lost %': floor ? NaN : 100 * s.lostPairs / pairs,
    'diffs/s delivered': s.diffFrames / s.seconds,
    'KB/s delivered': s.bytes / s.seconds / 1024,
    'latency p50 ms': s.latencyMs.p50,
    'latency p90 ms': s.latencyMs.p90,
    'latency p99 ms': s.latencyMs.p99,
    'latency max ms': s.latencyMs.max,
    'server CPU % (one core)': run.server.cpuPercent,
    ...(run.server.databaseCpuPercent === undefined ? {} : { 'PostgreSQL CPU %': run.server.databaseCpuPercent }),
    'server RSS MB': run.server.rssMB,
    'generator CPU %': s.generator.cpuPercent,
    'other CPU on the machine %': run.server.otherCpuPercent
  }
}

export const median = (values: number[]): number => {
  const v = values.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b)
  if (v.length === 0) return NaN
  const mid = v.length >> 1
  return v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2
}

/** Half the range as a percentage of the median (0 for one value). */
export const spread = (values: number[]): number => {
  const v = values.filter((x) => !Number.isNaN(x))
  const m = median(v)
  if (v.length < 2 || m === 0 || Number.isNaN(m)) return 0
  return 100 * (Math.max(...v) - Math.min(...v)) / 2 / Math.abs(m)
}
