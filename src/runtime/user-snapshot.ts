import type { Components, EntityMap } from '../shared/world.ts'
import { userComponents, type RoomEvent } from './state-mutation.ts'

/** What resuming a user needs from the rooms data module. */
export interface UserStore {
  getEntityState: (roomId: string, entityId: string, options: { includeDeleted: boolean }) => Promise<Components | null>
  headPositionNearSpawnPoint: (roomId: string) => Promise<[number, number, number]>
}

/**
 * The components a user (re)joining `roomId` starts with: the in-memory snapshot when given,
 * else the user's stored entity, live or soft-deleted (their pose when they left), else a
 * default box avatar whose head (a pose [x, y, z, qx, qy, qz, qw]) is near the spawn point.
 */
export async function resumeComponents (store: UserStore, roomId: string, userId: string, snapshot?: UserSnapshot): Promise<Components> {
  const remembered = snapshot?.get(userId)
  if (remembered) return remembered
  const stored = await store.getEntityState(roomId, userId, { includeDeleted: true })
  if (stored && 'avatar' in stored) return stored
  const [x, y, z] = await store.headPositionNearSpawnPoint(roomId)
  return { avatar: 'box', head: [x, y, z, 0, 0, 0, 1] }
}

/**
 * One per room: the last known components of every user who joined or moved while the
 * room ran, kept after they leave so a returning user resumes their pose.
 */
export class UserSnapshot {
  readonly #users = new Map<string, Components>()

  constructor (private readonly store: UserStore, readonly roomId: string) {}

  /**
   * Takes in `user_joined` (components replaced) and `user_moved` (merged into a known user,
   * as the database ignores updates of an entity it does not have); ignores the rest.
   */
  observe (event: RoomEvent): void {
    if (event.event !== 'user_joined' && event.event !== 'user_moved') return
    const user = userComponents(event.payload)
    if (!user) return
    if (event.event === 'user_joined') {
      this.#users.set(user.userId, user.components)
      return
    }
    const known = this.#users.get(user.userId)
    if (known) this.#users.set(user.userId, { ...known, ...user.components })
  }

  /** A copy of the user's last known components. */
  get (userId: string): Components | undefined {
    const components = this.#users.get(userId)
    return components && structuredClone(components)
  }

  get size (): number {
    return this.#users.size
  }

  /** After a restart: every avatar of `world` (the stored world) is a user still in the room. */
  remember (world: EntityMap): void {
    for (const [id, components] of Object.entries(world)) {
      if ('avatar' in components) this.#users.set(id, components)
    }
  }

  resumeComponents (userId: string): Promise<Components> {
    return resumeComponents(this.store, this.roomId, userId, this)
  }
}
