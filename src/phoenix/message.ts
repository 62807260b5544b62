/**
 * The plain records of the Phoenix Channels v2 protocol. On the wire every one of them is a
 * JSON array `[join_ref, ref, topic, event, payload]` (see serializer.ts).
 */

/** Event names the protocol itself reserves; anything else is an application event. */
export const Events = {
  join: 'phx_join',
  leave: 'phx_leave',
  reply: 'phx_reply',
  error: 'phx_error',
  close: 'phx_close',
  heartbeat: 'heartbeat'
} as const

/** The topic heartbeats are sent on; no channel can join it. */
export const HEARTBEAT_TOPIC = 'phoenix'

/** One frame in either direction. Payloads from clients are untrusted input. */
export interface Message {
  /** The ref of the phx_join that started the channel this message belongs to; null outside a join. */
  joinRef: string | null
  /** Client-chosen id that the server's reply echoes; null for server pushes and broadcasts. */
  ref: string | null
  topic: string
  event: string
  payload: unknown
}

export type ReplyStatus = 'ok' | 'error'

/** The answer to a client message; sent as event phx_reply with payload `{status, response}`. */
export interface Reply {
  joinRef: string | null
  ref: string | null
  topic: string
  status: ReplyStatus
  response: object
}
