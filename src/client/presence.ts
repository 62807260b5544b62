/** One person in the room, from Presence. */
export interface Person {
  id: string
  username: string
  /** Open tabs/devices of this user. */
  sessions: number
}

/**
 * Turns a Presence entry into a Person. Presence's shape is
 * `{ [userId]: { metas: [{ username, online_at, phx_ref }, ...] } }`, one meta
 * per connection; the newest meta's name wins (a rename reconnects).
 */
export function personFromPresence (id: string, presence: { metas?: Array<Record<string, unknown>> }): Person {
  const metas = Array.isArray(presence.metas) ? presence.metas : []
  let username = ''
  for (const meta of metas) {
    if (typeof meta.username === 'string' && meta.username !== '') username = meta.username
  }
  return { id, username: username || 'anonymous', sessions: Math.max(1, metas.length) }
}
