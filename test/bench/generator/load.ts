/**
 * The load generator: N simulated users in rooms of `roomSize`, each joined and then sending a
 * pose every 50 ms (20 Hz, spread over ten 5 ms slots so the load is even), with small motion.
 * Every user receives all of its room's traffic; `observersPerRoom` of them decode it and report
 * the poses' tags to the Tracker, so that the generator's own cost stays well below the server's
 * (decoding Colyseus patches with its SDK for 500 users would take more than the generator's core).
 * One instance drives one target.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { Mover, MAX_SEQ } from '../lib/pose.ts'
import { phoenixAdapter } from './targets/phoenix.ts'
import { colyseusAdapter } from './targets/colyseus.ts'
import { rawAdapter } from './targets/relay.ts'
import type { TargetAdapter, TargetAddress, TargetClient } from './target.ts'
import { Tracker, type WindowStats } from './tracker.ts'

export const MOVE_INTERVAL_MS = 50
const SLOT_MS = 5
const SLOTS = MOVE_INTERVAL_MS / SLOT_MS
const HEARTBEAT_MS = 30_000
const LOOP_RESOLUTION_MS = 10

export function adapterFor (address: TargetAddress): TargetAdapter {
  switch (address.name) {
    case 'xr-rooms': return phoenixAdapter(address)
    case 'colyseus': return colyseusAdapter(address)
    case 'ws-relay':
    case 'ws-floor': return rawAdapter(address)
  }
}

interface User {
  index: number
  client: TargetClient
  mover: Mover
  seq: number
  moving: boolean
}

export interface GeneratorStats extends WindowStats {
  users: number
  rooms: number
  /** This process: CPU used in the window (percent of one core) and event loop delay. */
  generator: {
    cpuPercent: number
    /** CPU used from the start of the window to the end of settling, µs (to tell the bench's own CPU from others'). */
    cpuUs: number
    /** p99 of the event loop's delay beyond the monitor's 10 ms timer. */
    loopDelayP99Ms: number
    /** 5 ms send slots skipped because the generator fell more than a move interval behind. */
    lateSlots: number
  }
}

export interface AddResult { joined: number, ms: number }

export class LoadGenerator {
  readonly adapter: TargetAdapter
  readonly roomSize: number
  readonly observersPerRoom: number
  readonly tracker = new Tracker()
  readonly #users: User[] = []
  readonly #slots: User[][] = Array.from({ length: SLOTS }, () => [])
  readonly #idle: TargetClient[] = []
  #rooms = 0
  #ticker: NodeJS.Timeout | null = null
  #heartbeats: NodeJS.Timeout | null = null
  #slot = 0
  #nextSlotAt = 0
  #lateSlots = 0

  /** `observersPerRoom`: how many users of each room decode and time what they receive (default: all). */
  constructor (adapter: TargetAdapter, { roomSize = 10, observersPerRoom = roomSize }: { roomSize?: number, observersPerRoom?: number } = {}) {
    this.adapter = adapter
    this.roomSize = roomSize
    this.observersPerRoom = Math.min(roomSize, Math.max(1, observersPerRoom))
  }

  get users (): number {
    return this.#users.length
  }

  /**
   * Fills each room of `roomIds` with `roomSize` users who start moving once all have joined
   * (rooms joined `concurrency` users at a time).
   */
  async addUsers (roomIds: string[], { concurrency = 16 }: { concurrency?: number } = {}): Promise<AddResult> {
    const started = performance.now()
    const jobs: Array<{ index: number, roomId: string, observe: boolean }> = []
    for (const roomId of roomIds) {
      const room = this.#rooms++
      for (let k = 0; k < this.roomSize; k++) {
        const index = this.#users.length + jobs.length
        const observe = k < this.observersPerRoom
        this.tracker.addUser(index, room, this.roomSize, observe)
        jobs.push({ index, roomId, observe })
      }
    }
    const clients = await runLimited(jobs, concurrency, (job) => this.adapter.connect({ ...job, tracker: this.tracker }))
    for (let i = 0; i < jobs.length; i++) {
      const user: User = { index: jobs[i].index, client: clients[i], mover: new Mover(jobs[i].index), seq: 0, moving: true }
      this.#users[user.index] = user
      this.#slots[user.index % SLOTS].push(user)
    }
    this.#start()
    return { joined: jobs.length, ms: performance.now() - started }
  }

