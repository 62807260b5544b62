import { randomBytes } from 'node:crypto'

/**
 * Who is in each topic, in Phoenix Presence's data shape, so the phoenix client's
 * `Presence` class works unchanged:
 *
 *   { [userId]: { metas: [{ phx_ref, username, online_at, role, voice, muted }, ...one per connection] } }
 *
 * Changes are broadcast as `presence_diff` `{ joins, leaves }` with the same shape.
 * A user with two tabs is one key with two metas; they "join" with the first meta and
 * "leave" with the last.
 */
export interface PresenceMeta extends PresenceFields {
  phx_ref: string
  /** After an update: the ref the meta had before (as Phoenix sends it). */
  phx_ref_prev?: string
  online_at: number
}

/** What a connection says of itself; `role` is the user's in the room (`owner` | `moderator` | `member`). */
export interface PresenceFields {
  username: string
  role?: string
  /** This connection is in the room's voice chat (src/channels/voice). */
  voice?: boolean
  /** The user's microphone is muted, by themselves or by a moderator. */
  muted?: boolean
  /** While in voice: the connection's voice session id, stable across meta updates. */
  voice_session?: string
}

export type PresenceState = Record<string, { metas: PresenceMeta[] }>

export interface PresenceDiff {
  joins: PresenceState
  leaves: PresenceState
}

export interface TrackResult {
  ref: string
  /** The user's first connection to this topic: they just arrived. */
  firstForKey: boolean
}

export interface UntrackResult {
  /** The user's last connection to this topic went: they are gone. */
  lastForKey: boolean
}

type MaybePromise<T> = T | Promise<T>

/**
 * What a room channel needs of presence: the in-memory Presence below (one process, the
 * default) or RedisPresence (several processes sharing Redis).
 */
export interface PresenceTracker {
  /** Adds a connection (a meta) under `key`; says whether it is the key's first. */
  track: (topic: string, key: string, meta: PresenceFields) => MaybePromise<TrackResult>
  /**
   * Tracks like `track` unless the topic already holds `capacity` keys and `key` is not one of
   * them: then nothing is tracked and the result is null. Counting and adding are one step, so
   * two joins racing for the last place cannot both get it.
   */
  trackWithin: (topic: string, key: string, meta: PresenceFields, capacity: number) => MaybePromise<TrackResult | null>
  /** Removes the connection `ref`; says whether it was the key's last. Unknown refs are ignored. */
  untrack: (topic: string, key: string, ref: string) => MaybePromise<UntrackResult>
  /**
   * Changes some fields of a connection's meta. The meta gets a new ref (the phoenix client
   * tells metas apart by ref: a leave and a join of one ref would remove it), returned here and
   * to be used from now on; null when `ref` is not tracked.
   */
  update: (topic: string, key: string, ref: string, meta: Partial<PresenceFields>) => MaybePromise<string | null>
  /** Everyone in the topic, as pushed in `presence_state`. */
  list: (topic: string) => MaybePromise<PresenceState>
  /** Distinct keys in the topic. */
  count: (topic: string) => MaybePromise<number>
}

/** Where diffs go: the room's broadcast topic, so every member's socket gets them. */
export type PresenceBroadcast = (topic: string, diff: PresenceDiff) => void

export class Presence implements PresenceTracker {
  private readonly topics = new Map<string, Map<string, PresenceMeta[]>>()

  constructor (private readonly broadcast: PresenceBroadcast, private readonly now: () => number = Date.now) {}

  track (topic: string, key: string, meta: PresenceFields): TrackResult {
    const keys = this.topics.get(topic) ?? new Map<string, PresenceMeta[]>()
    this.topics.set(topic, keys)
    const metas = keys.get(key) ?? []
    const full: PresenceMeta = { ...meta, phx_ref: randomBytes(8).toString('base64url'), online_at: this.now() }
    metas.push(full)
    keys.set(key, metas)
    this.broadcast(topic, { joins: { [key]: { metas: [full] } }, leaves: {} })
    return { ref: full.phx_ref, firstForKey: metas.length === 1 }
  }

  trackWithin (topic: string, key: string, meta: PresenceFields, capacity: number): TrackResult | null {
    const keys = this.topics.get(topic)
    if (keys && !keys.has(key) && keys.size >= capacity) return null
    return this.track(topic, key, meta)
  }

  untrack (topic: string, key: string, ref: string): UntrackResult {
    const keys = this.topics.get(topic)
    const metas = keys?.get(key)
    const index = metas?.findIndex((m) => m.phx_ref === ref) ?? -1
    if (!keys || !metas || index < 0) return { lastForKey: false }
    const [gone] = metas.splice(index, 1)
    if (metas.length === 0) keys.delete(key)
    if (keys.size === 0) this.topics.delete(topic)
    this.broadcast(topic, { joins: {}, leaves: { [key]: { metas: [gone] } } })
    return { lastForKey: metas.length === 0 }
  }

  /** Changes a connection's meta (a display name, a role) as a leave plus a join. */
  update (topic: string, key: string, ref: string, meta: Partial<PresenceFields>): string | null {
    const metas = this.topics.get(topic)?.get(key)
    const current = metas?.find((m) => m.phx_ref === ref)
    if (!current) return null
    const next: PresenceMeta = { ...current, ...meta, phx_ref: randomBytes(8).toString('base64url'), phx_ref_prev: ref }
    metas!.splice(metas!.indexOf(current), 1, next)
    this.broadcast(topic, { joins: { [key]: { metas: [next] } }, leaves: { [key]: { metas: [current] } } })
    return next.phx_ref
  }

  list (topic: string): PresenceState {
    const state: PresenceState = {}
    for (const [key, metas] of this.topics.get(topic) ?? []) state[key] = { metas: metas.map((m) => ({ ...m })) }
    return state
  }

  /** Distinct users in the topic. */
  count (topic: string): number {
    return this.topics.get(topic)?.size ?? 0
  }
}
