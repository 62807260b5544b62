import type { EntityMap } from '../db/types.ts'
import type { Mutation, RoomEvent } from './state-mutation.ts'

/**
 * One per room: which entities can be held (`holdable: true`) and whose hand each one is in
 * (its `parent`, "<user_id>:<hand>"), kept from the room's own mutations, so that grabs are
 * checked in stream order without reading the database:
 *
 * - `user_picked_up` needs a holdable target. Taking it out of another hand is allowed, as
 *   one person hands a thing to another; an avatar, the floor or an unknown id is refused.
 * - `user_released` needs the target to be in one of the releasing user's hands, so nobody
 *   can drop (or move, by its `position`) what someone else holds or what nobody holds.
 */
export class Holdables {
  /** Holdable entity id → its parent (null when in no hand). */
  readonly #parents = new Map<string, unknown>()

  /** Starts from the stored world (before the room takes events). */
  load (world: EntityMap): void {
    this.#parents.clear()
    for (const [id, components] of Object.entries(world)) {
      if (components.holdable === true) this.#parents.set(id, components.parent ?? null)
    }
  }

  /** Why the event may not go ahead, or null when it may (any event but grabs may). */
  refusal (event: RoomEvent): string | null {
    const { user_id: userId, target_id: targetId } = event.payload
    if (event.event === 'user_picked_up') {
      return typeof targetId === 'string' && this.#parents.has(targetId) ? null : 'not holdable'
    }
    if (event.event === 'user_released') {
      const parent = typeof targetId === 'string' ? this.#parents.get(targetId) : undefined
      return typeof parent === 'string' && typeof userId === 'string' && parent.startsWith(`${userId}:`) ? null : 'not held by this user'
    }
    return null
  }

  /** What the user holds: let go when they leave, so nothing stays in a hand nobody has. */
  releasesOnLeaving (userId: string): Mutation[] {
    const releases: Mutation[] = []
    for (const [id, parent] of this.#parents) {
      if (typeof parent === 'string' && parent.startsWith(`${userId}:`)) releases.push({ op: 'update', entityId: id, components: { parent: null } })
    }
    return releases
  }

  /** Follows every change the room makes. */
  observe (mutations: readonly Mutation[]): void {
    for (const mutation of mutations) {
      const { entityId } = mutation
      if (mutation.op === 'delete') {
        this.#parents.delete(entityId)
        continue
      }
      const { components } = mutation
      const known = this.#parents.has(entityId)
      // A create replaces the entity; an update changes only what it names.
      const holdable = 'holdable' in components ? components.holdable === true : mutation.op === 'update' && known
      if (!holdable) {
        this.#parents.delete(entityId)
        continue
      }
      const previous = mutation.op === 'update' && known ? this.#parents.get(entityId) : null
      this.#parents.set(entityId, 'parent' in components ? components.parent ?? null : previous)
    }
  }
}
