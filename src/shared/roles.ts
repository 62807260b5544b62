/**
 * Who may do what to whom in a room, the same for the server (which enforces it) and the browser
 * client (which only offers what the server would allow).
 *
 * A person's role: the room's owner, an admin (signed in with ADMIN_TOKEN: the owner's powers in
 * every room), a moderator the owner appointed, or a member.
 */
export type Role = 'owner' | 'admin' | 'moderator' | 'member'

export const ROLES: readonly Role[] = ['owner', 'admin', 'moderator', 'member']

export const isRole = (value: unknown): value is Role => ROLES.includes(value as Role)

/** Who may take a moderation action: owner, admins and moderators, or owner and admins alone. */
export type Authority = 'staff' | 'owner'

const RANK: Readonly<Record<Role, number>> = { owner: 2, admin: 2, moderator: 1, member: 0 }

/** Owner and admins: they alone appoint and remove moderators, and no ban keeps them out. */
export const isInCharge = (role: Role): boolean => RANK[role] === RANK.owner

/** Owner, admins and moderators: never refused by the room's settings, and they moderate. */
export const isStaff = (role: Role): boolean => RANK[role] >= RANK.moderator

/**
 * Whether `actor` may moderate (kick, mute, promote, demote...) someone whose role is `target`:
 * only someone who outranks them, so moderators act on members, the owner and admins on
 * moderators and members, and nobody on the owner or an admin (nor on themselves: nobody
 * outranks themselves). `authority: 'owner'` actions (promote, demote) are for the owner and
 * admins alone.
 */
export const mayModerate = (actor: Role, target: Role, authority: Authority = 'staff'): boolean =>
  (authority === 'owner' ? isInCharge(actor) : isStaff(actor)) && RANK[actor] > RANK[target]
