import type { EntitiesDiff } from '../shared/world.ts'
import { PendingPoses, splitAvatarPoses } from './avatar-poses.ts'
import type { Clock } from './clock.ts'
import { mergeDiffs, splitByEntity } from './entities-diff.ts'
import type { Logger } from './logger.ts'

/** What persistence needs from the rooms data module. */
export interface DiffStore {
  updateEntities: (roomId: string, diff: EntitiesDiff) => Promise<void>
}

export interface PersistenceOptions {
  /** Diffs waiting behind the one being written before new ones are merged into the last. Default 1000. */
  maxQueue?: number
  /** Attempts at a diff the database rejects as invalid data before giving up on it. Default 3. */
  maxAttempts?: number
  /** First retry delay; doubles per failed attempt. Default 50 ms. */
  initialBackoffMs?: number
  /** Longest retry delay. Default 5000 ms. */
  maxBackoffMs?: number
  /**
   * Least time between the starts of two writes; the diffs arriving meanwhile are written
   * together, as one. Default 250 ms (0: each diff as it comes). A diff arriving after a quiet
   * spell is written at once, and `drain()` does not wait.
   */
  writeIntervalMs?: number
  /**
   * Least time between two writes of avatar poses (AVATAR_WRITE_INTERVAL_MS). Default 5000 ms;
   * 0 writes them like everything else. Poses are also written when their avatar is created
   * or deleted (a user joins or leaves) and by `drain()` (room stop, shutdown, restart).
   */
  avatarWriteIntervalMs?: number
  /** Told, for each diff written, how long after its emission that was (ms), e.g. for metrics. */
  onWritten?: (lagMs: number) => void
}

export interface PersistenceStats {
  /** Diffs not yet written, the one being written included. */
  queueDepth: number
  /** Age of the oldest unwritten diff, ms (0 when the queue is empty). */
  lagMs: number
  /** Successful writes. */
  writes: number
  /** Failed write attempts. */
  failures: number
  /** Diffs given up on (rejected as invalid data maxAttempts times). */
  dropped: number
  /** Diffs merged into the queue's last entry because the queue was full. */
  merged: number
  /** Avatars whose pose waits for the next pose write (not counted in queueDepth and lagMs). */
  pendingPoses: number
}

interface Entry {
  diff: EntitiesDiff
  enqueuedAt: number
  attempts: number
  /** One entity's part of a diff the database rejected: never batched with others again. */
  alone?: boolean
}

/**
 * Postgres rejects the data itself (class 22 data exception, e.g. invalid JSON text such as
 * "\u0000"; class 23 integrity violation, e.g. the room was deleted): trying again cannot help.
 * The SQLSTATE sits on the driver error, which Prisma wraps in `meta.driverAdapterError`.
 */
export function isDataRejection (error: unknown): boolean {
  const seen = new Set<unknown>()
  const queue = [error]
  while (queue.length > 0) {
    const e = queue.shift()
    if (typeof e !== 'object' || e === null || seen.has(e)) continue
    seen.add(e)
    const { code, originalCode, cause, meta } = e as Record<string, unknown>
    for (const value of [originalCode, code]) {
      if (typeof value === 'string' && /^2[23][0-9A-Z]{3}$/.test(value)) return true
    }
    queue.push(cause, (meta as Record<string, unknown> | undefined)?.driverAdapterError)
  }
  return false
}

export interface EntitiesStateOptions extends PersistenceOptions {
  roomId: string
  store: DiffStore
  clock: Clock
  logger: Logger
  /** Whether an entity is an avatar, whose pose updates wait (see avatarWriteIntervalMs). Default: none is. */
  isAvatar?: (entityId: string) => boolean
}

