import { isHand, type Components } from '../shared/world.ts'

/**
 * Something that happened in a room, as published on `room_stream:<roomId>`: it tells the
 * story ("bob moved") and knows nothing of entities. Payloads come from clients: untrusted.
 */
export interface RoomEvent {
  event: string
  payload: Record<string, unknown>
}

/** One change to one entity; how EntitiesDiff coalesces them is documented there. */
export type Mutation =
  | { op: 'create', entityId: string, components: Components }
  | { op: 'update', entityId: string, components: Components }
  | { op: 'delete', entityId: string }

/** Maps one event's payload to mutations, or null when the payload is unusable. */
export type MutationRule = (payload: Record<string, unknown>) => Mutation[] | null

/** Event name → rule. A new room event is one more entry. */
export type MutationTable = Readonly<Record<string, MutationRule>>

export type MutationResult =
  | { status: 'ok', mutations: Mutation[] }
  | { status: 'not_handled' }
  | { status: 'invalid_payload' }

const isId = (value: unknown): value is string => typeof value === 'string' && value.length > 0
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
const isVec3 = (value: unknown): value is [number, number, number] =>
  Array.isArray(value) && value.length === 3 && value.every(Number.isFinite)

export function isRoomEvent (value: unknown): value is RoomEvent {
  if (typeof value !== 'object' || value === null) return false
  const { event, payload } = value as Record<string, unknown>
  return typeof event === 'string' && typeof payload === 'object' && payload !== null && !Array.isArray(payload)
}

/** The user a `user_*` payload is about, and the rest of the payload as that user's components. */
export function userComponents (payload: Record<string, unknown>): { userId: string, components: Components } | null {
  const { user_id: userId, ...components } = payload
  return isId(userId) ? { userId, components } : null
}

export const stateMutations: MutationTable = {
  user_joined: (payload) => {
    const user = userComponents(payload)
    return user && [{ op: 'create', entityId: user.userId, components: user.components }]
  },
  user_moved: (payload) => {
    const user = userComponents(payload)
    return user && [{ op: 'update', entityId: user.userId, components: user.components }]
  },
  user_left: ({ user_id: userId }) => isId(userId) ? [{ op: 'delete', entityId: userId }] : null,
  user_picked_up: ({ user_id: userId, target_id: targetId, hand }) =>
    isId(userId) && isId(targetId) && isHand(hand)
      ? [{ op: 'update', entityId: targetId, components: { parent: `${userId}:${String(hand)}` } }]
      : null,
  // With the position where the hand let go, so the object stays where its holder saw it.
  user_released: ({ target_id: targetId, position }) =>
    isId(targetId)
      ? [{ op: 'update', entityId: targetId, components: isVec3(position) ? { parent: null, position } : { parent: null } }]
      : null,
  // Server-side only (the room page's reset button): the world goes back to `entities`, the
  // initial snapshot, and `removed` (what is not in it, avatars excepted) goes away.
  room_reset: ({ entities, removed }) => {
    if (!isObject(entities) || !Object.values(entities).every(isObject)) return null
    if (!Array.isArray(removed) || !removed.every(isId)) return null
    return [
      ...removed.map((entityId): Mutation => ({ op: 'delete', entityId })),
      ...Object.entries(entities).map(([entityId, components]): Mutation => ({ op: 'create', entityId, components: components as Components }))
    ]
  }
}

/**
 * An entity is its components: created with none it does not exist, as the database has no
 * row for it, and later updates must not bring it back. Said as a delete, so that every
 * consumer (the diff's coalescing, the world in memory, the clients) agrees.
 */
const normalized = (mutation: Mutation): Mutation =>
  mutation.op === 'create' && Object.keys(mutation.components).length === 0 ? { op: 'delete', entityId: mutation.entityId } : mutation

/** The mutations an event causes under `table`; unknown events are `not_handled`, never an error. */
export function toMutations (event: RoomEvent, table: MutationTable = stateMutations): MutationResult {
  // hasOwn: an event named "constructor" or "__proto__" must not reach Object.prototype.
  if (!Object.hasOwn(table, event.event)) return { status: 'not_handled' }
  const mutations = table[event.event](event.payload)
  return mutations ? { status: 'ok', mutations: mutations.map(normalized) } : { status: 'invalid_payload' }
}
