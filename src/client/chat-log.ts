import type { ChatMessage } from './protocol.ts'

/** Validates one message from the wire; null when its shape is wrong. */
export function parseChatMessage (value: unknown): ChatMessage | null {
  if (typeof value !== 'object' || value === null) return null
  const m = value as Record<string, unknown>
  if (typeof m.id !== 'number' || !Number.isSafeInteger(m.id)) return null
  if (typeof m.content !== 'string') return null
  return {
    id: m.id,
    user_id: typeof m.user_id === 'string' ? m.user_id : String(m.user_id ?? ''),
    username: typeof m.username === 'string' ? m.username : '',
    content: m.content,
    inserted_at: typeof m.inserted_at === 'string' ? m.inserted_at : ''
  }
}

/**
 * The chat history this client has shown, by message id. Tracks the highest
 * id seen so a rejoin can pass `last_seen_id` and the server sends only newer
 * messages; anything already seen is dropped again here, so a message never
 * shows twice even if the server repeats it.
 */
export class ChatLog {
  readonly #seen = new Set<number>()
  #lastSeenId: number | null = null

  /** Highest message id seen, or null before any message. */
  get lastSeenId (): number | null {
    return this.#lastSeenId
  }

  /** Join params for the room channel. */
  joinParams (): { last_seen_id?: number } {
    return this.#lastSeenId === null ? {} : { last_seen_id: this.#lastSeenId }
  }

  /** Accepts one message; returns it if it is new (to be shown), else null. */
  add (value: unknown): ChatMessage | null {
    const message = parseChatMessage(value)
    if (message === null || this.#seen.has(message.id)) return null
    this.#seen.add(message.id)
    if (this.#lastSeenId === null || message.id > this.#lastSeenId) this.#lastSeenId = message.id
    return message
  }

  /** Accepts a `messages` payload; returns the new ones, oldest first. */
  addMany (payload: unknown): ChatMessage[] {
    const list = typeof payload === 'object' && payload !== null ? (payload as { messages?: unknown }).messages : undefined
    if (!Array.isArray(list)) return []
    const fresh: ChatMessage[] = []
    for (const value of list) {
      const message = this.add(value)
      if (message) fresh.push(message)
    }
    return fresh.sort((a, b) => a.id - b.id)
  }
}
