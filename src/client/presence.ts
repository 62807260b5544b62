import { isRole, type Role } from '../shared/roles.ts'

/** One person in the room, from Presence. */
export interface Person {
  id: string
  username: string
  /** Open tabs/devices of this user. */
  sessions: number
  /** The voice session of the connection in voice, or null when not in voice. */
  voiceSession: string | null
  /** Muted (by themselves or a moderator). */
  muted: boolean
  role: Role
}

/**
 * Turns a Presence entry into a Person. Presence's shape is
 * `{ [userId]: { metas: [{ username, role, online_at, phx_ref, voice, muted, voice_session }, ...] } }`, one meta
 * per connection; the newest meta's name and role win (a rename reconnects).
 */
export function personFromPresence (id: string, presence: { metas?: Array<Record<string, unknown>> }): Person {
  const metas = Array.isArray(presence.metas) ? presence.metas : []
  let username = ''
  let role: Role = 'member'
  for (const meta of metas) {
    if (typeof meta.username === 'string' && meta.username !== '') username = meta.username
    if (isRole(meta.role)) role = meta.role
  }
  const voice = metas.find(meta => meta.voice === true)
  const voiceSession = voice === undefined ? null : typeof voice.voice_session === 'string' ? voice.voice_session : String(voice.phx_ref)
  const muted = voice ? voice.muted === true : metas.some(meta => meta.muted === true)
  return { id, username: username || 'anonymous', sessions: Math.max(1, metas.length), role, voiceSession, muted }
}
