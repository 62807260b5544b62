import type { ChatMessageRecord } from '../db/types.ts'
import { CLIENT_EVENTS, isClientEvent, type Components, type EntityMap } from '../shared/world.ts'
import { isDatabaseUnavailable } from '../db/unavailable.ts'
import { Errors } from '../errors.ts'
import type { Channel, ChannelContext, HandleResult, JoinResult, TerminateReason } from '../phoenix/channel.ts'
import { systemClock, type Clock } from '../runtime/clock.ts'
import type { PubSub } from '../runtime/pubsub.ts'
import type { RoomEvent } from '../runtime/state-mutation.ts'
import { topics } from '../runtime/topics.ts'
import { MemberSession, type Refusal, type TrustDeps } from './member-session.ts'
import { CHAT_MAX_LENGTH, hasControlCharacters, payloads, type IMoved } from './payloads.ts'
import type { PresenceTracker } from './presence.ts'
import { MoveCoalescer } from './move-coalescer.ts'
import type { FanoutSubscription, RoomFanout } from './room-fanout.ts'
import { TokenBucket } from './token-bucket.ts'
import { VOICE_EVENTS, VoiceSession } from './voice/session.ts'
import type { Voice } from './voice/voice.ts'

/** What a room channel needs of the room runtime (RoomsSupervisor fits). */
export interface RoomControl {
  startRoom: (roomId: string) => Promise<unknown>
  dispatch: (roomId: string, event: RoomEvent) => Promise<void>
  entities: (roomId: string) => Promise<EntityMap>
  resumeComponents: (roomId: string, userId: string) => Promise<Components>
  memberJoined: (roomId: string) => void
  memberLeft: (roomId: string) => void
}

/** What it needs of the chat log (Chat fits). */
export interface ChatLog {
  append: (roomId: string, message: { userId: string, username: string, content: string }) => Promise<ChatMessageRecord>
  messagesAfter: (roomId: string, lastSeenId?: number) => Promise<ChatMessageRecord[]>
}

export interface RoomChannelLimits {
  /** `i_moved` per second per connection; above it each newer move replaces the one waiting (clients send 20). */
  movesPerSecond: number
  /** Chat messages per second per connection, with a burst of `messageBurst`. */
  messagesPerSecond: number
  messageBurst: number
}

export const DEFAULT_LIMITS: RoomChannelLimits = { movesPerSecond: 60, messagesPerSecond: 1, messageBurst: 5 }

export interface RoomChannelDeps {
  rooms: RoomControl
  chat: ChatLog
  presence: PresenceTracker
  fanout: RoomFanout<ChannelContext>
  pubsub: PubSub
  /** The room's rules: roles, settings, bans, moderation (see member-session.ts). */
  trust: TrustDeps
  /** Told the number of distinct people in a room whenever it changes (the live room list). */
  onOccupancy?: (roomId: string, count: number) => void
  limits?: Partial<RoomChannelLimits>
  now?: () => number
  /** Paces the moves held over the limit (MoveCoalescer). */
  clock?: Clock
  /** Voice chat (src/channels/voice); without it voice events are unknown. */
  voice?: Voice
}


const DEFAULT_USERNAME = 'anon'
const TOPIC_PREFIX = 'room:'

const error = (reason: string, details?: string): HandleResult =>
  ({ reply: { status: 'error', response: details === undefined ? { reason } : { reason, details } } })

/**
 * One connection's membership of `room:<roomId>` (Phoenix's RoomChannel): turns what the
 * client says into room events, and relays the room's broadcasts, presence and chat to it.
 * Identity always comes from the socket's token, never from a payload.
 */
export class RoomChannel implements Channel {
  readonly #ctx: ChannelContext
  readonly #deps: RoomChannelDeps
  readonly #roomId: string
  // Both made when first needed: many connections never move or chat (a watcher, an idle tab).
  #moves: MoveCoalescer<IMoved['pose']> | null = null
  #messages: TokenBucket | null = null
  readonly #limits: RoomChannelLimits
  #movesLimited = false
  #subscription: FanoutSubscription | null = null
  #member: MemberSession | null = null
  readonly #voice: VoiceSession | null
  /** What the join left for afterJoin, and afterJoin running. */
  #settling: { firstForKey: boolean, lastSeenId: number | undefined } | null = null
  #settled: Promise<void> | null = null
  #ended = false

  constructor (ctx: ChannelContext, deps: RoomChannelDeps) {
    this.#ctx = ctx
    this.#deps = deps
    this.#roomId = ctx.topic.slice(TOPIC_PREFIX.length)
    this.#limits = { ...DEFAULT_LIMITS, ...deps.limits }
    this.#voice = deps.voice ? new VoiceSession(ctx, deps.voice, this.#roomId) : null
  }

