import type { Components, EntityMap } from '../shared/world.ts'
import type { RoomWorld } from './room-world.ts'
import { userComponents, type RoomEvent } from './state-mutation.ts'

/** What resuming a user needs from the rooms data module. */
export interface UserStore {
  getEntityState: (roomId: string, entityId: string, options: { includeDeleted: boolean }) => Promise<Components | null>
  headPositionNearSpawnPoint: (roomId: string) => Promise<[number, number, number]>
  /** Where a newcomer's head goes above a spawn point at `position` (jittered, as headPositionNearSpawnPoint). */
  headAbove: (position: unknown) => [number, number, number]
}

/** The position of the world's spawn point: the first entity by id with `spawn_point: true`, as the database picks it. */
function spawnPosition (world: RoomWorld): unknown {
  let first: string | null = null
  let position: unknown
  for (const [id, components] of world.entries()) {
    if (components.spawn_point !== true || (first !== null && id >= first)) continue
    first = id
    position = components.position
  }
  return position
}

/**
 * The components a user (re)joining `roomId` starts with: the in-memory snapshot when given,
 * else the user's stored entity, live or soft-deleted (their pose when they left), else a
 * default box avatar whose head (a pose [x, y, z, qx, qy, qz, qw]) is near the spawn point,
 * found in `world` (a running room's) when given, else in the database.
 */
export async function resumeComponents (store: UserStore, roomId: string, userId: string, snapshot?: UserSnapshot, world?: RoomWorld): Promise<Components> {
  const remembered = snapshot?.get(userId)
  if (remembered) return remembered
  const stored = await store.getEntityState(roomId, userId, { includeDeleted: true })
  if (stored && 'avatar' in stored) return stored
  const [x, y, z] = world ? store.headAbove(spawnPosition(world)) : await store.headPositionNearSpawnPoint(roomId)
  return { avatar: 'box', head: [x, y, z, 0, 0, 0, 1] }
}

/**
 * One per room: the last known components of every user who joined or moved while the
 * room ran, kept after they leave so a returning user resumes their pose.
 */
export class UserSnapshot {
  readonly #users = new Map<string, Components>()

  /** `world`: the running room's, where a newcomer's spawn point is found without a query. */
  constructor (private readonly store: UserStore, readonly roomId: string, private readonly world?: RoomWorld) {}

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
    return resumeComponents(this.store, this.roomId, userId, this, this.world)
  }
}
