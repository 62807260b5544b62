/**
 * Shapes of the room channel's messages, as the browser sees them.
 * Everything here arrives from the network: treat values as untrusted and
 * validate them where they are used (see values.ts).
 */

/** One entity's components, by component name. */
export type Components = Record<string, unknown>

/** The whole room: entity id → components. */
export type EntityMap = Record<string, Components>

/** Payload of `entities_diff`. `updates` are merged into existing components. */
export interface EntitiesDiff {
  /** New entities with all their components. */
  creates?: Record<string, Components>
  /** Partial components merged into existing entities. */
  updates?: Record<string, Components>
  /** Ids of removed entities (values are ignored). */
  deletes?: Record<string, unknown>
}

/** A chat message as pushed in `new_message` and listed in `messages`. */
export interface ChatMessage {
  id: number
  user_id: string
  username: string
  content: string
  inserted_at: string
}

/** [x, y, z, qx, qy, qz, qw] */
export type PackedPose = [number, number, number, number, number, number, number]

/** Payload of the client's `i_moved` push. */
export interface MovePayload {
  pose: {
    head: PackedPose
    left?: PackedPose
    right?: PackedPose
  }
}

export const HANDS = ['left', 'right'] as const
export type Hand = typeof HANDS[number]

/** Names of the events the client sends inside `event`. */
export const CLIENT_EVENTS = {
  pickedUp: 'user_picked_up',
  released: 'user_released'
} as const

/** Server → client push names. */
export const SERVER_PUSHES = {
  entitiesState: 'entities_state',
  entitiesDiff: 'entities_diff',
  newMessage: 'new_message',
  messages: 'messages',
  kicked: 'kicked',
  messageDeleted: 'message_deleted'
} as const
