/**
 * Benchmarks xr-rooms side by side with Colyseus and two raw `ws` baselines (see the Performance section of the README).
 *
 *   npm run bench -- --quick          one run at 50 users, idle memory, joins: under 2 minutes
 *   npm run bench                     3 runs at 50, 200 and 500 users, idle memory, joins, ramp
 *   npm run bench -- --targets xr-rooms,colyseus --levels 100 --runs 5 --no-ramp
 *   npm run bench -- --profile xr-rooms --levels 400   CPU profile of the server over one window
 *   npm run bench -- --targets xr-rooms --levels 200 --server-node-options="--max-semi-space-size=4"   V8 flags of xr-rooms's server process
 *
 * Each target server runs in its own process pinned to core 0, the load generator in another
 * pinned to core 1 (taskset, when there are two cores). Results go to test/bench/results/.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { compiledServerChild } from './lib/compiled.ts'
import { Child, canPin } from './lib/ipc.ts'
import { cpuSince, cpuTimes, processCpuMs, waitForQuiet } from './lib/machine.ts'
import type { AddResult, GeneratorStats } from './generator/load.ts'
import { TARGETS, type TargetAddress, type TargetName } from './generator/target.ts'
import { markdown } from './report.ts'
import type { IdleRun, JoinRun, LoadRun, Machine, RampResult, RampStep, Results, ServerWindow } from './results.ts'
import { summarizeProfile } from './profile-summary.ts'
import { migratedDump } from '../helpers/database.ts'

const HERE = import.meta.dirname
const GENERATOR_CHILD = path.join(HERE, 'generator/child.ts')
/** The target servers run compiled, as in production; the generator runs from TypeScript. */
const serverChild = compiledServerChild()
const RESULTS_DIR = path.join(HERE, 'results')
const SERVER_CORE = 0
const GENERATOR_CORE = 1
const MB = 1024 * 1024

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    targets: { type: 'string' },
    levels: { type: 'string' },
    runs: { type: 'string' },
    'room-size': { type: 'string' },
    observers: { type: 'string' },
    'measure-s': { type: 'string' },
    'warmup-s': { type: 'string' },
    idle: { type: 'string' },
    joins: { type: 'string' },
    'no-ramp': { type: 'boolean', default: false },
    ramp: { type: 'boolean', default: false },
    'ramp-steps': { type: 'string' },
    profile: { type: 'string' },
    'server-node-options': { type: 'string' },
    out: { type: 'string' }
  }
})

const list = (value: string | undefined): number[] | undefined => value?.split(',').filter(Boolean).map(Number)
const quick = args.quick
const profileTarget = args.profile as TargetName | undefined
const targets = (args.targets?.split(',') ?? (profileTarget ? [profileTarget] : [...TARGETS])) as TargetName[]
for (const t of targets) if (!TARGETS.includes(t)) throw new Error(`unknown target ${t}; one of ${TARGETS.join(', ')}`)
const custom = args.levels !== undefined || args.targets !== undefined || args.runs !== undefined || profileTarget !== undefined
const config: Results['config'] = {
  targets,
  // The server process inherits the environment: servers/ours.ts opens DATABASE_URL when set.
  database: process.env.DATABASE_URL ? 'postgres' : 'pglite',
  levels: list(args.levels) ?? (quick ? [50] : [50, 200, 500]),
  runs: Number(args.runs ?? (quick || profileTarget ? 1 : 3)),
  roomSize: Number(args['room-size'] ?? 10),
  observersPerRoom: Number(args.observers ?? 2),
  warmupS: Number(args['warmup-s'] ?? (quick ? 1.5 : 3)),
  measureS: Number(args['measure-s'] ?? (quick ? 4 : 10)),
  rampMeasureS: Number(args['measure-s'] ?? (quick ? 3 : 5)),
  graceS: 1,
  idleConnections: Number(args.idle ?? (profileTarget ? 0 : quick ? 200 : 1000)),
  joinSizes: list(args.joins) ?? (profileTarget ? [] : quick ? [100, 1000, 10_000] : [100, 1000, 10_000]),
  rampP99LimitMs: 100,
  rampLostLimitPercent: 0.1,
  serverNodeOptions: args['server-node-options']?.split(' ').filter(Boolean) ?? []
}
const joinRepeats = quick ? 3 : 5
/** Rooms per size in the join benchmark: each gives one first join. */
const FIRST_JOIN_ROOMS = 3
const doRamp = args.ramp || (!quick && !args['no-ramp'] && !custom)
const rampSteps = list(args['ramp-steps']) ?? [50, 100, 150, 200, 300, 400, 500, 600, 700, 800, 1000, 1200, 1400, 1600, 2000, 2500, 3000]