  /** Connects and joins `perRoom` users to each room who never move (idle connections); their traffic is not tracked. */
  async addIdle (roomIds: string[], perRoom: number, { concurrency = 16, firstIndex = 100_000 } = {}): Promise<AddResult> {
    const started = performance.now()
    const idleTracker = new Tracker()
    const jobs: Array<{ index: number, roomId: string }> = []
    for (const roomId of roomIds) for (let k = 0; k < perRoom; k++) jobs.push({ index: firstIndex + this.#idle.length + jobs.length, roomId })
    const clients = await runLimited(jobs, concurrency, ({ index, roomId }) => this.adapter.connect({ index, roomId, tracker: idleTracker, observe: false }))
    this.#idle.push(...clients)
    this.#startHeartbeats()
    return { joined: clients.length, ms: performance.now() - started }
  }

  closeIdle (): void {
    for (const client of this.#idle.splice(0)) client.close()
  }

  /** Measures a window of `ms`, settled `graceMs` after it ends. */
  async measure (ms: number, graceMs = 1000): Promise<GeneratorStats> {
    const delay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS })
    delay.enable()
    const cpu = process.cpuUsage()
    const lateBefore = this.#lateSlots
    const t0 = performance.now()
    this.tracker.begin(ms)
    await sleep(ms)
    this.tracker.endFrames()
    const used = process.cpuUsage(cpu)
    const elapsed = performance.now() - t0
    delay.disable()
    await sleep(graceMs)
    const window = this.tracker.settle()
    const total = process.cpuUsage(cpu)
    return {
      ...window,
      users: this.#users.length,
      rooms: this.#rooms,
      generator: {
        cpuPercent: Math.round((used.user + used.system) / 10 / elapsed),
        cpuUs: total.user + total.system,
        loopDelayP99Ms: Math.max(0, Math.round(delay.percentile(99) / 1e4) / 100 - LOOP_RESOLUTION_MS),
        lateSlots: this.#lateSlots - lateBefore
      }
    }
  }

  /** Stops moving and closes every connection. */
  close (): void {
    if (this.#ticker) clearInterval(this.#ticker)
    if (this.#heartbeats) clearInterval(this.#heartbeats)
    this.#ticker = this.#heartbeats = null
    for (const user of this.#users) user?.client.close()
    this.closeIdle()
  }

  #start (): void {
    this.#startHeartbeats()
    if (this.#ticker) return
    this.#nextSlotAt = performance.now()
    this.#ticker = setInterval(() => this.#tick(), SLOT_MS / 2)
  }

  #startHeartbeats (): void {
    this.#heartbeats ??= setInterval(() => {
      for (const user of this.#users) user?.client.heartbeat()
      for (const client of this.#idle) client.heartbeat()
    }, HEARTBEAT_MS)
  }

  // Runs every slot that is due; a generator more than one move interval behind skips ahead
  // (and counts it) rather than bursting, so an overloaded generator offers less, visibly.
  #tick (): void {
    let now = performance.now()
    while (now >= this.#nextSlotAt) {
      for (const user of this.#slots[this.#slot]) this.#move(user, now)
      this.#slot = (this.#slot + 1) % SLOTS
      this.#nextSlotAt += SLOT_MS
      now = performance.now()
      if (now - this.#nextSlotAt > MOVE_INTERVAL_MS) {
        this.#lateSlots += Math.floor((now - this.#nextSlotAt) / SLOT_MS)
        this.#nextSlotAt = now
      }
    }
  }

  #move (user: User, now: number): void {
    if (!user.moving) return
    if (user.seq >= MAX_SEQ) return
    const seq = ++user.seq
    this.tracker.sent(user.index, seq, now)
    user.client.move(user.mover.pose(seq, now))
  }
}

/** Maps `items` through `fn`, at most `limit` at a time, keeping order; the first failure rejects. */
export async function runLimited<T, R> (items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++
      results[i] = await fn(items[i])
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}
