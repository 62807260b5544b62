import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import { BINARY_REFUSED, binaryReplyTarget } from './binary.ts'
import type { Channel, ChannelContext, HandleResult, JoinResult, TerminateReason } from './channel.ts'
import { ErrorBudget } from './error-budget.ts'
import { ProtocolError } from './errors.ts'
import { Events, HEARTBEAT_TOPIC, type Message, type Reply } from './message.ts'
import type { ChannelRouter } from './router.ts'
import { decode, encode, encodeReply } from './serializer.ts'

export interface PhoenixSocketOptions {
  /** Proven by the connection's token; null for an anonymous socket. */
  userId: string | null
  /** The display name signed into the token, if any. */
  username?: string | null
  /** The token was signed for an admin session. */
  admin?: boolean
  router: ChannelRouter
  /** Writes one text frame to the connection. */
  send: (frame: string) => void
  /** Closes the connection; the transport then calls handleClose(). */
  close: (code: number, reason: string) => void
  log: FastifyBaseLogger
  /** A socket that sends no frame for this long is closed. */
  heartbeatTimeoutMs: number
  /** Topics one connection may have joined at once; further joins get `{reason: "too many channels"}`. */
  maxChannels?: number
  /**
   * A connection whose messages get more than `max` error answers (bad frames, invalid payloads,
   * refused events) within `windowMs` is closed with 1008. Default 20 in 10 s.
   */
  protocolErrors?: { max: number, windowMs: number }
  /** Clock of the protocol error window (tests). */
  now?: () => number
}

/** The default protocol error budget (see PhoenixSocketOptions.protocolErrors). */
export const DEFAULT_PROTOCOL_ERRORS = { max: 20, windowMs: 10_000 } as const

/** Close code and reason for a connection past its protocol error budget. */
export const POLICY_VIOLATION = 1008

/**
 * One phx_join, from the join request until the channel ends. It is also the channel's context:
 * one object per join, its methods on the prototype, rather than an object and four closures.
 */
class Join implements ChannelContext {
  state: 'joining' | 'joined' | 'ended' = 'joining'
  channel: Channel | null = null
  /** Pushes made while joining, sent after the join reply. */
  held: string[] = []
  /** close()/crash() called while joining, carried out after the join reply. */
  pendingEnd: TerminateReason | null = null
  readonly #socket: PhoenixSocket
  #log: FastifyBaseLogger | null = null

  constructor (socket: PhoenixSocket, readonly topic: string, readonly joinRef: string) {
    this.#socket = socket
  }

