import type { RoomBans } from '../db/room-bans.ts'
import type { MemberRecord, RoomMembers } from '../db/room-members.ts'
import type { Authority, Role } from '../shared/roles.ts'
import type { RoomPolicies } from './room-policy.ts'

/** Everything an action may use; the actor and target are already checked against `authority` (shared/roles.ts mayModerate). */
export interface ModerationContext {
  roomId: string
  actor: { userId: string, username: string, role: Role }
  targetId: string
  members: RoomMembers
  bans: RoomBans
  policies: RoomPolicies
  /** Wall-clock milliseconds (bans are stored as dates). */
  now: () => number
  /** How long a kicked user may not come back. */
  banMs: number
}

export interface ModerationAction {
  authority: Authority
  /** Does the action (stores it, then tells every process); resolves with the reply's body. */
  run: (ctx: ModerationContext) => Promise<object>
}

/** Stores a change to the target's member record, then every process's policy cache and the target's connections learn it. */
const memberChange = (authority: Authority, change: Partial<MemberRecord>): ModerationAction => ({
  authority,
  run: async ({ roomId, targetId, members, policies }) => {
    const member = await members.set(roomId, targetId, change)
    await policies.memberChanged(roomId, targetId, member)
    return {}
  }
})

const kick: ModerationAction = {
  authority: 'staff',
  run: async ({ roomId, actor, targetId, bans, policies, now, banMs }) => {
    const until = new Date(now() + banMs)
    // Stored before anyone is told, so a rejoin racing the close is refused.
    await bans.ban(roomId, targetId, { bannedBy: actor.userId, until })
    await policies.kick(roomId, targetId, { by: actor.username, until: until.toISOString() })
    return { until: until.toISOString() }
  }
}

/**
 * The `moderate` actions by name; an action is one entry. Voice chat's `mute_voice` and
 * `unmute_voice` are served by src/channels/voice, under the same rule of who may act on whom.
 */
export const moderationActions: Readonly<Record<string, ModerationAction>> = Object.freeze({
  kick,
  mute_chat: memberChange('staff', { chatMuted: true }),
  unmute_chat: memberChange('staff', { chatMuted: false }),
  promote: memberChange('owner', { role: 'moderator' }),
  demote: memberChange('owner', { role: 'member' })
})
