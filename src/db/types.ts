export interface RoomInput {
  name?: unknown
  description?: unknown
  persistent?: unknown
  /** The most people in the room at once: a whole number (or its digits) in 1..100. */
  capacity?: unknown
  visibility?: unknown
  locked?: unknown
  allowGrab?: unknown
  allowChat?: unknown
}

export const VISIBILITIES = ['public', 'unlisted'] as const
/** `public` rooms are listed on /rooms; `unlisted` ones only open to whoever has the link. */
export type Visibility = typeof VISIBILITIES[number]

export interface RoomAttrs {
  name: string
  description: string
  persistent: boolean
  capacity: number
  visibility: Visibility
  locked: boolean
  allowGrab: boolean
  allowChat: boolean
}

export interface ChatMessageRecord {
  id: number
  user_id: string
  username: string
  content: string
  inserted_at: string
}