  get userId (): string | null { return this.#socket.userId }
  get username (): string | null { return this.#socket.username }
  get admin (): boolean { return this.#socket.admin }
  get socketId (): string { return this.#socket.id }

  // Made when first used: most joins never log.
  get log (): FastifyBaseLogger {
    this.#log ??= this.#socket.log.child({ topic: this.topic })
    return this.#log
  }

  push (event: string, payload: object): void {
    this.pushEncoded(encode({ joinRef: this.joinRef, ref: null, topic: this.topic, event, payload }))
  }

  pushEncoded (frame: string): void {
    if (this.state === 'joining') this.held.push(frame)
    else if (this.state === 'joined') this.#socket.send(frame)
  }

  close (): void {
    void this.#socket.end(this, 'close', true)
  }

  crash (cause?: unknown): void {
    this.log.error({ err: cause }, 'channel crashed')
    void this.#socket.end(this, 'error', true)
  }
}

type Joined = Join & { channel: Channel }

function closeIdle (socket: PhoenixSocket): void {
  socket.log.debug('closing idle socket: no heartbeat')
  void socket.close(1000, 'heartbeat timeout')
}

/**
 * The server side of one WebSocket connection speaking Phoenix Channels v2: heartbeats,
 * phx_join/phx_leave, routing events by topic to one channel instance per joined topic.
 * It knows nothing of WebSockets; the transport feeds it frames and carries out send/close.
 */
export class PhoenixSocket {
  readonly userId: string | null
  readonly username: string | null
  readonly admin: boolean
  private readonly router: ChannelRouter
  private readonly transportSend: (frame: string) => void
  private readonly transportClose: (code: number, reason: string) => void
  private readonly parentLog: FastifyBaseLogger
  #id: string | null = null
  #log: FastifyBaseLogger | null = null
  private readonly channels = new Map<string, Joined>()
  // Frames of one topic run in order, one at a time, like the messages of a Phoenix channel process.
  private readonly queues = new Map<string, Promise<void>>()
  private readonly idleTimer: NodeJS.Timeout
  private readonly maxChannels: number
  private readonly errors: ErrorBudget
  private closed: Promise<void> | null = null

  constructor (options: PhoenixSocketOptions) {
    this.userId = options.userId
    this.username = options.username ?? null
    this.admin = options.admin ?? false
    this.router = options.router
    this.transportSend = options.send
    this.transportClose = options.close
    this.parentLog = options.log
    this.maxChannels = options.maxChannels ?? Infinity
    const { max, windowMs } = options.protocolErrors ?? DEFAULT_PROTOCOL_ERRORS
    this.errors = new ErrorBudget(max, windowMs, options.now)
    this.idleTimer = setTimeout(closeIdle, options.heartbeatTimeoutMs, this)
  }

  /** Unique per connection; made when first asked for (a log line, a channel that reads it). */
  get id (): string {
    this.#id ??= randomUUID()
    return this.#id
  }

  /** Logger bound to the socket id, made when first used: an idle connection never logs. */
  get log (): FastifyBaseLogger {
    this.#log ??= this.parentLog.child({ socketId: this.id })
    return this.#log
  }

  /** Handles one text frame. Never throws: a bad frame gets an error reply when it can be addressed, else a debug log line. */
  handleText (raw: string): void {
    if (this.closed !== null) return
    this.idleTimer.refresh()
    let message: Message
    try {
      message = decode(raw)
    } catch (err) {
      this.log.debug({ err }, 'ignoring invalid frame')
      if (err instanceof ProtocolError && err.replyTo !== null) {
        this.reply({ ...err.replyTo, status: 'error', response: { reason: 'invalid message' } })
      } else this.protocolError()
      return
    }
    if (message.topic === HEARTBEAT_TOPIC && message.event === Events.heartbeat) {
      this.reply({ joinRef: null, ref: message.ref, topic: HEARTBEAT_TOPIC, status: 'ok', response: {} })
      return
    }
    this.enqueue(message.topic, () => this.route(message))
  }

  /**
   * Binary frames (the v2 serializer's form for ArrayBuffer payloads) are refused: a push that
   * names its ref gets an error reply saying so; anything else is dropped. Both count as errors.
   */
  handleBinary (frame: Buffer): void {
    if (this.closed !== null) return
    this.idleTimer.refresh()
    this.log.debug('refusing binary frame')
    const target = binaryReplyTarget(frame)
    if (target === null) this.protocolError()
    else this.reply({ ...target, status: 'error', response: { reason: BINARY_REFUSED } })
  }

  /** The client is still there (a LongPoll poll): same as a frame for the idle timeout. */
  touch (): void {
    if (this.closed === null) this.idleTimer.refresh()
  }

  /** Closes the connection from the server side and terminates every channel. */
  close (code: number, reason: string): Promise<void> {
    if (this.closed === null) this.transportClose(code, reason)
    return this.handleClose()
  }

  /**
   * The connection is gone: terminate every channel with 'close'. Idempotent; resolves when all
   * have terminated, including a join that was still running (it ends as soon as it is done).
   */
  handleClose (): Promise<void> {
    if (this.closed === null) {
      clearTimeout(this.idleTimer)
      const running = [...this.queues.values()]
      const ending = [...this.channels.values()].map(join => this.end(join, 'close', false))
      this.closed = Promise.all([...ending, ...running]).then(() => undefined)
    }
    return this.closed
  }

  /** Writes one frame to the connection unless it closed (a channel's pushes come here). */
  send (frame: string): void {
    if (this.closed === null) this.transportSend(frame)
  }

  private reply (reply: Reply): void {
    this.send(encodeReply(reply))
    if (reply.status === 'error') this.protocolError()
  }

  private protocolError (): void {
    if (this.closed !== null || !this.errors.spend()) return
    const reason = `too many protocol errors (over ${this.errors.max} in ${this.errors.windowMs / 1000} s)`
    this.log.warn({ max: this.errors.max, windowMs: this.errors.windowMs }, 'closing socket: too many protocol errors')
    void this.close(POLICY_VIOLATION, reason)
  }

  private enqueue (topic: string, task: () => Promise<void>): void {
    const tail = (this.queues.get(topic) ?? Promise.resolve())
      .then(() => this.closed === null ? task() : undefined)
      .catch((err: unknown) => this.log.error({ err, topic }, 'unexpected error handling a frame'))
    this.queues.set(topic, tail)
    void tail.then(() => { if (this.queues.get(topic) === tail) this.queues.delete(topic) })
  }

  private route (message: Message): Promise<void> {
    switch (message.event) {
      case Events.join: return this.join(message)
      case Events.leave: return this.leave(message)
      default: return this.handleIn(message)
    }
  }

  // Phoenix answers anything for a topic without a channel this way, joined pattern or not.
  private unmatched (message: Message): void {
    this.log.debug({ topic: message.topic, event: message.event }, 'unmatched topic')
    this.reply({ joinRef: null, ref: message.ref, topic: message.topic, status: 'error', response: { reason: 'unmatched topic' } })
  }

  private async join (message: Message): Promise<void> {
    const { topic } = message
    const factory = this.router.match(topic)
    if (factory === undefined) return this.unmatched(message)
    // A v1-style join has no join_ref; Phoenix then uses its ref.
    const joinRef = message.joinRef ?? message.ref
    if (joinRef === null) {
      this.log.debug({ topic }, 'ignoring phx_join without ref')
      return
    }

    const previous = this.channels.get(topic)
    if (previous === undefined && this.channels.size >= this.maxChannels) {
      this.log.debug({ topic }, 'refusing join: too many channels on this socket')
      this.reply({ joinRef, ref: message.ref, topic, status: 'error', response: { reason: 'too many channels' } })
      return
    }
    if (previous !== undefined) {
      // Same as Phoenix: the newest join wins, the old channel is closed first.
      this.log.debug({ topic }, 'duplicate join: closing the existing channel')
      await this.end(previous, 'close', true)
    }

    const join = new Join(this, topic, joinRef)
    let result: JoinResult
    try {
      join.channel = factory(join)
      result = await join.channel.join(message.payload)
    } catch (err) {
      join.log.error({ err }, 'channel join crashed')
      result = { status: 'error', response: { reason: 'join crashed' } }
    }

    if (result.status !== 'ok') {
      join.state = 'ended'
      this.reply({ joinRef, ref: message.ref, topic, status: 'error', response: result.response })
      return
    }
    const joined = join as Joined
    if (this.closed !== null) {
      // The connection went away while join() ran: nobody is there to hear the reply.
      join.state = 'ended'
      return this.terminate(joined, 'close')
    }
    joined.state = 'joined'
    this.channels.set(topic, joined)
    this.reply({ joinRef, ref: message.ref, topic, status: 'ok', response: result.response ?? {} })
    for (const frame of joined.held) this.send(frame)
    joined.held = []
    if (joined.pendingEnd !== null) return await this.end(joined, joined.pendingEnd, true)
    if (joined.channel.afterJoin === undefined) return
    try {
      await joined.channel.afterJoin()
    } catch (err) {
      joined.log.error({ err }, 'channel crashed after its join')
      await this.end(joined, 'error', true)
    }
  }

  private async leave (message: Message): Promise<void> {
    const joined = this.channels.get(message.topic)
    if (joined !== undefined && message.joinRef !== null && message.joinRef !== joined.joinRef) {
      // The client left a join the server already replaced or closed; Phoenix stays silent too.
      this.log.debug({ topic: message.topic }, 'ignoring phx_leave for an outdated join')
      return
    }
    this.reply({ joinRef: message.joinRef, ref: message.ref, topic: message.topic, status: 'ok', response: {} })
    if (joined !== undefined) await this.end(joined, 'leave', true)
  }

  private async handleIn (message: Message): Promise<void> {
    const joined = this.channels.get(message.topic)
    if (joined === undefined) return this.unmatched(message)
    let result: HandleResult
    try {
      result = await joined.channel.handleIn(message.event, message.payload)
    } catch (err) {
      joined.log.error({ err, event: message.event }, 'channel crashed in handleIn')
      return this.end(joined, 'error', true)
    }
    if (result?.reply !== undefined && joined.state === 'joined') {
      this.reply({ joinRef: joined.joinRef, ref: message.ref, topic: message.topic, ...result.reply })
    }
  }

  /**
   * Ends a join once: phx_close (or phx_error for 'error') tells the client when `notify`,
   * then the channel terminates. A join still in progress ends right after its reply.
   * A channel's close() and crash() come here.
   */
  async end (join: Join, reason: TerminateReason, notify: boolean): Promise<void> {
    if (join.state === 'joining') {
      join.pendingEnd ??= reason
      return
    }
    if (join.state === 'ended') return
    join.state = 'ended'
    if (this.channels.get(join.topic) === join) this.channels.delete(join.topic)
    if (notify) {
      const event = reason === 'error' ? Events.error : Events.close
      this.send(encode({ joinRef: join.joinRef, ref: join.joinRef, topic: join.topic, event, payload: {} }))
    }
    await this.terminate(join as Joined, reason)
  }

  private async terminate (joined: Joined, reason: TerminateReason): Promise<void> {
    try {
      await joined.channel.terminate(reason)
    } catch (err) {
      joined.log.error({ err, reason }, 'channel terminate failed')
    }
  }
}