/**
 * One per room: writes every diff its room emits to the database, strictly
 * in order, one transaction at a time, never holding up the room (diffs queue meanwhile).
 *
 * - Writes start at most every `writeIntervalMs`; the diffs waiting then are folded into one
 *   (the EntitiesDiff rules) and written in one transaction. A room sends 20 diffs a second:
 *   one transaction each would spend most of the server's time in the database.
 * - A failed write is retried after an exponential backoff; later diffs wait, so order holds.
 * - When `maxQueue` diffs are waiting, a new one is merged into the last waiting one with the
 *   EntitiesDiff folding rules: memory stays bounded, nothing is dropped.
 * - A diff the database rejects as invalid data (see `isDataRejection`) would otherwise block
 *   the room's persistence forever. After `maxAttempts` such rejections a diff touching several
 *   entities is split into one diff per entity, so one client's bad value cannot cost everyone
 *   else's changes; a single-entity diff is then logged at error, with the diff, and dropped.
 *   Any other failure (connection lost, database restarting) is retried without limit: an
 *   outage must not lose data, and the queue bound keeps memory in check meanwhile.
 *
 * - Avatar poses are the most frequent and least valuable data: they wait, folded to the newest
 *   pose per avatar, and are written every `avatarWriteIntervalMs`, before their avatar's create
 *   or delete (join, leave), and on `drain()`. A process killed outright loses at most that
 *   interval of poses; world objects keep the `writeIntervalMs` bound.
 *
 * A write whose commit succeeded but whose reply was lost is written again; that is harmless
 * because applying a diff twice in a row leaves the same world as applying it once.
 */
export class EntitiesStateServer {
  readonly #o: Required<Omit<EntitiesStateOptions, 'onWritten' | 'isAvatar'>> & Pick<EntitiesStateOptions, 'onWritten' | 'isAvatar'>
  readonly #queue: Entry[] = []
  readonly #idle: Array<() => void> = []
  readonly #stats = { writes: 0, failures: 0, dropped: 0, merged: 0 }
  #busy = false
  #retryTimer: unknown = null
  #intervalTimer: unknown = null
  readonly #poses = new PendingPoses()
  #posesTimer: unknown = null
  /** When poses were last queued for writing (clock time). */
  #posesQueuedAt = -Infinity
  /** When the last write started (clock time). */
  #lastWriteAt = -Infinity
  #stopped = false

  constructor (options: EntitiesStateOptions) {
    this.#o = { maxQueue: 1000, maxAttempts: 3, initialBackoffMs: 50, maxBackoffMs: 5000, writeIntervalMs: 250, avatarWriteIntervalMs: 5000, ...definedOnly(options) }
  }

