import { Socket, Presence, type Channel } from 'phoenix'
import { ChatLog } from './chat-log.ts'
import type { ChatMessage } from './protocol.ts'
import type { MovePayload } from '../shared/world.ts'
import { SERVER_PUSHES } from './protocol.ts'
import type { ConnectionStatus } from './ui/status.ts'
import { personFromPresence, type Person } from './presence.ts'

/** How long the WebSocket may take to open before the client tries LongPoll instead. */
const LONG_POLL_FALLBACK_MS = 2500

/** What the rest of the client hears from the room channel. */
export interface ConnectionHandlers {
  status: (status: ConnectionStatus, detail?: string) => void
  /** The join reply (may carry `user_id`). Called on every (re)join. */
  joined: (reply: Record<string, unknown>) => void
  entitiesState: (payload: unknown) => void
  entitiesDiff: (payload: unknown) => void
  people: (people: Person[]) => void
  /** Messages not shown before, oldest first. */
  messages: (messages: ChatMessage[]) => void
  /** A moderator deleted a message. */
  messageDeleted: (id: number) => void
  /** Something the server refused or did to us (`kicked`, `forbidden`, `room_full`…), with its details. */
  notice: (reason: string, details: Record<string, unknown>) => void
}

const asRecord = (value: unknown): Record<string, unknown> => typeof value === 'object' && value !== null ? value as Record<string, unknown> : {}

export interface ConnectionOptions {
  /** Socket endpoint, `/socket` on the room server. */
  endpoint?: string
  userToken: string
  roomId: string
  handlers: ConnectionHandlers
}

/**
 * The socket, the `room:<id>` channel, Presence and the chat log. Rejoins pass
 * `last_seen_id` so the server only sends chat newer than what is shown.
 */
export class RoomConnection {
  readonly socket: Socket
  readonly channel: Channel
  readonly presence: Presence
  readonly chat = new ChatLog()
  readonly #handlers: ConnectionHandlers
  #token: string
  #everJoined = false

  constructor (opts: ConnectionOptions) {
    this.#handlers = opts.handlers
    this.#token = opts.userToken
    this.socket = new Socket(opts.endpoint ?? '/socket', {
      params: () => ({ _user_token: this.#token }),
      // Where a proxy or network refuses WebSockets, phoenix.js falls back to long polling.
      longPollFallbackMs: LONG_POLL_FALLBACK_MS
    })
    // A function, so each (re)join sends the current last_seen_id.
    this.channel = this.socket.channel(`room:${opts.roomId}`, () => this.chat.joinParams())
    this.presence = new Presence(this.channel)
    this.#wire()
  }

  #wire (): void {
    const h = this.#handlers
    const lost = (): void => {
      h.status(this.#everJoined ? 'reconnecting' : 'connecting')
    }
    this.socket.onError(lost)
    this.socket.onClose(lost)
    this.channel.onError(lost)

    this.channel.on(SERVER_PUSHES.entitiesState, payload => h.entitiesState(payload))
    this.channel.on(SERVER_PUSHES.entitiesDiff, payload => h.entitiesDiff(payload))
    this.channel.on(SERVER_PUSHES.messages, payload => {
      const fresh = this.chat.addMany(payload)
      if (fresh.length > 0) h.messages(fresh)
    })
    this.channel.on(SERVER_PUSHES.newMessage, payload => {
      const message = this.chat.add(payload)
      if (message) h.messages([message])
    })
    this.channel.on(SERVER_PUSHES.kicked, payload => {
      h.status('refused', 'removed')
      h.notice('kicked', asRecord(payload))
      // The channel closes: nobody's presence reaches this page any more.
      h.people([])
    })
    this.channel.on(SERVER_PUSHES.messageDeleted, payload => {
      const id = asRecord(payload).id
      if (typeof id === 'number') h.messageDeleted(id)
    })
    this.presence.onSync(() => {
      h.people(this.presence.list((id: string, presence: { metas?: Array<Record<string, unknown>> }) => personFromPresence(id, presence)))
    })
  }

  /** Opens the socket and joins the room. */
  connect (): void {
    this.#handlers.status('connecting')
    this.channel.join()
      .receive('ok', (reply?: unknown) => {
        this.#everJoined = true
        this.#handlers.status('connected')
        this.#handlers.joined(typeof reply === 'object' && reply !== null ? reply as Record<string, unknown> : {})
      })
      .receive('error', (reply?: unknown) => {
        const reason = asRecord(reply).reason
        this.#handlers.status('refused', typeof reason === 'string' ? reason : undefined)
        if (typeof reason === 'string') this.#handlers.notice(reason, asRecord(reply))
      })
      .receive('timeout', () => this.#handlers.status(this.#everJoined ? 'reconnecting' : 'connecting'))
    this.socket.connect()
  }

  /**
   * Drops the socket and opens it again (the channel rejoins by itself),
   * e.g. after a display name change; `userToken` replaces the token if given.
   */
  reconnect (userToken?: string | null): void {
    if (userToken) this.#token = userToken
    this.#handlers.status('reconnecting')
    this.socket.disconnect(() => this.socket.connect())
  }

  /** True while the socket is open and the room channel joined. */
  get joined (): boolean {
    return this.socket.isConnected() && this.channel.state === 'joined'
  }

  /** `i_moved`; dropped unless joined (stale poses must not queue up). */
  sendMove (payload: MovePayload): boolean {
    if (!this.joined) return false
    this.channel.push('i_moved', payload)
    return true
  }

  /** `event` with an event name and payload; false when not joined. A refusal becomes a notice. */
  sendEvent (eventName: string, payload: Record<string, unknown>): boolean {
    if (!this.joined) return false
    this.#pushTold('event', { event_name: eventName, payload })
    return true
  }

  /** `moderate` (owner and moderators); a refusal becomes a notice. */
  moderate (action: string, userId: string): void {
    if (this.joined) this.#pushTold('moderate', { action, user_id: userId })
  }

  /** `delete_message` (owner and moderators); a refusal becomes a notice. */
  deleteMessage (id: number): void {
    if (this.joined) this.#pushTold('delete_message', { id })
  }

  #pushTold (event: string, payload: object): void {
    this.channel.push(event, payload).receive('error', (reply?: unknown) => {
      const reason = asRecord(reply).reason
      if (typeof reason === 'string') this.#handlers.notice(reason, asRecord(reply))
    })
  }

  /** `new_message`; resolves once the server accepted it. */
  sendMessage (content: string): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.joined) {
        reject(new Error('not connected'))
        return
      }
      this.channel.push('new_message', { content })
        .receive('ok', (reply?: unknown) => {
          // If the reply carries the stored message, show it now; the broadcast is deduplicated by id.
          const body = typeof reply === 'object' && reply !== null && 'message' in reply ? (reply as { message: unknown }).message : reply
          const message = this.chat.add(body)
          if (message) this.#handlers.messages([message])
          resolve()
        })
        .receive('error', (reply?: unknown) => {
          const reason = asRecord(reply).reason
          if (reason === 'forbidden' || reason === 'muted') this.#handlers.notice(reason, asRecord(reply))
          reject(new Error(typeof reason === 'string' ? reason : 'message rejected'))
        })
        .receive('timeout', () => reject(new Error('timeout')))
    })
  }
}