  get #username (): string {
    return this.#ctx.username ?? DEFAULT_USERNAME
  }

  // A bucket starts full, so one made at the first move or message is the one made at the join.
  #movesOf (): MoveCoalescer<IMoved['pose']> {
    const { rooms, clock } = this.#deps
    const ctx = this.#ctx
    this.#moves ??= new MoveCoalescer<IMoved['pose']>({
      perSecond: this.#limits.movesPerSecond,
      clock: clock ?? systemClock,
      send: async (pose) => await rooms.dispatch(this.#roomId, { event: 'user_moved', payload: { ...pose, user_id: ctx.userId } }),
      onError: (err) => ctx.log.error({ err }, 'could not send a held move')
    })
    return this.#moves
  }

  #messagesOf (): TokenBucket {
    this.#messages ??= new TokenBucket(this.#limits.messagesPerSecond, this.#limits.messageBurst, this.#deps.now ?? Date.now)
    return this.#messages
  }

  async join (payload: unknown): Promise<JoinResult> {
    const { userId, topic } = this.#ctx
    if (userId === null) return { status: 'error', response: { reason: 'unauthorized' } }
    const params = payloads.join.parse(payload)
    if (!params.ok) return { status: 'error', response: { reason: 'invalid join params', details: params.error } }
    const { rooms, presence, fanout } = this.#deps

    const member = new MemberSession(this.#ctx, userId, this.#roomId, this.#deps.trust)
    // None waits for another: a room's first join reads its world, its rules and the user's
    // voice mute at once, and the database runs them back to back.
    const [started, admitted, voiced] = await Promise.allSettled([rooms.startRoom(this.#roomId), member.admit(), this.#voice?.prepare()])
    const failed = [started, admitted, voiced].find((settled) => settled.status === 'rejected')
    if (failed !== undefined) {
      this.#voice?.detach()
      await member.leave()
      const reason = failed.reason as unknown
      if (reason instanceof Errors.RoomNotFound) return { status: 'error', response: { reason: 'room_not_found' } }
      if (reason instanceof Errors.RoomRuntimeClosed || isDatabaseUnavailable(reason)) return { status: 'error', response: { reason: 'unavailable' } }
      throw reason
    }
    const refused = (admitted as PromiseFulfilledResult<Refusal | null>).value
    if (refused) {
      this.#voice?.detach()
      return { status: 'error', response: refused }
    }

    // Subscribed before reading the world, so nothing emitted in between is missed; what
    // arrives meanwhile is held until entities_state went out (applying it again is harmless).
    this.#member = member
    const subscription = fanout.add(topic, this.#ctx)
    this.#subscription = subscription
    rooms.memberJoined(this.#roomId)
    try {
      this.#ctx.push('entities_state', await rooms.entities(this.#roomId))
      subscription.ready()
      // Tracked before listing, as Phoenix's guide does: the joiner is in its own presence_state.
      const tracked = await member.track(this.#username, voiced.status === 'fulfilled' ? voiced.value : undefined)
      if (tracked === null) return await this.#refused({ reason: 'room_full' })
      this.#voice?.attach(member)
      this.#ctx.push('presence_state', await presence.list(topic))
      this.#settling = { firstForKey: tracked.firstForKey, lastSeenId: params.value.last_seen_id }
    } catch (err) {
      // The socket does not terminate a channel whose join failed: undo it here.
      await this.terminate('error')
      // The phoenix client retries a refused join on its own backoff.
      if (isDatabaseUnavailable(err)) return { status: 'error', response: { reason: 'unavailable' } }
      throw err
    }
    return { status: 'ok', response: { user_id: userId, username: this.#username } }
  }

  /**
   * The user's avatar and the chat history come after the reply: the joiner sees the room without
   * waiting for the database. A failure crashes the channel, and the client rejoins.
   */
  afterJoin (): Promise<void> {
    this.#settled = this.#settle()
    return this.#settled
  }

  async #settle (): Promise<void> {
    const settling = this.#settling
    this.#settling = null
    if (settling === null) return
    const { rooms, chat } = this.#deps
    const userId = this.#ctx.userId!
    if (settling.firstForKey) {
      const components = await rooms.resumeComponents(this.#roomId, userId)
      // Left meanwhile: its user_left is on the way, and must not be followed by a user_joined.
      if (this.#ended) return
      await rooms.dispatch(this.#roomId, { event: 'user_joined', payload: { ...components, username: this.#username, user_id: userId } })
    }
    // Last, so a client that has its history knows its avatar is in the room.
    this.#ctx.push('messages', { messages: await chat.messagesAfter(this.#roomId, settling.lastSeenId) })
    this.#occupancyChanged()
  }

  async handleIn (event: string, payload: unknown): Promise<HandleResult> {
    if (this.#voice && VOICE_EVENTS.has(event)) return await this.#voice.handleIn(event, payload)
    switch (event) {
      case 'i_moved': return await this.#moved(payload)
      case 'event': return await this.#clientEvent(payload)
      case 'new_message': return await this.#newMessage(payload)
      case 'moderate': return await this.#moderate(payload)
      case 'delete_message': return await this.#member!.deleteMessage(payload)
      case 'ping': return { reply: { status: 'ok', response: payload as object } }
      default:
        this.#ctx.log.debug({ event }, 'unknown room event')
        return error('unknown event', event.slice(0, 64))
    }
  }

  async terminate (reason: TerminateReason): Promise<void> {
    const { rooms, presence } = this.#deps
    const userId = this.#ctx.userId
    this.#ended = true
    // Its user_joined goes out before this user_left, if at all.
    await this.#settled?.catch(() => {})
    await this.#sendLastMove()
    const ref = await this.#member?.leave() ?? null
    this.#member = null
    this.#subscription?.remove()
    this.#voice?.detach()
    const joined = this.#subscription !== null
    this.#subscription = null
    if (joined) rooms.memberLeft(this.#roomId)
    if (ref === null || userId === null) return
    const { lastForKey } = await presence.untrack(this.#ctx.topic, userId, ref)
    this.#occupancyChanged()
    if (!lastForKey) return
    try {
      await rooms.dispatch(this.#roomId, { event: 'user_left', payload: { user_id: userId } })
    } catch (err) {
      this.#ctx.log.error({ err, reason }, 'could not announce user_left')
    }
  }

  async #moved (payload: unknown): Promise<HandleResult> {
    const move = payloads.iMoved.parse(payload)
    if (!move.ok) return error('invalid pose', move.error)
    if (await this.#movesOf().offer(move.value.pose) === 'sent' || this.#movesLimited) return
    // Said once per join, as a hint to send less: the moves are not lost, only thinned out.
    this.#movesLimited = true
    this.#ctx.log.debug('i_moved rate limit hit')
    this.#ctx.push('rate_limited', { event: 'i_moved', per_second: this.#limits.movesPerSecond })
  }

  /**
   * The pose still waiting goes out before `user_left`: it is where the user left. Closed even
   * when the user never moved, so that a move racing the end is dropped.
   */
  async #sendLastMove (): Promise<void> {
    try {
      await this.#movesOf().close()
    } catch (err) {
      this.#ctx.log.error({ err }, 'could not send the last move')
    }
  }

  async #clientEvent (payload: unknown): Promise<HandleResult> {
    const name = (payload as { event_name?: unknown } | null)?.event_name
    // Only the events a client may send (shared/world.ts); everything else is refused.
    if (!isClientEvent(name)) return error('event not allowed')
    const event = payloads.event.parse(payload)
    if (!event.ok) return error('invalid event payload', event.error)
    const refused = event.value.event_name === CLIENT_EVENTS.pickedUp ? this.#member!.refuse('grab') : null
    if (refused) return error(refused)
    await this.#deps.rooms.dispatch(this.#roomId, {
      event: event.value.event_name,
      payload: { ...event.value.payload, user_id: this.#ctx.userId }
    })
    return { reply: { status: 'ok', response: {} } }
  }

  async #newMessage (payload: unknown): Promise<HandleResult> {
    const message = payloads.newMessage.parse(payload)
    if (!message.ok) return error('invalid message', message.error)
    const refused = this.#member!.refuse('chat')
    if (refused) return error(refused)
    const content = message.value.content.trim()
    const length = [...content].length
    if (length === 0) return error('message is empty')
    if (length > CHAT_MAX_LENGTH) return error(`message is longer than ${CHAT_MAX_LENGTH} characters`)
    if (hasControlCharacters(content)) return error('message contains control characters')
    if (!this.#messagesOf().take()) return error('too many messages, slow down')
    let record: ChatMessageRecord
    try {
      record = await this.#deps.chat.append(this.#roomId, { userId: this.#ctx.userId!, username: this.#username, content })
    } catch (err) {
      // Nothing was stored: the client keeps the text and may send it again.
      if (isDatabaseUnavailable(err)) return error('unavailable', 'the message was not saved; try again')
      throw err
    }
    await this.#deps.pubsub.broadcast(topics.room(this.#roomId), { event: 'new_message', payload: record })
    return { reply: { status: 'ok', response: { message: record } } }
  }

  // Voice's actions are served by src/channels/voice, the others by the member session.
  async #moderate (payload: unknown): Promise<HandleResult> {
    const action = (payload as { action?: unknown } | null)?.action
    const member = this.#member!
    if (this.#deps.voice && (action === 'mute_voice' || action === 'unmute_voice')) {
      return await this.#deps.voice.moderate(this.#roomId, this.#ctx.userId!, payload, (targetId) => member.mayModerate(targetId))
    }
    return await member.moderate(payload)
  }

  /** A join refused after it was set up: undone, then answered with the refusal. */
  async #refused (refusal: Refusal): Promise<JoinResult> {
    await this.terminate('error')
    return { status: 'error', response: refusal }
  }

  #occupancyChanged (): void {
    const { onOccupancy, presence } = this.#deps
    if (!onOccupancy) return
    const count = presence.count(this.#ctx.topic)
    if (typeof count === 'number') onOccupancy(this.#roomId, count)
    else count.then((n) => onOccupancy(this.#roomId, n), (err: unknown) => this.#ctx.log.warn({ err }, 'could not count the room\'s people'))
  }
}
