import t from 'tap'
import { isInCharge, isRole, isStaff, mayModerate, ROLES, type Role } from '../../src/shared/roles.ts'

t.test('who may moderate whom: only someone who outranks them', async (t) => {
  // actor → the targets they may act on with a staff action (kick, mute).
  const staff: Record<Role, Role[]> = {
    owner: ['moderator', 'member'],
    admin: ['moderator', 'member'],
    moderator: ['member'],
    member: []
  }
  // promote, demote: the owner and admins alone.
  const owner: Record<Role, Role[]> = { ...staff, moderator: [] }
  for (const actor of ROLES) {
    t.same(ROLES.filter((target) => mayModerate(actor, target)), staff[actor], `${actor}: staff actions`)
    t.same(ROLES.filter((target) => mayModerate(actor, target, 'owner')), owner[actor], `${actor}: owner actions`)
  }
})

t.test('staff and in charge', async (t) => {
  t.same(ROLES.filter(isStaff), ['owner', 'admin', 'moderator'])
  t.same(ROLES.filter(isInCharge), ['owner', 'admin'])
})

t.test('isRole accepts the four roles only', async (t) => {
  t.same(['owner', 'admin', 'moderator', 'member', 'Owner', 'root', '', null, 1, undefined].filter(isRole), ['owner', 'admin', 'moderator', 'member'])
})
