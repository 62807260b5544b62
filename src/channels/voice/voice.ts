import type { HandleResult } from '../../phoenix/channel.ts'
import type { PubSub } from '../../runtime/pubsub.ts'
import { topics } from '../../runtime/topics.ts'
import type { PresenceState, PresenceTracker } from '../presence.ts'
import { iceServersFor, type IceSettings } from './ice-servers.ts'
import { voicePayloads, type ModerateVoice } from './payloads.ts'
import type { VoicePolicy } from './policy.ts'
import type { VoiceMessage } from './session.ts'

export interface VoiceLimits {
  /** Most distinct people in a room's voice at once. */
  maxPeers: number
  /** `voice_signal` per second per connection, with a burst of `signalBurst` (a negotiation sends a few dozen at once). */
  signalsPerSecond: number
  signalBurst: number
}

export const DEFAULT_VOICE_LIMITS: VoiceLimits = { maxPeers: 8, signalsPerSecond: 30, signalBurst: 120 }

export interface VoiceOptions {
  pubsub: PubSub
  presence: PresenceTracker
  policy: VoicePolicy
  ice: IceSettings
  limits?: Partial<VoiceLimits>
  now?: () => number
}

const error = (reason: string, details?: string): HandleResult =>
  ({ reply: { status: 'error', response: details === undefined ? { reason } : { reason, details } } })

/**
 * Voice chat of the rooms: a peer-to-peer mesh of browsers, for which the server only relays
 * signaling and keeps who is in voice in presence (metas' `voice` and `muted`). Shared by
 * every room channel of the process; each joined channel has a VoiceSession (session.ts).
 */
export class Voice {
  readonly limits: VoiceLimits
  readonly now: () => number

  constructor (private readonly o: VoiceOptions) {
    this.limits = { ...DEFAULT_VOICE_LIMITS, ...o.limits }
    this.now = o.now ?? Date.now
    if (!Number.isInteger(this.limits.maxPeers) || this.limits.maxPeers < 2) throw new TypeError('voice: maxPeers must be a whole number >= 2')
  }

  get pubsub (): PubSub { return this.o.pubsub }
  get presence (): PresenceTracker { return this.o.presence }
  get policy (): VoicePolicy { return this.o.policy }

  iceServersFor (userId: string): object[] {
    return iceServersFor(this.o.ice, userId, this.now())
  }

  /** Tells every connection of `userId` in the room, in any process. */
  async tell (roomId: string, userId: string, message: VoiceMessage): Promise<void> {
    await this.o.pubsub.broadcast(topics.voiceUser(roomId, userId), message)
  }

  /**
   * `moderate` with `{action: "mute_voice" | "unmute_voice", user_id}` from `actorId`, who may
   * if `mayModerate(user_id)` (the room's rule: someone who outranks them, see shared/roles.ts).
   * A muted user leaves voice and may not join it again until unmuted; the mute is kept in the
   * database across visits.
   */
  async moderate (roomId: string, actorId: string, request: unknown, mayModerate: (targetId: string) => Promise<boolean>): Promise<HandleResult> {
    const parsed = voicePayloads.moderate.parse(request)
    if (!parsed.ok) return error('invalid moderate payload', parsed.error)
    const { action, user_id: target }: ModerateVoice = parsed.value
    if (target === actorId) return error('forbidden', 'you cannot moderate yourself')
    if (!await mayModerate(target)) return error('forbidden')
    const muted = action === 'mute_voice'
    await this.o.policy.setVoiceMuted(roomId, target, muted)
    await this.tell(roomId, target, { type: 'moderated', muted, by: actorId })
    return { reply: { status: 'ok', response: { user_id: target, voice_muted: muted } } }
  }
}

/** Users with a connection in voice, each with that connection's voice session. */
export function voiceMembers (state: PresenceState): Map<string, string> {
  const members = new Map<string, string>()
  for (const [userId, { metas }] of Object.entries(state)) {
    const inVoice = metas.find((meta) => meta.voice === true)
    if (inVoice) members.set(userId, inVoice.voice_session ?? inVoice.phx_ref)
  }
  return members
}
