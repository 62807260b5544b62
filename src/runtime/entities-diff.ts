/**
 * Turns a room's mutations into `entities_diff` messages on a clock (the patch rate), not
 * per event: every mutation of a sync window is folded into at most one change per entity.
 *
 * A diff is applied as: creates (replace the entity), then updates (merged into the entity;
 * the database ignores an update of an entity it does not have), then deletes. Folding follows
 * from that. With `c` the components of a create, `u` of an update and `a ⊕ b` a merge where
 * b's values win:
 *
 * | pending \ next | create c2 | update u                    | delete         |
 * |----------------|-----------|-----------------------------|----------------|
 * | (none)         | create c2 | update u                    | delete         |
 * | create c       | create c2 | create c ⊕ u                | create c, then delete |
 * | update v       | create c2 | update v ⊕ u                | update v, then delete |
 * | delete         | create c2 | delete (the update dropped) | delete         |
 *
 * So a create always wins (it replaces whatever the entity was, which is also why delete →
 * create is just the create), an update merges into what is pending unless the entity is gone,
 * and a delete keeps what came before it in the window: the entity is both in creates (or
 * updates) and in deletes, which applies as that change, then the delete. Soft-deleted rows thus
 * keep their last values (a user who moves and leaves within one window resumes where they
 * left), and a create → delete still deletes an entity that existed before the window. Each
 * result is exactly what applying the two changes one after the other would do, so the same
 * rules merge whole diffs
 * (see `mergeDiffs`, used by the persistence queue when it is full).
 */
import type { Components, EntitiesDiff } from '../shared/world.ts'
import type { Clock } from './clock.ts'
import { deepFreeze } from './deep-freeze.ts'
import type { PubSub } from './pubsub.ts'
import type { Mutation } from './state-mutation.ts'
import { topics } from './topics.ts'

type Change = { op: 'create' | 'update', components: Components }
/** A delete remembers the change before it in the window, which is applied first. */
type Pending = Change | { op: 'delete', before: Change | null }

/** One cell of the table above. Never mutates its inputs. */
function coalesce (pending: Pending | undefined, next: Mutation): Pending {
  if (next.op === 'create') return { op: 'create', components: next.components }
  if (next.op === 'delete') return { op: 'delete', before: pending === undefined ? null : pending.op === 'delete' ? pending.before : pending }
  if (pending === undefined) return { op: 'update', components: next.components }
  if (pending.op === 'delete') return pending
  return { op: pending.op, components: { ...pending.components, ...next.components } }
}

// Ids are untrusted: defineProperty keeps an id such as "__proto__" an ordinary key.
/** Sets an own key, whatever its name ("__proto__" included), as the database stores it. */
export function put (target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
}

const emptyDiff = (): EntitiesDiff => ({ creates: {}, updates: {}, deletes: {} })

/** Pending changes, at most one per entity, folded with the table above. */
export class Coalescer {
  readonly #pending = new Map<string, Pending>()

  add (mutation: Mutation): void {
    this.#pending.set(mutation.entityId, coalesce(this.#pending.get(mutation.entityId), mutation))
  }

  /** Entities with a pending change. */
  get size (): number {
    return this.#pending.size
  }