function git (...gitArgs: string[]): string {
  try {
    return execFileSync('git', gitArgs, { cwd: path.resolve(HERE, '../..'), encoding: 'utf8' }).trim()
  } catch {
    return ''
  }
}

/** Other work on the machine above this (percent of one core) makes a window noisy: it is measured again. */
const NOISY_OTHER_CPU = 20
/** What counts as a quiet machine before a window starts. */
const QUIET_OTHER_CPU = 10
const MAX_ATTEMPTS = quick ? 1 : 3
/** How long to wait for other work on the machine to stop before going ahead anyway (quick: keep under 2 minutes). */
const QUIET_TIMEOUT_MS = quick ? 2_000 : 300_000

const machine: Machine = {
  cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
  cores: os.availableParallelism(),
  memoryGB: Math.round(os.totalmem() / 1024 ** 3),
  node: process.versions.node,
  platform: `${os.platform()} ${os.release()}`,
  pinned: canPin(),
  commit: git('rev-parse', '--short', 'HEAD') || 'unknown',
  srcDirty: git('status', '--porcelain', '--', 'src', 'prisma') !== ''
}

const log = (...parts: unknown[]): void => { console.log(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...parts) }

interface Usage { cpuUs: number, rss: number, heapUsed: number, at: number }

/** CPU ms used so far by the PostgreSQL server xr-rooms writes to (0 on PGlite: that is in the server process). */
const databaseCpuMs = (): number => config.database === 'postgres' ? processCpuMs('postgres') : 0

/** Waits (for a while) until nothing else uses the machine, logging while it waits. */
async function quiet (): Promise<void> {
  let said = false
  await waitForQuiet({
    maxBusyPercent: QUIET_OTHER_CPU,
    sampleMs: 1000,
    timeoutMs: QUIET_TIMEOUT_MS,
    onWait: (busy) => {
      if (!said) log(`waiting for a quiet machine (${busy.toFixed(0)}% of a core busy elsewhere)`)
      said = true
    }
  })
}

/** One target server and one generator, both started and joined up. */
class Pair {
  private constructor (readonly target: TargetName, readonly server: Child, readonly generator: Child) {}

  static async start (target: TargetName): Promise<Pair> {
    await quiet()
    const execArgv = target === 'xr-rooms' ? config.serverNodeOptions : []
    const server = Child.start(await serverChild, { args: [target], core: SERVER_CORE, label: `server ${target}`, execArgv })
    const generator = Child.start(GENERATOR_CHILD, { core: GENERATOR_CORE, label: `generator ${target}` })
    const info = await server.call<{ port: number, secret?: string }>('info', undefined, 120_000)
    const address: TargetAddress = { name: target, port: info.port, secret: info.secret }
    await generator.call('init', { address, roomSize: config.roomSize, observersPerRoom: config.observersPerRoom })
    return new Pair(target, server, generator)
  }

  rooms (count: number, entities = 0): Promise<string[]> {
    return this.server.call<string[]>('rooms', { count, entities }, 600_000)
  }

  usage (): Promise<Usage> {
    return this.server.call<Usage>('usage')
  }

  async addUsers (users: number): Promise<AddResult> {
    const roomIds = await this.rooms(Math.ceil(users / config.roomSize))
    return await this.generator.call<AddResult>('add', { roomIds }, 600_000)
  }

