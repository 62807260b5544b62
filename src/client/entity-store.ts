import type { Components, EntityMap } from '../shared/world.ts'

/** What happened to one entity after `replace` or `applyDiff`. */
export interface EntityChange {
  id: string
  kind: 'create' | 'update' | 'delete'
  /** Components that were added or whose value changed. */
  set: string[]
  /** Components the entity no longer has (all of them for a delete). */
  removed: string[]
}

type Comps = Record<string, unknown>

function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Structural equality for JSON values. */
export function jsonEqual (a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false
    return true
  }
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  if (ka.length !== kb.length) return false
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return false
    if (!jsonEqual((a as Comps)[k], (b as Comps)[k])) return false
  }
  return true
}

// Components live in prototype-less objects so that a hostile key such as
// "__proto__" stays a plain own property. `undefined` (never on the wire)
// counts as absent; `null` is a value.
function copyComponents (source: Record<string, unknown>, into: Comps = Object.create(null)): Comps {
  for (const key of Object.keys(source)) {
    if (source[key] !== undefined) into[key] = source[key]
  }
  return into
}

function compare (id: string, before: Comps | undefined, after: Comps | undefined): EntityChange | null {
  if (before === undefined && after === undefined) return null
  if (before === undefined) return { id, kind: 'create', set: Object.keys(after!), removed: [] }
  if (after === undefined) return { id, kind: 'delete', set: [], removed: Object.keys(before) }
  const set = Object.keys(after).filter(k => !(k in before) || !jsonEqual(before[k], after[k]))
  const removed = Object.keys(before).filter(k => !(k in after))
  if (set.length === 0 && removed.length === 0) return null
  return { id, kind: 'update', set, removed }
}

/**
 * The client's copy of the room's entities. Pure: it only keeps state and
 * reports, per call, which entities and components changed, so the scene
 * systems can react to exactly that.
 */
export class EntityStore {
  readonly #entities = new Map<string, Comps>()

  /** The live components of one entity (do not mutate). */
  get (id: string): Readonly<Comps> | undefined {
    return this.#entities.get(id)
  }

  has (id: string): boolean {
    return this.#entities.has(id)
  }

  ids (): string[] {
    return [...this.#entities.keys()]
  }

  get size (): number {
    return this.#entities.size
  }

  /** A deep copy of all entities, as plain objects. */
  snapshot (): EntityMap {
    const out: EntityMap = {}
    for (const [id, comps] of this.#entities) {
      Object.defineProperty(out, id, { value: structuredClone({ ...comps }), enumerable: true, writable: true, configurable: true })
    }
    return out
  }

  /** `entities_state`: the given map replaces everything. Non-object entries are ignored. */
  replace (state: unknown): EntityChange[] {
    const next = new Map<string, Comps>()
    if (isRecord(state)) {
      for (const id of Object.keys(state)) {
        const comps = state[id]
        if (isRecord(comps)) next.set(id, copyComponents(comps))
      }
    }
    const changes: EntityChange[] = []
    for (const [id, before] of this.#entities) {
      if (!next.has(id)) changes.push(compare(id, before, undefined)!)
    }
    for (const [id, after] of next) {
      const change = compare(id, this.#entities.get(id), after)
      if (change) changes.push(change)
    }
    this.#entities.clear()
    for (const [id, comps] of next) this.#entities.set(id, comps)
    return changes
  }

  /**
   * `entities_diff`: creates (replacing an existing entity's components),
   * then updates (merged; an update for an unknown id creates it), then deletes.
   * Returns one change per entity that actually changed.
   */
  applyDiff (diff: unknown): EntityChange[] {
    if (!isRecord(diff)) return []
    const before = new Map<string, Comps | undefined>()
    const touch = (id: string): void => {
      if (!before.has(id)) {
        const current = this.#entities.get(id)
        before.set(id, current ? copyComponents(current) : undefined)
      }
    }
    const { creates, updates, deletes } = diff
    if (isRecord(creates)) {
      for (const id of Object.keys(creates)) {
        const comps = creates[id]
        if (!isRecord(comps)) continue
        touch(id)
        this.#entities.set(id, copyComponents(comps))
      }
    }
    if (isRecord(updates)) {
      for (const id of Object.keys(updates)) {
        const comps = updates[id]
        if (!isRecord(comps)) continue
        touch(id)
        const current = this.#entities.get(id)
        this.#entities.set(id, copyComponents(comps, current ?? Object.create(null)))
      }
    }
    if (isRecord(deletes)) {
      for (const id of Object.keys(deletes)) {
        if (!this.#entities.has(id)) continue
        touch(id)
        this.#entities.delete(id)
      }
    }
    const changes: EntityChange[] = []
    for (const [id, prior] of before) {
      const change = compare(id, prior, this.#entities.get(id))
      if (change) changes.push(change)
    }
    return changes
  }

  /** A local, optimistic merge into one entity (e.g. grabbing); same rules as a diff update. */
  update (id: string, components: Components): EntityChange[] {
    return this.applyDiff({ updates: { [id]: components } })
  }
}
