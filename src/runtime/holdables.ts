import type { Mutation, RoomEvent } from './state-mutation.ts'
import type { RoomWorld } from './room-world.ts'

/**
 * Who may grab what, read from the room's world in stream order (no database read): an entity
 * can be held when it has `holdable: true`, and its `parent` ("<user_id>:<hand>") says whose
 * hand it is in.
 *
 * - `user_picked_up` needs a holdable target. Taking it out of another hand is allowed, as
 *   one person hands a thing to another; an avatar, the floor or an unknown id is refused.
 * - `user_released` needs the target to be in one of the releasing user's hands, so nobody
 *   can drop (or move, by its `position`) what someone else holds or what nobody holds.
 */
export function grabRefusal (world: RoomWorld, event: RoomEvent): string | null {
  const { user_id: userId, target_id: targetId } = event.payload
  if (event.event === 'user_picked_up') {
    return typeof targetId === 'string' && world.get(targetId)?.holdable === true ? null : 'not holdable'
  }
  if (event.event === 'user_released') {
    return typeof targetId === 'string' && typeof userId === 'string' && heldBy(world.get(targetId), userId) ? null : 'not held by this user'
  }
  return null
}

/** What the user holds, let go: when they leave, nothing stays in a hand nobody has. */
export function releasesOnLeaving (world: RoomWorld, userId: string): Mutation[] {
  const releases: Mutation[] = []
  for (const [entityId, components] of world.entries()) {
    if (heldBy(components, userId)) releases.push({ op: 'update', entityId, components: { parent: null } })
  }
  return releases
}

function heldBy (components: Record<string, unknown> | undefined, userId: string): boolean {
  const parent = components?.parent
  return components?.holdable === true && typeof parent === 'string' && parent.startsWith(`${userId}:`)
}