  /**
   * A measuring window, with the server's CPU and memory over it and the CPU anything else on
   * the machine used meanwhile. A window where other work took more than NOISY_OTHER_CPU is
   * measured again (up to MAX_ATTEMPTS in all, after waiting for the machine to calm down).
   */
  async measure (seconds = config.measureS): Promise<{ stats: GeneratorStats, server: ServerWindow }> {
    let result: { stats: GeneratorStats, server: ServerWindow } | undefined
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      await this.#settle()
      result = await this.#measureOnce(seconds)
      if (!(result.server.otherCpuPercent > NOISY_OTHER_CPU)) break
      log(`${this.target}: ${result.server.otherCpuPercent}% of a core used by other processes during the window${attempt < MAX_ATTEMPTS ? '; measuring again' : '; kept, marked in the results'}`)
    }
    return result!
  }

  /** CPU used by processes other than the bench's over `ms` from now, percent of one core. */
  async #otherCpu (ms: number): Promise<number> {
    const machineBefore = cpuTimes()
    const self = process.cpuUsage()
    const database0 = databaseCpuMs()
    const [server0, generator0] = await Promise.all([this.usage(), this.generator.call<{ cpuUs: number }>('usage')])
    await sleep(ms)
    const [server1, generator1] = await Promise.all([this.usage(), this.generator.call<{ cpuUs: number }>('usage')])
    const mine = process.cpuUsage(self)
    const busy = cpuSince(machineBefore).busyPercent
    const bench = 100 * (server1.cpuUs - server0.cpuUs + generator1.cpuUs - generator0.cpuUs + mine.user + mine.system) / 1000 / ms +
      100 * (databaseCpuMs() - database0) / ms
    return busy - bench
  }

  /** Waits, load running, until nothing but the bench uses the machine (or QUIET_TIMEOUT_MS passed). */
  async #settle (): Promise<void> {
    const deadline = performance.now() + QUIET_TIMEOUT_MS
    let said = false
    for (;;) {
      const other = await this.#otherCpu(1000)
      if (!(other > QUIET_OTHER_CPU) || performance.now() > deadline) return
      if (!said) log(`${this.target}: waiting for other processes to stop (${other.toFixed(0)}% of a core)`)
      said = true
    }
  }

  async #measureOnce (seconds: number): Promise<{ stats: GeneratorStats, server: ServerWindow }> {
    const machineBefore = cpuTimes()
    const self = process.cpuUsage()
    const database0 = databaseCpuMs()
    const before = await this.usage()
    const stats = await this.generator.call<GeneratorStats>('measure', { ms: seconds * 1000, graceMs: config.graceS * 1000 })
    const after = await this.usage()
    const databaseMs = databaseCpuMs() - database0
    const mine = process.cpuUsage(self)
    const machineUse = cpuSince(machineBefore)
    const elapsedMs = after.at - before.at
    const serverUs = after.cpuUs - before.cpuUs
    // Busy CPU of the machine minus the server's (and its database's), the generator's and this process's own.
    const benchPercent = 100 * (serverUs + stats.generator.cpuUs + mine.user + mine.system) / 1000 / elapsedMs + 100 * databaseMs / elapsedMs
    const round1 = (n: number): number => Math.round(n * 10) / 10
    return {
      stats,
      server: {
        cpuPercent: round1(100 * serverUs / 1000 / elapsedMs),
        rssMB: round1(after.rss / MB),
        heapMB: round1(after.heapUsed / MB),
        otherCpuPercent: round1(Math.max(0, machineUse.busyPercent - benchPercent)),
        stealPercent: round1(machineUse.stealPercent),
        ...(config.database === 'postgres' && this.target === 'xr-rooms' ? { databaseCpuPercent: round1(100 * databaseMs / elapsedMs) } : {})
      }
    }
  }

  async stop (): Promise<void> {
    await Promise.all([this.generator.stop(), this.server.stop()])
  }
}

async function idleMemory (pair: Pair, run: number): Promise<IdleRun> {
  const k = config.idleConnections
  const perRoom = config.roomSize
  const roomCount = Math.ceil(k / perRoom)
  // The raw baselines' connections join no room (ws-floor would send to them otherwise).
  const roomIds = pair.target === 'ws-floor' || pair.target === 'ws-relay' ? new Array<string>(roomCount).fill('') : await pair.rooms(roomCount)
  // What each more connection costs: the second half's growth over the first's. What the first
  // joins cost once (code run for the first time, a database thread's heap growing with its
  // first queries, which the main thread's gc() does not collect) falls in the first half.
  const half = Math.ceil(roomCount / 2)
  const settled = async (): Promise<Usage> => {
    await sleep(quick ? 2000 : 5000)
    await pair.server.call('gc')
    await sleep(500)
    return await pair.usage()
  }
  await pair.generator.call('idle', { roomIds: roomIds.slice(0, half), perRoom }, 600_000)
  const before = await settled()
  await pair.generator.call('idle', { roomIds: roomIds.slice(half), perRoom }, 600_000)
  const after = await settled()
  await pair.generator.call('closeIdle')
  const connections = (roomCount - half) * perRoom
  return {
    target: pair.target,
    run,
    connections,
    rssPerConnectionKB: Math.round((after.rss - before.rss) / 1024 / connections * 10) / 10,
    heapPerConnectionKB: Math.round((after.heapUsed - before.heapUsed) / 1024 / connections * 10) / 10
  }
}

