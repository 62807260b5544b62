import { Type, type Static } from '@sinclair/typebox'
import { checker } from '../payloads.ts'

/**
 * What a client may send about voice. An SDP of one audio track is 2-6 KB; 16 KB leaves room
 * for many codecs and candidates and refuses anything meant to flood the addressee.
 */
export const SDP_MAX_LENGTH = 16 * 1024
const CANDIDATE_MAX_LENGTH = 1024

export const UserId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' })

const description = (type: 'offer' | 'answer') => Type.Object({
  type: Type.Literal(type),
  sdp: Type.String({ maxLength: SDP_MAX_LENGTH })
}, { additionalProperties: false })

// RTCIceCandidateInit; null ends the candidates (also an empty candidate string).
const Candidate = Type.Union([Type.Null(), Type.Object({
  candidate: Type.String({ maxLength: CANDIDATE_MAX_LENGTH }),
  sdpMid: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
  sdpMLineIndex: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 64 }), Type.Null()])),
  usernameFragment: Type.Optional(Type.Union([Type.String({ maxLength: 256 }), Type.Null()]))
}, { additionalProperties: false })])

export const VoiceSignal = Type.Union([
  Type.Object({ to: UserId, kind: Type.Literal('offer'), data: description('offer') }, { additionalProperties: false }),
  Type.Object({ to: UserId, kind: Type.Literal('answer'), data: description('answer') }, { additionalProperties: false }),
  Type.Object({ to: UserId, kind: Type.Literal('candidate'), data: Candidate }, { additionalProperties: false })
])

export const VoiceMute = Type.Object({ muted: Type.Boolean() }, { additionalProperties: false })

export const ModerateVoice = Type.Object({
  action: Type.Union([Type.Literal('mute_voice'), Type.Literal('unmute_voice')]),
  user_id: UserId
}, { additionalProperties: false })

export type VoiceSignal = Static<typeof VoiceSignal>
export type ModerateVoice = Static<typeof ModerateVoice>

export const voicePayloads = {
  signal: checker(VoiceSignal),
  mute: checker(VoiceMute),
  moderate: checker(ModerateVoice)
} as const
