import type { MemberRecord } from '../db/room-members.ts'
import { PLAIN_MEMBER } from '../db/room-members.ts'
import { systemClock, type Clock } from '../runtime/clock.ts'
import type { Logger } from '../runtime/logger.ts'
import type { PubSub } from '../runtime/pubsub.ts'
import type { Role } from '../shared/roles.ts'

/** The room's settings that the room itself enforces. */
export interface RoomSettings {
  ownerId: string | null
  capacity: number
  locked: boolean
  allowGrab: boolean
  allowChat: boolean
}

/** What a process knows of a room's rules: its settings, its people with a room_members row, and its bans. */
export interface RoomPolicy {
  readonly settings: Readonly<RoomSettings>
  readonly members: ReadonlyMap<string, MemberRecord>
  /** User id → until when they may not come back (room_bans; some may have run out since). */
  readonly bans: ReadonlyMap<string, Date>
}

/**
 * A person's role in the room (see shared/roles.ts): the owner is rooms.owner_id, moderators have
 * a room_members row, an admin is a connection whose token says its session signed in with ADMIN_TOKEN.
 */
export const roleIn = (policy: RoomPolicy, userId: string, admin = false): Role =>
  policy.settings.ownerId === userId ? 'owner' : admin ? 'admin' : policy.members.get(userId)?.role === 'moderator' ? 'moderator' : 'member'

export const memberOf = (policy: RoomPolicy, userId: string): MemberRecord => policy.members.get(userId) ?? PLAIN_MEMBER

/** Until when the user is banned from the room, if a ban runs at `now` (wall-clock milliseconds). */
export function bannedUntil (policy: RoomPolicy, userId: string, now: number): Date | null {
  const until = policy.bans.get(userId)
  return until !== undefined && until.getTime() > now ? until : null
}

/** Told to leave the room: by whom (a display name) and until when they may not come back. */
export interface KickNotice {
  by: string
  until: string
}

/** One connection in the room, told of what changes for it, in whichever process it was made. */
export interface PolicySession {
  readonly userId: string
  /** The room's policy changed (its settings or someone's member record). */
  policyChanged: (policy: RoomPolicy) => void
  kicked: (notice: KickNotice) => void
}

/** A session's hold on its room's policy. */
export interface PolicyHandle {
  /** The newest policy this process knows. */
  readonly policy: RoomPolicy
  /** Stops telling the session. */
  leave: () => void
}

export interface RoomPoliciesOptions {
  /** The room's settings, or null when it does not exist. */
  loadSettings: (roomId: string) => Promise<RoomSettings | null>
  loadMembers: (roomId: string) => Promise<Map<string, MemberRecord>>
  /** The room's running bans: user id → until. */
  loadBans: (roomId: string) => Promise<Map<string, Date>>
  /** Shared by the processes serving the rooms: member changes and kicks reach all of them. */
  pubsub: PubSub
  logger: Logger
  /**
   * How long a room's policy is kept after its last connection here left (default 10 minutes):
   * it is kept current meanwhile, so the next join reads no database for it.
   */
  keepMs?: number
  clock?: Clock
}

export const DEFAULT_POLICY_KEEP_MS = 10 * 60_000

type TrustMessage =
  | { type: 'member', user_id: string, member: MemberRecord }
  | { type: 'kick', user_id: string, by: string, until: string }

interface Entry {
  policy: RoomPolicy | null
  /** Loads and changes, one at a time in order, so an older read never overwrites a newer change. */
  queue: Promise<void>
  sessions: Set<PolicySession>
  unsubscribe: () => void
  /** Stops telling `session`; the room's last session starts the countdown to letting the entry go. */
  leave: (session: PolicySession) => void
  /** The countdown running while no session is here. */
  expiry: unknown
}

/** A session's hold on its room's entry: a class, as an object literal with a getter is a dictionary (some 400 bytes more a connection). */
class Hold implements PolicyHandle {
  constructor (private readonly entry: Entry, private readonly session: PolicySession) {}

  get policy (): RoomPolicy {
    return this.entry.policy!
  }

  leave (): void {
    this.entry.leave(this.session)
  }
}

const trustTopic = (roomId: string): string => `room_trust:${roomId}`

/**
 * Each process's cache of the rooms' policies, for the rooms it has connections in: loaded from
 * the database on a room's first join (so later joins read no database for the ban and the rules), reloaded when the room's settings change (`refresh`, on
 * RoomDirectory's room_updated), and changed in every process at once when a member's record
 * changes or someone is kicked (over the pubsub, after the database write). A room's entry goes
 * `keepMs` after its last connection here left, or when the room is deleted with nobody in it.
 */
export class RoomPolicies {
  readonly #o: RoomPoliciesOptions
  readonly #entries = new Map<string, Entry>()
  readonly #clock: Clock
  readonly #keepMs: number
  #closed = false

