import createError from '@fastify/error'

/** Where an answer to a bad frame can go, when the frame still named a topic and a ref. */
export interface ReplyTarget {
  joinRef: string | null
  ref: string
  topic: string
}

/** The one error the serializer raises for a frame that is not valid Phoenix v2 JSON. */
export class ProtocolError extends Error {
  readonly code = 'XR_ERR_PHOENIX_PROTOCOL'
  /** Set when the frame was broken but still addressable, so the socket can answer it with an error reply. */
  readonly replyTo: ReplyTarget | null

  constructor (message: string, replyTo: ReplyTarget | null = null, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'ProtocolError'
    this.replyTo = replyTo
  }
}

/** A WebSocket upgrade asking for a serializer version other than the one this server speaks. */
export const UnsupportedVsnError = createError<[string, string]>(
  'XR_ERR_PHOENIX_UNSUPPORTED_VSN',
  'Unsupported Phoenix protocol version "%s"; this server speaks vsn=%s',
  400
)

/** An address already holds as many WebSockets as the server allows one address. */
export const TooManySocketsError = createError<[number]>(
  'XR_ERR_PHOENIX_TOO_MANY_SOCKETS',
  'Too many connections from this address (at most %d)',
  429
)
