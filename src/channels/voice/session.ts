import type { ChannelContext, HandleResult } from '../../phoenix/channel.ts'
import { topics } from '../../runtime/topics.ts'
import { randomBytes } from 'node:crypto'
import type { PresenceFields } from '../presence.ts'
import { TokenBucket } from '../token-bucket.ts'
import { voicePayloads, type VoiceSignal } from './payloads.ts'
import { voiceMembers, type Voice } from './voice.ts'

/** What goes over a user's voice topic (topics.voiceUser) to their connections in a room. */
export type VoiceMessage =
  | { type: 'signal', from: string, from_session: string, kind: VoiceSignal['kind'], data: unknown }
  /** Another connection of the user joined voice (session = its voice session): this one leaves it. */
  | { type: 'takeover', session: string }
  | { type: 'moderated', muted: boolean, by: string }

/** How the session changes its connection's presence meta (MemberSession fits: it keeps the meta's ref). */
export interface VoicePresence {
  updatePresence: (fields: Partial<PresenceFields>) => Promise<void>
}

/** Client events the session handles. */
export const VOICE_EVENTS = new Set(['voice_join', 'voice_leave', 'voice_mute', 'voice_signal'])

const error = (reason: string, details?: string): HandleResult =>
  ({ reply: { status: 'error', response: details === undefined ? { reason } : { reason, details } } })

/**
 * One room channel's part in voice. Voice is per connection: a user with two tabs speaks
 * from one, the last to join. Pushes to the client:
 * `voice_signal` `{from, from_session, kind, data}` (from and from_session set by the server),
 * `voice_ended` `{reason: "joined_elsewhere" | "muted_by_moderator"}`, `voice_moderated` `{muted, by}`.
 */
export class VoiceSession {
  readonly #ctx: ChannelContext
  readonly #voice: Voice
  readonly #roomId: string
  readonly #userId: string
  // Made at the first signal (a bucket starts full): most connections never speak.
  #signals: TokenBucket | null = null
  /** This connection's voice session id: in its presence meta while in voice, and on its signals. */
  readonly #session = randomBytes(8).toString('base64url')
  #presence: VoicePresence | null = null
  #unsubscribe: (() => void) | null = null
  #inVoice = false
  #selfMuted = false
  #moderated = false

  constructor (ctx: ChannelContext, voice: Voice, roomId: string) {
    this.#ctx = ctx
    this.#voice = voice
    this.#roomId = roomId
    this.#userId = ctx.userId ?? ''
  }

  /** Before the connection is tracked: listens to the user's voice topic; what its meta starts with. */
  async prepare (): Promise<Pick<PresenceFields, 'voice' | 'muted'>> {
    this.#unsubscribe = this.#voice.pubsub.subscribe(topics.voiceUser(this.#roomId, this.#userId), (message) => this.#receive(message as VoiceMessage))
    this.#moderated = await this.#voice.policy.voiceMuted(this.#roomId, this.#userId)
    return { voice: false, muted: this.#moderated }
  }

  /** The connection is tracked: its meta may change from now on. */
  attach (presence: VoicePresence): void {
    this.#presence = presence
  }

  /** The channel ended; its presence goes with it. */
  detach (): void {
    this.#unsubscribe?.()
    this.#unsubscribe = null
    this.#presence = null
    this.#inVoice = false
  }

  async handleIn (event: string, payload: unknown): Promise<HandleResult> {
    if (this.#presence === null) return error('not_joined')
    switch (event) {
      case 'voice_join': return await this.#join(payload)
      case 'voice_leave': return await this.#leave()
      case 'voice_mute': return await this.#mute(payload)
      default: return await this.#signal(payload)
    }
  }

  async #join (payload: unknown): Promise<HandleResult> {
    const muted = (payload as { muted?: unknown } | null)?.muted === true
    this.#moderated = await this.#voice.policy.voiceMuted(this.#roomId, this.#userId)
    if (this.#moderated) return error('voice_muted')
    const members = voiceMembers(await this.#voice.presence.list(this.#ctx.topic))
    const elsewhere = members.get(this.#userId)
    members.delete(this.#userId)
    if (!this.#inVoice && members.size >= this.#voice.limits.maxPeers) return error('voice_full')
    this.#inVoice = true
    this.#selfMuted = muted
    await this.#setMeta({ voice: true, muted, voice_session: this.#session })
    if (elsewhere !== undefined && elsewhere !== this.#session) await this.#voice.tell(this.#roomId, this.#userId, { type: 'takeover', session: this.#session })
    return { reply: { status: 'ok', response: { ice_servers: this.#voice.iceServersFor(this.#userId), max_peers: this.#voice.limits.maxPeers, session: this.#session } } }
  }

  async #leave (): Promise<HandleResult> {
    if (this.#inVoice) {
      this.#inVoice = false
      await this.#setMeta({ voice: false, muted: this.#moderated, voice_session: undefined })
    }
    return { reply: { status: 'ok', response: {} } }
  }

  async #mute (payload: unknown): Promise<HandleResult> {
    const parsed = voicePayloads.mute.parse(payload)
    if (!parsed.ok) return error('invalid mute payload', parsed.error)
    if (!this.#inVoice) return error('not_in_voice')
    this.#selfMuted = parsed.value.muted
    await this.#setMeta({ muted: this.#selfMuted })
    return { reply: { status: 'ok', response: { muted: this.#selfMuted } } }
  }

  async #signal (payload: unknown): Promise<HandleResult> {
    this.#signals ??= new TokenBucket(this.#voice.limits.signalsPerSecond, this.#voice.limits.signalBurst, this.#voice.now)
    if (!this.#signals.take()) return error('rate_limited', `at most ${this.#voice.limits.signalsPerSecond} signals per second`)
    const parsed = voicePayloads.signal.parse(payload)
    if (!parsed.ok) return error('invalid signal', parsed.error)
    const { to, kind, data } = parsed.value
    if (!this.#inVoice) return error('not_in_voice')
    if (to === this.#userId) return error('invalid signal', 'cannot signal yourself')
    if (!voiceMembers(await this.#voice.presence.list(this.#ctx.topic)).has(to)) return error('peer_not_in_voice')
    await this.#voice.tell(this.#roomId, to, { type: 'signal', from: this.#userId, from_session: this.#session, kind, data })
    return { reply: { status: 'ok', response: {} } }
  }

  #receive (message: VoiceMessage): void {
    switch (message?.type) {
      case 'signal':
        if (this.#inVoice) this.#ctx.push('voice_signal', { from: message.from, from_session: message.from_session, kind: message.kind, data: message.data })
        return
      case 'takeover':
        if (!this.#inVoice || message.session === this.#session) return
        this.#end('joined_elsewhere', this.#moderated)
        return
      case 'moderated':
        this.#moderated = message.muted
        this.#ctx.push('voice_moderated', { muted: message.muted, by: message.by })
        if (message.muted && this.#inVoice) this.#end('muted_by_moderator', true)
        else if (!this.#inVoice) this.#queueMeta({ muted: message.muted })
    }
  }

  #end (reason: string, muted: boolean): void {
    this.#inVoice = false
    this.#ctx.push('voice_ended', { reason })
    this.#queueMeta({ voice: false, muted, voice_session: undefined })
  }

  #queueMeta (meta: Partial<PresenceFields>): void {
    this.#setMeta(meta).catch((err: unknown) => this.#ctx.log.warn({ err }, 'could not update the voice presence'))
  }

  async #setMeta (meta: Partial<PresenceFields>): Promise<void> {
    await this.#presence?.updatePresence(meta)
  }
}
