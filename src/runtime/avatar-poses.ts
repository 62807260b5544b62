import type { Components, EntitiesDiff } from '../shared/world.ts'
import { put } from './entities-diff.ts'

const isEmpty = (diff: EntitiesDiff): boolean =>
  Object.keys(diff.creates).length === 0 && Object.keys(diff.updates).length === 0 && Object.keys(diff.deletes).length === 0

/**
 * Splits a diff into what must be written now (`lasting`: world objects, and every create or
 * delete, i.e. joins and leaves) and the pose updates of avatars (`poses`), which are transient:
 * 20 a second per user, and only the last one matters to a user who comes back. Either is null
 * when empty.
 */
export function splitAvatarPoses (diff: EntitiesDiff, isAvatar: (entityId: string) => boolean): { lasting: EntitiesDiff | null, poses: EntitiesDiff | null } {
  const lasting: EntitiesDiff = { creates: diff.creates, updates: {}, deletes: diff.deletes }
  const poses: EntitiesDiff = { creates: {}, updates: {}, deletes: {} }
  for (const [id, components] of Object.entries(diff.updates)) {
    // An avatar created or deleted in the same diff goes with it: its update applies in between.
    const pose = isAvatar(id) && !Object.hasOwn(diff.creates, id) && !Object.hasOwn(diff.deletes, id)
    put(pose ? poses.updates : lasting.updates, id, components)
  }
  return { lasting: isEmpty(lasting) ? null : lasting, poses: isEmpty(poses) ? null : poses }
}

/** Avatar poses waiting to be written: the newest components of each avatar, merged. */
export class PendingPoses {
  readonly #updates = new Map<string, Components>()
  /** When the oldest pose waiting arrived. */
  since = 0

  add (poses: EntitiesDiff, now: number): void {
    if (this.#updates.size === 0) this.since = now
    for (const [id, components] of Object.entries(poses.updates)) {
      const waiting = this.#updates.get(id)
      this.#updates.set(id, waiting ? { ...waiting, ...components } : components)
    }
  }

  /** True when `diff` creates or deletes an avatar whose pose waits: that pose must be written first. */
  precedes (diff: EntitiesDiff): boolean {
    for (const id of this.#updates.keys()) {
      if (Object.hasOwn(diff.creates, id) || Object.hasOwn(diff.deletes, id)) return true
    }
    return false
  }

  /** Avatars with a pose waiting. */
  get size (): number {
    return this.#updates.size
  }

  /** The poses waiting, as one diff, or null; empties it. */
  take (): EntitiesDiff | null {
    if (this.#updates.size === 0) return null
    const diff: EntitiesDiff = { creates: {}, updates: {}, deletes: {} }
    for (const [id, components] of this.#updates) put(diff.updates, id, components)
    this.#updates.clear()
    return diff
  }
}
