import type { Components, EntityMap } from '../shared/world.ts'
import { put } from './entities-diff.ts'
import type { Mutation } from './state-mutation.ts'

/**
 * A running room's world in memory: the stored world it started from, with every mutation
 * since applied in stream order as the database will apply the diffs made of them (a create
 * replaces the entity, an update merges into a live one and is ignored otherwise, a delete
 * removes it). Joins read it instead of the database: no query, and nothing emitted but not
 * yet written can be missing from it.
 *
 * Component objects are replaced, never changed in place, so a snapshot stays as it was
 * taken; callers must not change what they are given.
 */
export class RoomWorld {
  readonly #entities = new Map<string, Components>()

  load (world: EntityMap): void {
    this.#entities.clear()
    for (const [id, components] of Object.entries(world)) this.#entities.set(id, { ...components })
  }

  apply (mutations: readonly Mutation[]): void {
    for (const mutation of mutations) {
      const { entityId } = mutation
      if (mutation.op === 'delete') {
        this.#entities.delete(entityId)
      } else if (mutation.op === 'create') {
        this.#entities.set(entityId, { ...mutation.components })
      } else {
        const live = this.#entities.get(entityId)
        if (live) this.#entities.set(entityId, { ...live, ...mutation.components })
      }
    }
  }

  /** The world now, as `{entityId: {component: value}}`. */
  snapshot (): EntityMap {
    const world: EntityMap = {}
    for (const [id, components] of this.#entities) put(world, id, components)
    return world
  }

  /** One entity's components, if it exists. */
  get (entityId: string): Components | undefined {
    return this.#entities.get(entityId)
  }

  /** Every entity, as [id, components]. */
  entries (): IterableIterator<[string, Components]> {
    return this.#entities.entries()
  }

  get size (): number {
    return this.#entities.size
  }
}