  /** Queues a diff for writing (its room's EntitiesDiff calls this with each diff it emits). */
  enqueue (diff: EntitiesDiff): void {
    if (this.#stopped) throw new Error(`persistence of room ${this.#o.roomId} is stopped`)
    const { isAvatar } = this.#o
    if (isAvatar === undefined || this.#o.avatarWriteIntervalMs === 0) {
      this.#push(diff)
    } else {
      const { lasting, poses } = splitAvatarPoses(diff, isAvatar)
      if (poses) {
        this.#poses.add(poses, this.#o.clock.now())
        this.#armPoses()
      }
      if (lasting) {
        if (this.#poses.precedes(lasting)) this.#queuePoses()
        this.#push(lasting)
      }
    }
    this.#next()
  }

  #push (diff: EntitiesDiff): void {
    const waiting = this.#queue.length - (this.#busy ? 1 : 0)
    const last = this.#queue[this.#queue.length - 1]
    if (waiting >= this.#o.maxQueue && last) {
      last.diff = mergeDiffs([last.diff, diff])
      this.#stats.merged++
    } else {
      this.#queue.push({ diff, enqueuedAt: this.#o.clock.now(), attempts: 0 })
    }
  }

  #armPoses (): void {
    if (this.#posesTimer !== null) return
    const wait = this.#posesQueuedAt + this.#o.avatarWriteIntervalMs - this.#o.clock.now()
    // After a quiet spell: at once, like any diff.
    if (wait <= 0) {
      this.#queuePoses()
      return
    }
    this.#posesTimer = this.#o.clock.setTimeout(() => {
      this.#posesTimer = null
      this.#queuePoses()
      this.#next()
    }, wait)
  }

  /** Moves the waiting poses into the write queue, behind what is there. */
  #queuePoses (): void {
    if (this.#posesTimer !== null) this.#o.clock.clearTimeout(this.#posesTimer)
    this.#posesTimer = null
    const poses = this.#poses.take()
    if (poses === null) return
    this.#posesQueuedAt = this.#o.clock.now()
    this.#push(poses)
  }

  /** Writes what waits now, without waiting for the write interval; resolves when every queued diff has been written (or given up on). */
  drain (): Promise<void> {
    if (!this.#stopped) this.#queuePoses()
    if (this.#queue.length === 0 && !this.#busy) return Promise.resolve()
    const drained = new Promise<void>((resolve) => this.#idle.push(resolve))
    this.#next()
    return drained
  }

  stats (): PersistenceStats {
    const oldest = this.#queue[0]
    return {
      queueDepth: this.#queue.length,
      lagMs: oldest ? Math.max(0, this.#o.clock.now() - oldest.enqueuedAt) : 0,
      ...this.#stats,
      pendingPoses: this.#poses.size
    }
  }

  /** Stops taking diffs and retrying. Call `drain()` first: whatever is still queued is lost (and logged). */
  stop (): void {
    this.#stopped = true
    if (this.#retryTimer !== null) this.#o.clock.clearTimeout(this.#retryTimer)
    this.#cancelInterval()
    if (this.#posesTimer !== null) this.#o.clock.clearTimeout(this.#posesTimer)
    this.#posesTimer = null
    const poses = this.#poses.take()
    if (poses) this.#queue.push({ diff: poses, enqueuedAt: this.#poses.since, attempts: 0 })
    if (this.#queue.length > 0) {
      this.#o.logger.error({ roomId: this.#o.roomId, diffs: this.#queue.map((entry) => entry.diff) }, 'stopped with unwritten diffs')
      this.#queue.length = 0
    }
    this.#settleIdle()
  }

  #next (): void {
    if (this.#busy || this.#stopped || this.#queue.length === 0) return
    const wait = this.#lastWriteAt + this.#o.writeIntervalMs - this.#o.clock.now()
    if (wait > 0 && this.#idle.length === 0) {
      this.#intervalTimer ??= this.#o.clock.setTimeout(() => {
        this.#intervalTimer = null
        this.#next()
      }, wait)
      return
    }
    this.#cancelInterval()
    this.#batch()
    this.#busy = true
    this.#lastWriteAt = this.#o.clock.now()
    void this.#write()
  }

  #cancelInterval (): void {
    if (this.#intervalTimer === null) return
    this.#o.clock.clearTimeout(this.#intervalTimer)
    this.#intervalTimer = null
  }

  /** Folds the diffs waiting at the head of the queue into its first, which is written next. */
  #batch (): void {
    const [head] = this.#queue
    if (!head || head.alone || this.#o.writeIntervalMs === 0) return
    let end = 1
    while (end < this.#queue.length && !this.#queue[end]!.alone) end++
    if (end === 1) return
    const batch = this.#queue.splice(0, end)
    this.#queue.unshift({ diff: mergeDiffs(batch.map((entry) => entry.diff)), enqueuedAt: head.enqueuedAt, attempts: head.attempts })
  }

  async #write (): Promise<void> {
    const entry = this.#queue[0]!
    try {
      await this.#o.store.updateEntities(this.#o.roomId, entry.diff)
      this.#stats.writes++
      this.#queue.shift()
      this.#o.onWritten?.(this.#o.clock.now() - entry.enqueuedAt)
    } catch (err) {
      if (this.#stopped) return
      this.#stats.failures++
      entry.attempts++
      if (!isDataRejection(err) || entry.attempts < this.#o.maxAttempts) {
        const delay = Math.min(this.#o.initialBackoffMs * 2 ** (entry.attempts - 1), this.#o.maxBackoffMs)
        this.#o.logger.warn({ err, roomId: this.#o.roomId, attempts: entry.attempts, retryInMs: delay }, 'writing an entities diff failed; will retry')
        this.#retryTimer = this.#o.clock.setTimeout(() => {
          this.#retryTimer = null
          void this.#write()
        }, delay)
        return
      }
      this.#giveUp(entry, err)
    }
    this.#busy = false
    if (this.#queue.length === 0) this.#settleIdle()
    else this.#next()
  }

  #giveUp (entry: Entry, err: unknown): void {
    const parts = splitByEntity(entry.diff)
    if (parts.length > 1) {
      this.#o.logger.warn({ err, roomId: this.#o.roomId, entities: parts.length }, 'the database rejects an entities diff; writing it entity by entity')
      this.#queue.splice(0, 1, ...parts.map((diff) => ({ diff, enqueuedAt: entry.enqueuedAt, attempts: 0, alone: true })))
      return
    }
    this.#stats.dropped++
    this.#queue.shift()
    this.#o.logger.error({ err, roomId: this.#o.roomId, diff: entry.diff, attempts: entry.attempts }, 'the database rejects an entities diff; dropping it')
  }

  #settleIdle (): void {
    for (const resolve of this.#idle.splice(0)) resolve()
  }
}

function definedOnly<T extends object> (options: T): T {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as T
}
