import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { CLIENT_EVENTS, HANDS } from '../shared/world.ts'

/**
 * Schemas of everything a client may send on a room channel. Payloads are untrusted:
 * numbers are bounded (JSON can spell Infinity as 1e999), arrays have exact lengths,
 * ids are short and plain, and strings may not hold NUL, which PostgreSQL refuses to
 * store (a diff holding one could never be persisted).
 */

/** A coordinate or quaternion part; a world is far smaller than this bound. */
const Coordinate = Type.Number({ minimum: -100_000, maximum: 100_000 })

/** [x, y, z, qx, qy, qz, qw] */
export const Pose = Type.Array(Coordinate, { minItems: 7, maxItems: 7 })
export const Vec3 = Type.Array(Coordinate, { minItems: 3, maxItems: 3 })
export const EntityId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' })
export const Hand = Type.Union(HANDS.map((hand) => Type.Literal(hand)))

export const JoinParams = Type.Object({
  last_seen_id: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }))
})

export const IMoved = Type.Object({
  pose: Type.Object({
    head: Pose,
    left: Type.Optional(Pose),
    right: Type.Optional(Pose)
  }, { additionalProperties: false })
})

export const PickedUp = Type.Object({ target_id: EntityId, hand: Hand }, { additionalProperties: false })
export const Released = Type.Object({
  target_id: EntityId,
  hand: Hand,
  // Where the hand let go, so the object stays where the holder saw it.
  position: Type.Optional(Vec3)
}, { additionalProperties: false })

export const ClientEvent = Type.Union([
  Type.Object({ event_name: Type.Literal(CLIENT_EVENTS.pickedUp), payload: PickedUp }),
  Type.Object({ event_name: Type.Literal(CLIENT_EVENTS.released), payload: Released })
])

export const CHAT_MAX_LENGTH = 500
export const NewMessage = Type.Object({ content: Type.String({ maxLength: 4 * CHAT_MAX_LENGTH }) })

/** A user id as tokens carry it; which actions exist is the moderation registry's business (src/channels/moderation.ts). */
export const Moderate = Type.Object({
  action: Type.String({ minLength: 1, maxLength: 32, pattern: '^[a-z_]+$' }),
  user_id: Type.String({ minLength: 1, maxLength: 128 })
}, { additionalProperties: false })

export const DeleteMessage = Type.Object({ id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) }, { additionalProperties: false })

export type IMoved = Static<typeof IMoved>
export type ClientEvent = Static<typeof ClientEvent>
export type JoinParams = Static<typeof JoinParams>

export interface Checker<T> {
  /** The value typed, or null with the first problem in `error`. */
  parse: (value: unknown) => { ok: true, value: T } | { ok: false, error: string }
}

export function checker<S extends TSchema> (schema: S): Checker<Static<S>> {
  const compiled = TypeCompiler.Compile(schema)
  return {
    parse (value) {
      if (compiled.Check(value)) return { ok: true, value }
      const first = compiled.Errors(value).First()
      return { ok: false, error: first ? `${first.path || '/'} ${first.message}`.trim() : 'invalid payload' }
    }
  }
}

export const payloads = {
  join: checker(JoinParams),
  iMoved: checker(IMoved),
  event: checker(ClientEvent),
  newMessage: checker(NewMessage),
  moderate: checker(Moderate),
  deleteMessage: checker(DeleteMessage)
} as const

/** NUL cannot be stored by PostgreSQL; other control characters make no sense in chat. */
export const hasControlCharacters = (text: string): boolean => /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)
