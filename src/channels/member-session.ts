import type { RoomBans } from '../db/room-bans.ts'
import type { RoomMembers } from '../db/room-members.ts'
import { isDatabaseUnavailable } from '../db/unavailable.ts'
import type { ChannelContext, HandleResult } from '../phoenix/channel.ts'
import type { PubSub } from '../runtime/pubsub.ts'
import { topics } from '../runtime/topics.ts'
import { isInCharge, isStaff, mayModerate, type Authority, type Role } from '../shared/roles.ts'
import { moderationActions } from './moderation.ts'
import { payloads } from './payloads.ts'
import type { PresenceFields, PresenceTracker, TrackResult } from './presence.ts'
import { bannedUntil, memberOf, roleIn, type KickNotice, type PolicyHandle, type PolicySession, type RoomPolicies, type RoomPolicy } from './room-policy.ts'

/** What the room's rules need: the policy cache, the stored records and the clock bans are read with. */
export interface TrustDeps {
  policies: RoomPolicies
  members: RoomMembers
  bans: RoomBans
  chat: { delete: (roomId: string, id: number) => Promise<boolean> }
  pubsub: PubSub
  presence: PresenceTracker
  /** Wall-clock milliseconds; bans are checked and set with it. */
  now: () => number
  /** How long a kicked user may not come back. */
  banMs: number
}

export const DEFAULT_BAN_MS = 10 * 60_000

/** What a member's action needs allowed. */
export type Privilege = 'grab' | 'chat'

/** A join refused by the room's rules (the join error's response). */
export type Refusal = { reason: 'banned', until: string } | { reason: 'room_locked' | 'room_full' | 'room_not_found' }

const error = (reason: string): HandleResult => ({ reply: { status: 'error', response: { reason } } })

/**
 * One connection's standing in its room: who may enter, what a member may do, moderation,
 * and its presence role kept current when the room's policy changes in any process.
 */
export class MemberSession implements PolicySession {
  readonly userId: string
  readonly #ctx: ChannelContext
  readonly #roomId: string
  readonly #deps: TrustDeps
  #handle: PolicyHandle | null = null
  #presenceRef: string | null = null
  #role: Role = 'member'
  #updating: Promise<void> = Promise.resolve()

  constructor (ctx: ChannelContext, userId: string, roomId: string, deps: TrustDeps) {
    this.#ctx = ctx
    this.userId = userId
    this.#roomId = roomId
    this.#deps = deps
  }

  /** This connection's role: its token may make it an admin, which no stored record says. */
  #roleIn (policy: RoomPolicy): Role {
    return roleIn(policy, this.userId, this.#ctx.admin)
  }

  /** The target's role; an admin is known by the role in one of its presence metas. */
  async #targetRole (policy: RoomPolicy, targetId: string): Promise<Role> {
    const role = roleIn(policy, targetId)
    if (role === 'owner') return role
    const present = (await this.#deps.presence.list(this.#ctx.topic))[targetId]
    return present?.metas.some((meta) => meta.role === 'admin') === true ? 'admin' : role
  }

  get #policy (): RoomPolicy {
    if (!this.#handle) throw new Error('the member session has not entered its room')
    return this.#handle.policy
  }

  /**
   * Enters the room's policy and checks the ban, the lock and (early, cheaply) the capacity;
   * null when the user may come in. Owner and admins are never banned; they and moderators pass
   * the lock and the capacity. A refused session has left again.
   */
  async admit (): Promise<Refusal | null> {
    const handle = await this.#deps.policies.enter(this.#roomId, this)
    // Deleted since the room was started.
    if (handle === null) return { reason: 'room_not_found' }
    this.#handle = handle
    try {
      const refused = await this.#refusal(handle.policy)
      if (refused) await this.leave()
      return refused
    } catch (err) {
      await this.leave()
      throw err
    }
  }