async function loadRun (target: TargetName, users: number, run: number, idle: boolean, results: Results): Promise<void> {
  const pair = await Pair.start(target)
  try {
    if (idle && config.idleConnections > 0) {
      const memory = await idleMemory(pair, run)
      results.idle.push(memory)
      log(`${target}: ${memory.rssPerConnectionKB} KB RSS per idle connection`)
      await sleep(1000)
    }
    const added = await pair.addUsers(users)
    await sleep(config.warmupS * 1000)
    const { stats, server } = await pair.measure()
    const rooms = Math.ceil(users / config.roomSize)
    results.load.push({ target, run, users: added.joined, rooms, stats, server })
    log(`${target} ${users} users run ${run}: p50 ${stats.latencyMs.p50} p99 ${stats.latencyMs.p99} ms, server CPU ${server.cpuPercent}%` +
      (target === 'ws-floor' ? '' : `, lost ${stats.lostPairs}/${stats.expectedPairs}`) +
      `, generator CPU ${stats.generator.cpuPercent}%, other ${server.otherCpuPercent}%`)
  } finally {
    await pair.stop()
  }
}

async function joins (target: TargetName, results: Results): Promise<void> {
  if (target !== 'xr-rooms' && target !== 'colyseus') return
  const pair = await Pair.start(target)
  try {
    // Warm-up, as the load runs have one: the server's first join ever pays for code run for the
    // first time (JIT, Prisma compiling each query shape), which is not a room's first join.
    const [warmup] = await pair.rooms(1, 1)
    await pair.generator.call('joins', { roomId: warmup, times: 2 }, 600_000)
    for (const size of config.joinSizes) {
      // A room's first join is one sample per room: a few rooms give it a spread.
      const run: JoinRun = { target, entities: size, firstMs: [], laterMs: [], bytes: 0 }
      for (const roomId of await pair.rooms(FIRST_JOIN_ROOMS, size)) {
        const [first, ...later] = await pair.generator.call<Array<{ ms: number, bytes: number, entities: number }>>('joins', { roomId, times: joinRepeats }, 600_000)
        if (first.entities < size) throw new Error(`${target}: joined a room of ${size} entities but got ${first.entities}`)
        run.firstMs.push(first.ms)
        run.laterMs.push(...later.map((t) => t.ms))
        run.bytes = first.bytes
        log(`${target} join ${size} entities: first ${first.ms.toFixed(1)} ms, then ${later.map((t) => t.ms.toFixed(1)).join(', ')} ms`)
      }
      results.joins.push(run)
    }
  } finally {
    await pair.stop()
  }
}

async function ramp (target: TargetName): Promise<RampResult> {
  const pair = await Pair.start(target)
  const steps: RampStep[] = []
  let sustained = 0
  let stop = `reached the last step (${rampSteps.at(-1)})`
  try {
    for (const users of rampSteps) {
      try {
        await pair.addUsers(users - (steps.length === 0 ? 0 : steps.at(-1)!.users))
      } catch (err) {
        stop = `joins failed at ${users}: ${(err as Error).message.split('\n')[0]}`
        break
      }
      await sleep(2000)
      const { stats, server } = await pair.measure(config.rampMeasureS)
      const lostPercent = target === 'ws-floor' ? 0 : 100 * stats.lostPairs / (stats.expectedPairs || 1)
      const p99 = stats.latencyMs.p99
      const ok = p99 <= config.rampP99LimitMs && lostPercent <= config.rampLostLimitPercent
      const generatorBound = stats.generator.cpuPercent >= 85
      steps.push({ users, ok, generatorBound, p99Ms: p99, lostPercent, serverCpuPercent: server.cpuPercent, generatorCpuPercent: stats.generator.cpuPercent, otherCpuPercent: server.otherCpuPercent })
      log(`ramp ${target} ${users} users: p99 ${p99} ms, lost ${lostPercent.toFixed(3)}%, server CPU ${server.cpuPercent}%, ` +
        `generator CPU ${stats.generator.cpuPercent}% (${stats.generator.lateSlots} late slots), other ${server.otherCpuPercent}%${ok ? '' : ' ← over the limit'}`)
      if (!ok) {
        stop = p99 > config.rampP99LimitMs ? `p99 ${p99} ms at ${users} users` : `${lostPercent.toFixed(2)}% lost at ${users} users`
        if (generatorBound) stop += ' (generator saturated too)'
        break
      }
      sustained = users
      if (generatorBound) {
        stop = `generator saturated at ${users} users (CPU ${stats.generator.cpuPercent}%): the target may hold more`
        break
      }
    }
  } finally {
    await pair.stop()
  }
  return { target, sustained, stop, steps }
}