  /** The pending changes as one diff, or null when there are none; empties the coalescer. */
  take (): EntitiesDiff | null {
    if (this.#pending.size === 0) return null
    const diff = emptyDiff()
    for (const [id, pending] of this.#pending) {
      const change = pending.op === 'delete' ? pending.before : pending
      if (change) put(change.op === 'create' ? diff.creates : diff.updates, id, change.components)
      if (pending.op === 'delete') put(diff.deletes, id, true)
    }
    this.#pending.clear()
    return diff
  }
}

/** A diff as the sequence of mutations it stands for: creates, then updates, then deletes. */
function * diffMutations (diff: EntitiesDiff): Generator<Mutation> {
  for (const [entityId, components] of Object.entries(diff.creates)) yield { op: 'create', entityId, components }
  for (const [entityId, components] of Object.entries(diff.updates)) yield { op: 'update', entityId, components }
  for (const entityId of Object.keys(diff.deletes)) yield { op: 'delete', entityId }
}

/** One diff equivalent to applying `diffs` in order. */
export function mergeDiffs (diffs: EntitiesDiff[]): EntitiesDiff {
  const coalescer = new Coalescer()
  for (const diff of diffs) for (const mutation of diffMutations(diff)) coalescer.add(mutation)
  return coalescer.take() ?? emptyDiff()
}

/** One diff per entity, together equivalent to `diff` (entities are independent). */
export function splitByEntity (diff: EntitiesDiff): EntitiesDiff[] {
  const parts = new Map<string, EntitiesDiff>()
  for (const section of ['creates', 'updates', 'deletes'] as const) {
    for (const [id, value] of Object.entries(diff[section])) {
      let part = parts.get(id)
      if (!part) parts.set(id, part = emptyDiff())
      put(part[section], id, value)
    }
  }
  return [...parts.values()]
}

export interface EntitiesDiffOptions {
  roomId: string
  /** Carries the diff to the room's sockets (`room:<id>`), in this process and any other. */
  pubsub: PubSub
  /** Hands the diff to the room's persistence (EntitiesState), before the sockets get it; a throw fails the emit. */
  persist: (diff: EntitiesDiff) => void
  clock: Clock
  syncIntervalMs: number
  /** Called when an emit fails (the room treats it as a crash). */
  onError: (error: unknown) => void
}

/**
 * One per room. Collects mutations and emits the folded diff, frozen, to its room's persistence
 * (a direct call: both live in the room) and to `room:<id>` as `{ event: 'entities_diff',
 * payload }` (for sockets): one sync interval after the first mutation of a quiet room, then on that
 * cadence (every interval after the previous emit was due) while mutations keep coming. An
 * empty window emits nothing and arms no timer.
 */
export class EntitiesDiffServer {
  readonly #o: EntitiesDiffOptions
  readonly #coalescer = new Coalescer()
  #timer: unknown = null
  /** When the last timed emit was due (clock time). */
  #lastDue = -Infinity
  #emitted = 0

  constructor (options: EntitiesDiffOptions) {
    this.#o = options
  }

  add (mutations: Iterable<Mutation>): void {
    for (const mutation of mutations) this.#coalescer.add(mutation)
    if (this.#timer === null && this.#coalescer.size > 0) this.#arm()
  }

  // Timing the next emit from the previous one's due time, not from this mutation, keeps a busy
  // room at one diff per interval: otherwise a timer firing late (a busy event loop) and the
  // wait for the next mutation after an emit would stretch every window, and moves would be
  // held longer and superseded more often. A room quiet for a whole interval starts afresh.
  #arm (): void {
    const now = this.#o.clock.now()
    const cadence = this.#lastDue + this.#o.syncIntervalMs
    const due = cadence > now ? cadence : now + this.#o.syncIntervalMs
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = null
      this.#lastDue = due
      this.flush().catch(this.#o.onError)
    }, due - now)
  }

  /**
   * Emits what is pending now. Resolves with the diff (null when there was nothing) once
   * persistence and local subscribers have it; rejects when either refuses it.
   */
  async flush (): Promise<EntitiesDiff | null> {
    this.#cancelTimer()
    const taken = this.#coalescer.take()
    if (!taken) return null
    this.#emitted++
    // Shared, not copied, by persistence and the pubsub: frozen, so none of them can change
    // what the others see.
    const diff = deepFreeze(taken)
    // Persistence first: if the socket broadcast then fails, the room crashes, and rejoining
    // clients read a world that already includes this diff.
    this.#o.persist(diff)
    await this.#o.pubsub.broadcast(topics.room(this.#o.roomId), { event: 'entities_diff', payload: diff })
    return diff
  }

  /** Entities with a change waiting for the next emit. */
  get pendingEntities (): number {
    return this.#coalescer.size
  }

  /** Diffs emitted so far. */
  get emitted (): number {
    return this.#emitted
  }

  /** Cancels the timer; pending changes stay until `flush`. */
  stop (): void {
    this.#cancelTimer()
  }

  #cancelTimer (): void {
    if (this.#timer === null) return
    this.#o.clock.clearTimeout(this.#timer)
    this.#timer = null
  }
}
