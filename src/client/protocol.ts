/**
 * Shapes of the room channel's messages, as the browser sees them (the world's words, entities,
 * poses and client events, are in src/shared/world.ts).
 * Everything here arrives from the network: treat values as untrusted and
 * validate them where they are used (see values.ts).
 */

/** A chat message as pushed in `new_message` and listed in `messages`. */
export interface ChatMessage {
  id: number
  user_id: string
  username: string
  content: string
  inserted_at: string
}

/** Server → client push names. */
export const SERVER_PUSHES = {
  entitiesState: 'entities_state',
  entitiesDiff: 'entities_diff',
  newMessage: 'new_message',
  messages: 'messages',
  kicked: 'kicked',
  messageDeleted: 'message_deleted'
} as const