/**
 * Runs `users` against the target with V8's CPU profiler on in the server process during one
 * measuring window, saves the .cpuprofile under results/profiles/ and prints where the time went.
 */
async function profile (target: TargetName, users: number): Promise<void> {
  const dir = path.join(RESULTS_DIR, 'profiles')
  fs.mkdirSync(dir, { recursive: true })
  const file = path.join(dir, `${targetFileName(target)}-${users}u-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`)
  const pair = await Pair.start(target)
  try {
    await pair.addUsers(users)
    await sleep(config.warmupS * 1000)
    await pair.server.call('profileStart', { intervalUs: 200 })
    const { stats, server } = await pair.measure()
    await pair.server.call('profileStop', { file })
    log(`profiled ${target} at ${users} users: p50 ${stats.latencyMs.p50} p99 ${stats.latencyMs.p99} ms, server CPU ${server.cpuPercent}%, ` +
      `skipped ${(100 * stats.skippedPairs / (stats.expectedPairs || 1)).toFixed(1)}%, other CPU ${server.otherCpuPercent}%`)
  } finally {
    await pair.stop()
  }
  console.log(`\nProfile: ${path.relative(process.cwd(), file)}\n`)
  console.log(summarizeProfile(JSON.parse(fs.readFileSync(file, 'utf8')), { root: path.resolve(HERE, '../..'), top: 30 }))
}

const targetFileName = (t: TargetName): string => t.replace(/[^a-z0-9-]/g, '')

async function main (): Promise<void> {
  const started = Date.now()
  if (profileTarget) {
    await profile(profileTarget, config.levels[0])
    return
  }
  const mode: Results['mode'] = custom ? 'custom' : quick ? 'quick' : 'full'
  // Made here once, so that no server's main thread ever runs the PGlite that makes it.
  if (targets.includes('xr-rooms') && config.database === 'pglite') await migratedDump()
  const results: Results = { startedAt: new Date(started).toISOString(), mode, durationS: 0, machine, config, load: [], idle: [], joins: [], ramp: [] }
  if (mode === 'full') {
    // Test suites come and go in bursts: a full run starts after five quiet seconds in a row.
    log('waiting for a quiet machine')
    await waitForQuiet({ maxBusyPercent: QUIET_OTHER_CPU, sampleMs: 5000, timeoutMs: QUIET_TIMEOUT_MS })
  }
  log(`${mode} run: ${targets.join(', ')} at ${config.levels.join(', ')} users, ${config.runs} run(s), xr-rooms on ${config.database}; ${machine.cpu}, ${machine.cores} cores, ${machine.pinned ? 'pinned' : 'not pinned'}`)
  // Runs interleave the targets, so that a drift of the machine spreads over all of them.
  for (let run = 1; run <= config.runs; run++) {
    for (const [i, users] of config.levels.entries()) {
      for (const target of targets) await loadRun(target, users, run, i === 0, results)
    }
  }
  if (config.joinSizes.length > 0) for (const target of targets) await joins(target, results)
  if (doRamp) for (const target of targets) results.ramp.push(await ramp(target))
  results.durationS = (Date.now() - started) / 1000

  fs.mkdirSync(RESULTS_DIR, { recursive: true })
  const stamp = results.startedAt.replace(/[:.]/g, '-')
  const base = path.join(RESULTS_DIR, args.out ?? `${mode}-${stamp}`)
  const md = markdown(results)
  fs.writeFileSync(`${base}.json`, JSON.stringify(results, null, 2) + '\n')
  fs.writeFileSync(`${base}.md`, md)
  console.log('\n' + md)
  log(`wrote ${path.relative(process.cwd(), base)}.json and .md in ${Math.round(results.durationS)} s`)
}

await main()