  constructor (options: RoomPoliciesOptions) {
    this.#o = options
    this.#clock = options.clock ?? systemClock
    this.#keepMs = options.keepMs ?? DEFAULT_POLICY_KEEP_MS
    if (!Number.isSafeInteger(this.#keepMs) || this.#keepMs < 0) throw new TypeError(`room policies: "keepMs" must be a number of milliseconds, got ${String(options.keepMs)}`)
  }

  /** Whether this process holds the room's policy (with or without a connection in it). */
  holds (roomId: string): boolean {
    return this.#entries.has(roomId)
  }

  /** Lets every policy go (the server is closing). */
  close (): void {
    this.#closed = true
    for (const [roomId, entry] of [...this.#entries]) this.#drop(roomId, entry)
  }

  /**
   * Attaches a session to the room's policy, loading it first when this process has none.
   * Null when the room does not exist.
   */
  async enter (roomId: string, session: PolicySession): Promise<PolicyHandle | null> {
    const entry = this.#entry(roomId)
    entry.sessions.add(session)
    this.#clock.clearTimeout(entry.expiry)
    entry.expiry = undefined
    const handle = new Hold(entry, session)
    try {
      await entry.queue
    } catch (err) {
      handle.leave()
      throw err
    }
    if (entry.policy === null) {
      handle.leave()
      return null
    }
    return handle
  }

  /** Reads the room's settings, members and bans again (they changed in the database); a no-op for rooms not held here. */
  refresh (roomId: string): void {
    const entry = this.#entries.get(roomId)
    if (!entry) return
    this.#enqueue(roomId, entry, async () => {
      const policy = await this.#load(roomId)
      // Deleted: a running session keeps what it knew until the room stops it.
      if (policy === null && entry.sessions.size === 0) this.#drop(roomId, entry)
      entry.policy = policy ?? entry.policy
    })
  }

  /** Tells every process that the user's member record is now `member` (already written). */
  async memberChanged (roomId: string, userId: string, member: MemberRecord): Promise<void> {
    await this.#o.pubsub.broadcast(trustTopic(roomId), { type: 'member', user_id: userId, member } satisfies TrustMessage)
  }

  /** Tells every connection of the user to the room, in every process, that they were kicked. */
  async kick (roomId: string, userId: string, notice: KickNotice): Promise<void> {
    await this.#o.pubsub.broadcast(trustTopic(roomId), { type: 'kick', user_id: userId, ...notice } satisfies TrustMessage)
  }

  /** Resolves once the changes heard so far for the room are applied (at once for a room not held here). */
  async settled (roomId: string): Promise<void> {
    await this.#entries.get(roomId)?.queue.catch(() => {})
  }

  #entry (roomId: string): Entry {
    const existing = this.#entries.get(roomId)
    if (existing) return existing
    const entry: Entry = {
      policy: null,
      queue: Promise.resolve(),
      sessions: new Set(),
      unsubscribe: () => {},
      expiry: undefined,
      leave: (session) => {
        entry.sessions.delete(session)
        if (entry.sessions.size > 0 || this.#entries.get(roomId) !== entry) return
        if (this.#closed) return this.#drop(roomId, entry)
        this.#clock.clearTimeout(entry.expiry)
        entry.expiry = this.#clock.setTimeout(() => this.#drop(roomId, entry), this.#keepMs)
      }
    }
    this.#entries.set(roomId, entry)
    // Subscribed before loading, so a change written after the load's read is still heard.
    entry.unsubscribe = this.#o.pubsub.subscribe(trustTopic(roomId), (message) => this.#heard(roomId, entry, message as TrustMessage))
    entry.queue = (async () => { entry.policy = await this.#load(roomId) })()
    entry.queue.catch(() => {
      // A failed first load is not kept: the next join tries again.
      if (entry.policy === null) this.#drop(roomId, entry)
    })
    return entry
  }

  #drop (roomId: string, entry: Entry): void {
    this.#clock.clearTimeout(entry.expiry)
    if (this.#entries.get(roomId) !== entry) return
    this.#entries.delete(roomId)
    entry.unsubscribe()
  }

  #heard (roomId: string, entry: Entry, message: TrustMessage): void {
    if (message.type === 'kick') {
      for (const session of [...entry.sessions]) if (session.userId === message.user_id) session.kicked({ by: message.by, until: message.until })
    }
    // The ban is written before the kick is told: a rejoin here waits for this change (enter awaits the queue).
    this.#enqueue(roomId, entry, async () => {
      const policy = entry.policy
      if (policy === null) return
      if (message.type === 'kick') {
        const bans = new Map(policy.bans)
        bans.set(message.user_id, new Date(message.until))
        entry.policy = { ...policy, bans }
        return
      }
      const members = new Map(policy.members)
      members.set(message.user_id, message.member)
      entry.policy = { ...policy, members }
    })
  }

  #enqueue (roomId: string, entry: Entry, change: () => Promise<void>): void {
    entry.queue = entry.queue.catch(() => {}).then(change).then(() => {
      const policy = entry.policy
      if (policy === null) return
      for (const session of [...entry.sessions]) {
        try {
          session.policyChanged(policy)
        } catch (err) {
          this.#o.logger.error({ err, roomId }, 'a session failed to apply a policy change')
        }
      }
    })
    entry.queue.catch((err: unknown) => this.#o.logger.warn({ err, roomId }, 'could not reload the room\'s policy; keeping the last one'))
  }

  async #load (roomId: string): Promise<RoomPolicy | null> {
    const [settings, members, bans] = await Promise.all([this.#o.loadSettings(roomId), this.#o.loadMembers(roomId), this.#o.loadBans(roomId)])
    return settings && { settings: Object.freeze(settings), members, bans }
  }
}
