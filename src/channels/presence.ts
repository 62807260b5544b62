import { randomBytes } from 'node:crypto'

/**
 * Who is in each topic, in Phoenix Presence's data shape, so the phoenix client's
 * `Presence` class works unchanged:
 *
 *   { [userId]: { metas: [{ phx_ref, username, online_at, voice, muted }, ...one per connection] } }
 *
 * Changes are broadcast as `presence_diff` `{ joins, leaves }` with the same shape.
 * A user with two tabs is one key with two metas; they "join" with the first meta and
 * "leave" with the last.
 */
/** What a connection tells about itself; the tracker adds `phx_ref` and `online_at`. */
export interface MetaFields {
  username: string
  /** This connection is in the room's voice chat (src/channels/voice). */
  voice?: boolean
  /** The user's microphone is muted, by themselves or by a moderator. */
  muted?: boolean
  /** While in voice: the connection's voice session id, stable across meta updates. */
  voice_session?: string
}

export interface PresenceMeta extends MetaFields {
  phx_ref: string
  /** After an update: the phx_ref this meta replaced. */
  phx_ref_prev?: string
  online_at: number
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
  track: (topic: string, key: string, meta: MetaFields) => MaybePromise<TrackResult>
  /** Removes the connection `ref`; says whether it was the key's last. Unknown refs are ignored. */
  untrack: (topic: string, key: string, ref: string) => MaybePromise<UntrackResult>
  /** Changes some fields of a connection's meta. */
  update: (topic: string, key: string, ref: string, meta: Partial<MetaFields>) => MaybePromise<void>
  /** Everyone in the topic, as pushed in `presence_state`. */
  list: (topic: string) => MaybePromise<PresenceState>
  /** Distinct keys in the topic. */
  count: (topic: string) => MaybePromise<number>
}

/** Where diffs go: the room's broadcast topic, so every member's socket gets them. */
export type PresenceBroadcast = (topic: string, diff: PresenceDiff) => void

/** A connection: the ref it was tracked with, and its meta (whose phx_ref changes with each update). */
interface Connection { ref: string, meta: PresenceMeta }

const newRef = (): string => randomBytes(8).toString('base64url')

/**
 * The meta after an update: a new phx_ref, as Phoenix's Presence.update gives it, since the
 * phoenix client applies a diff's joins before its leaves and matches metas by phx_ref alone.
 */
export function updatedMeta (current: PresenceMeta, fields: Partial<MetaFields>): PresenceMeta {
  return { ...current, ...fields, phx_ref: newRef(), phx_ref_prev: current.phx_ref }
}

export class Presence implements PresenceTracker {
  private readonly topics = new Map<string, Map<string, Connection[]>>()

  constructor (private readonly broadcast: PresenceBroadcast, private readonly now: () => number = Date.now) {}

  track (topic: string, key: string, meta: MetaFields): TrackResult {
    const keys = this.topics.get(topic) ?? new Map<string, Connection[]>()
    this.topics.set(topic, keys)
    const connections = keys.get(key) ?? []
    const full: PresenceMeta = { ...meta, phx_ref: newRef(), online_at: this.now() }
    connections.push({ ref: full.phx_ref, meta: full })
    keys.set(key, connections)
    this.broadcast(topic, { joins: { [key]: { metas: [full] } }, leaves: {} })
    return { ref: full.phx_ref, firstForKey: connections.length === 1 }
  }

  untrack (topic: string, key: string, ref: string): UntrackResult {
    const keys = this.topics.get(topic)
    const connections = keys?.get(key)
    const index = connections?.findIndex((c) => c.ref === ref) ?? -1
    if (!keys || !connections || index < 0) return { lastForKey: false }
    const [gone] = connections.splice(index, 1)
    if (connections.length === 0) keys.delete(key)
    if (keys.size === 0) this.topics.delete(topic)
    this.broadcast(topic, { joins: {}, leaves: { [key]: { metas: [gone!.meta] } } })
    return { lastForKey: connections.length === 0 }
  }

  /** Changes a connection's meta (a display name, joining voice) as a leave plus a join. */
  update (topic: string, key: string, ref: string, meta: Partial<MetaFields>): void {
    const connection = this.topics.get(topic)?.get(key)?.find((c) => c.ref === ref)
    if (!connection) return
    const current = connection.meta
    connection.meta = updatedMeta(current, meta)
    this.broadcast(topic, { joins: { [key]: { metas: [connection.meta] } }, leaves: { [key]: { metas: [current] } } })
  }

  list (topic: string): PresenceState {
    const state: PresenceState = {}
    for (const [key, connections] of this.topics.get(topic) ?? []) state[key] = { metas: connections.map((c) => ({ ...c.meta })) }
    return state
  }

  /** Distinct users in the topic. */
  count (topic: string): number {
    return this.topics.get(topic)?.size ?? 0
  }
}
