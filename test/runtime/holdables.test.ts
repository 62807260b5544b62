import t from 'tap'
import { Holdables } from '../../src/runtime/holdables.ts'

const pickUp = (userId: string, targetId: unknown, hand = 'left') => ({ event: 'user_picked_up', payload: { user_id: userId, target_id: targetId, hand } })
const release = (userId: string, targetId: unknown) => ({ event: 'user_released', payload: { user_id: userId, target_id: targetId, hand: 'left' } })

function loaded (): Holdables {
  const holdables = new Holdables()
  holdables.load({
    ball: { holdable: true, position: [0, 0, 0] },
    cup: { holdable: true, parent: 'ann:right' },
    wall: { holdable: false },
    floor: { position: [0, 0, 0] },
    ann: { avatar: 'box' }
  })
  return holdables
}

t.test('only holdable things can be picked up, from anyone\'s hand', async (t) => {
  const holdables = loaded()
  t.equal(holdables.refusal(pickUp('bob', 'ball')), null)
  t.equal(holdables.refusal(pickUp('bob', 'cup')), null, 'taken out of ann\'s hand: handing over')
  for (const target of ['wall', 'floor', 'ann', 'nope', 42, undefined]) {
    t.equal(holdables.refusal(pickUp('bob', target)), 'not holdable', `not ${String(target)}`)
  }
  t.equal(holdables.refusal({ event: 'user_moved', payload: { user_id: 'bob' } }), null, 'other events are not its business')
})

t.test('only the holder can let go', async (t) => {
  const holdables = loaded()
  t.equal(holdables.refusal(release('ann', 'cup')), null)
  t.equal(holdables.refusal(release('bob', 'cup')), 'not held by this user')
  t.equal(holdables.refusal(release('an', 'cup')), 'not held by this user', 'a user id that is a prefix of the holder\'s is not the holder')
  t.equal(holdables.refusal(release('bob', 'ball')), 'not held by this user', 'nobody holds it')
  t.equal(holdables.refusal(release('ann', 'wall')), 'not held by this user')
})

t.test('follows the room\'s mutations', async (t) => {
  const holdables = loaded()
  holdables.observe([{ op: 'update', entityId: 'ball', components: { parent: 'bob:left' } }])
  t.equal(holdables.refusal(release('bob', 'ball')), null, 'picked up')
  holdables.observe([{ op: 'update', entityId: 'ball', components: { position: [1, 1, 1] } }])
  t.equal(holdables.refusal(release('bob', 'ball')), null, 'an update that does not name the parent keeps it')
  holdables.observe([{ op: 'update', entityId: 'ball', components: { parent: null } }])
  t.equal(holdables.refusal(release('bob', 'ball')), 'not held by this user', 'let go')

  holdables.observe([{ op: 'create', entityId: 'new', components: { holdable: true } }])
  t.equal(holdables.refusal(pickUp('bob', 'new')), null, 'created holdable')
  holdables.observe([{ op: 'update', entityId: 'new', components: { holdable: false } }])
  t.equal(holdables.refusal(pickUp('bob', 'new')), 'not holdable', 'no longer holdable')
  holdables.observe([{ op: 'create', entityId: 'ball', components: { position: [0, 0, 0] } }])
  t.equal(holdables.refusal(pickUp('bob', 'ball')), 'not holdable', 'a create replaces the entity')
  holdables.observe([{ op: 'delete', entityId: 'cup' }])
  t.equal(holdables.refusal(pickUp('bob', 'cup')), 'not holdable', 'deleted')
  holdables.observe([{ op: 'update', entityId: 'wall', components: { parent: 'bob:left' } }])
  t.equal(holdables.refusal(release('bob', 'wall')), 'not held by this user', 'a parent on something not holdable is not a hold')
})

t.test('a leaving user lets go of everything they hold, and nothing else', async (t) => {
  const holdables = loaded()
  holdables.observe([{ op: 'update', entityId: 'ball', components: { parent: 'ann:left' } }])
  t.same(holdables.releasesOnLeaving('ann').sort((a, b) => a.entityId.localeCompare(b.entityId)), [
    { op: 'update', entityId: 'ball', components: { parent: null } },
    { op: 'update', entityId: 'cup', components: { parent: null } }
  ])
  t.same(holdables.releasesOnLeaving('bob'), [])
})