  /** Tracks the connection in presence with its role; null (nothing tracked) when the room is full. */
  async track (username: string, fields: Partial<PresenceFields> = {}): Promise<TrackResult | null> {
    const policy = this.#policy
    this.#role = this.#roleIn(policy)
    const { presence } = this.#deps
    const meta = { ...fields, username, role: this.#role }
    const tracked = isStaff(this.#role)
      ? await presence.track(this.#ctx.topic, this.userId, meta)
      : await presence.trackWithin(this.#ctx.topic, this.userId, meta, policy.settings.capacity)
    if (tracked === null) return null
    this.#presenceRef = tracked.ref
    // A role changed while tracking: the meta follows it now.
    if (this.#handle) this.policyChanged(this.#handle.policy)
    return tracked
  }

  /** Why the user may not do this now ('forbidden', 'muted'), or null. */
  refuse (privilege: Privilege): string | null {
    const policy = this.#policy
    if (isStaff(this.#roleIn(policy))) return null
    if (privilege === 'grab') return policy.settings.allowGrab ? null : 'forbidden'
    if (!policy.settings.allowChat) return 'forbidden'
    return memberOf(policy, this.userId).chatMuted ? 'muted' : null
  }

  /** Whether this user may take an action of `authority` on `targetId` now (shared/roles.ts). */
  async mayModerate (targetId: string, authority: Authority = 'staff'): Promise<boolean> {
    const policy = this.#policy
    return mayModerate(this.#roleIn(policy), await this.#targetRole(policy, targetId), authority)
  }

  /** `moderate` `{action, user_id}`. */
  async moderate (payload: unknown): Promise<HandleResult> {
    const parsed = payloads.moderate.parse(payload)
    if (!parsed.ok) return error('invalid moderate payload')
    const { action: name, user_id: targetId } = parsed.value
    const action = Object.hasOwn(moderationActions, name) ? moderationActions[name]! : undefined
    if (!action) return error('unknown action')
    if (!await this.mayModerate(targetId, action.authority)) return error('forbidden')
    const actorRole = this.#roleIn(this.#policy)
    const { members, bans, policies, now, banMs } = this.#deps
    try {
      const response = await action.run({
        roomId: this.#roomId,
        actor: { userId: this.userId, username: this.#ctx.username ?? this.userId, role: actorRole },
        targetId,
        members,
        bans,
        policies,
        now,
        banMs
      })
      return { reply: { status: 'ok', response } }
    } catch (err) {
      if (isDatabaseUnavailable(err)) return error('unavailable')
      throw err
    }
  }

  /** `delete_message` `{id}`: owner and moderators; everyone in the room is told `message_deleted`. */
  async deleteMessage (payload: unknown): Promise<HandleResult> {
    const parsed = payloads.deleteMessage.parse(payload)
    if (!parsed.ok) return error('invalid delete_message payload')
    if (!isStaff(this.#roleIn(this.#policy))) return error('forbidden')
    const { id } = parsed.value
    try {
      if (!await this.#deps.chat.delete(this.#roomId, id)) return error('message_not_found')
    } catch (err) {
      if (isDatabaseUnavailable(err)) return error('unavailable')
      throw err
    }
    await this.#deps.pubsub.broadcast(topics.room(this.#roomId), { event: 'message_deleted', payload: { id } })
    return { reply: { status: 'ok', response: { id } } }
  }

  /**
   * Stops hearing of policy changes (the channel is ending); resolves with the presence ref to
   * untrack, if tracked, once a role update in flight is done (it moves the meta to a new ref).
   */
  async leave (): Promise<string | null> {
    this.#handle?.leave()
    this.#handle = null
    await this.#updating
    const ref = this.#presenceRef
    this.#presenceRef = null
    return ref
  }

  policyChanged (policy: RoomPolicy): void {
    const role = this.#roleIn(policy)
    const ref = this.#presenceRef
    if (role === this.#role || ref === null) return
    this.#role = role
    this.updatePresence({ role }).catch((err: unknown) => this.#ctx.log.warn({ err }, 'could not update the presence role'))
  }

  /** Changes fields of this connection's meta (its role, its voice state) once those before are done. */
  async updatePresence (fields: Partial<PresenceFields>): Promise<void> {
    // One update at a time: each moves the meta to a new ref, which the next must use.
    const update = this.#updating.then(async () => {
      const current = this.#presenceRef
      if (current === null) return
      const next = await this.#deps.presence.update(this.#ctx.topic, this.userId, current, fields)
      if (this.#presenceRef === current) this.#presenceRef = next
    })
    this.#updating = update.catch(() => {})
    await update
  }

  kicked (notice: KickNotice): void {
    this.#ctx.push('kicked', notice)
    this.#ctx.close()
  }

  async #refusal (policy: RoomPolicy): Promise<Refusal | null> {
    const role = this.#roleIn(policy)
    if (!isInCharge(role)) {
      const until = bannedUntil(policy, this.userId, this.#deps.now())
      if (until) return { reason: 'banned', until: until.toISOString() }
    }
    if (isStaff(role)) return null
    if (policy.settings.locked) return { reason: 'room_locked' }
    // Early, so a full room starts no work for a refused join; track() decides for good.
    const { presence } = this.#deps
    if (await presence.count(this.#ctx.topic) < policy.settings.capacity) return null
    return this.userId in await presence.list(this.#ctx.topic) ? null : { reason: 'room_full' }
  }
}
