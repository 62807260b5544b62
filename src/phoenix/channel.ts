import type { FastifyBaseLogger } from 'fastify'

/**
 * The public contract of a channel: one instance per joined topic per WebSocket connection.
 * Everything a client sends (join params, event payloads) is untrusted input; validate it.
 */

/** What the socket gives a channel instance. Valid for the life of that one join. */
export interface ChannelContext {
  /** The joined topic, e.g. "room:lobby". */
  readonly topic: string
  /** The user id proven by the connection's token, or null for an anonymous socket. */
  readonly userId: string | null
  /** The display name signed into the same token, or null. */
  readonly username: string | null
  /** The same token says its session signed in as an admin (it manages every room). */
  readonly admin: boolean
  /** The ref of the phx_join that created this instance; every push carries it. */
  readonly joinRef: string
  /** Unique id of the WebSocket connection, e.g. to tell two tabs of one user apart. */
  readonly socketId: string
  /**
   * Sends `event` to this client on this topic; `payload` must be JSON-serializable (it is encoded
   * here, so a bad one throws to the caller). Pushes made before join() resolves are held
   * and sent right after the ok reply (Phoenix's after_join); after the channel ended they are dropped.
   */
  push (event: string, payload: object): void
  /** Sends a frame already encoded with encodeBroadcast, unchanged; dropped once the channel ended. */
  pushEncoded (frame: string): void
  /**
   * Ends this channel from the server side with phx_close: the client closes it and does not
   * rejoin. terminate('close') follows; a reply still pending for an in-flight handleIn is dropped.
   */
  close (): void
  /**
   * Ends this channel as crashed with phx_error: the client rejoins by itself after its backoff.
   * terminate('error') follows; `cause` is logged.
   */
  crash (cause?: unknown): void
  /** Logger bound to the socket id and topic. */
  readonly log: FastifyBaseLogger
}

/** The outcome of a join; `response` is sent to the client as the phx_join reply. */
export type JoinResult =
  | { status: 'ok', response?: object }
  | { status: 'error', response: { reason: string } & Record<string, unknown> }

/** Return a reply to answer the client's push; return nothing for a fire-and-forget event. */
export type HandleResult = { reply?: { status: 'ok' | 'error', response: object } } | void

/** Why a joined channel ended: the client left, the connection or the server closed it, or it crashed. */
export type TerminateReason = 'leave' | 'close' | 'error'

export interface Channel {
  /**
   * Authorizes and sets up the join. An error result (or a throw, answered as
   * `{reason: "join crashed"}`) leaves nothing joined and terminate is not called.
   */
  join (payload: unknown): Promise<JoinResult>
  /**
   * Handles one client event on the joined topic. Events of one topic run one at a time in
   * arrival order. A throw crashes the channel (see ChannelContext.crash); the socket stays up.
   */
  handleIn (event: string, payload: unknown): Promise<HandleResult>
  /**
   * Runs after the ok reply and the pushes held for it, before any later frame of the topic
   * (Phoenix's `send(self(), :after_join)`): the part of joining the client need not wait for.
   * A throw crashes the channel. terminate may be called while it runs (the connection closed).
   */
  afterJoin? (): Promise<void>
  /** Called exactly once after a successful join, whatever ended it; release subscriptions here. */
  terminate (reason: TerminateReason): Promise<void> | void
}

/** Creates the channel instance for one join; called before join(). */
export type ChannelFactory = (ctx: ChannelContext) => Channel

/** Routes topics to a factory: "room:*" matches every topic starting with "room:", anything else matches exactly. */
export interface ChannelRoute {
  pattern: string
  factory: ChannelFactory
}
