import t from 'tap'
import { grabRefusal, releasesOnLeaving } from '../../src/runtime/holdables.ts'
import { RoomWorld } from '../../src/runtime/room-world.ts'

const pickUp = (userId: string, targetId: unknown, hand = 'left') => ({ event: 'user_picked_up', payload: { user_id: userId, target_id: targetId, hand } })
const release = (userId: string, targetId: unknown) => ({ event: 'user_released', payload: { user_id: userId, target_id: targetId, hand: 'left' } })

function loaded (): RoomWorld {
  const world = new RoomWorld()
  world.load({
    ball: { holdable: true, position: [0, 0, 0] },
    cup: { holdable: true, parent: 'ann:right' },
    wall: { holdable: false },
    floor: { position: [0, 0, 0] },
    ann: { avatar: 'box' }
  })
  return world
}

t.test('only holdable things can be picked up, from anyone\'s hand', async (t) => {
  const world = loaded()
  t.equal(grabRefusal(world, pickUp('bob', 'ball')), null)
  t.equal(grabRefusal(world, pickUp('bob', 'cup')), null, 'taken out of ann\'s hand: handing over')
  for (const target of ['wall', 'floor', 'ann', 'nope', 42, undefined]) {
    t.equal(grabRefusal(world, pickUp('bob', target)), 'not holdable', `not ${String(target)}`)
  }
  t.equal(grabRefusal(world, { event: 'user_moved', payload: { user_id: 'bob' } }), null, 'other events are not its business')
})

t.test('only the holder can let go', async (t) => {
  const world = loaded()
  t.equal(grabRefusal(world, release('ann', 'cup')), null)
  t.equal(grabRefusal(world, release('bob', 'cup')), 'not held by this user')
  t.equal(grabRefusal(world, release('an', 'cup')), 'not held by this user', 'a user id that is a prefix of the holder\'s is not the holder')
  t.equal(grabRefusal(world, release('bob', 'ball')), 'not held by this user', 'nobody holds it')
  t.equal(grabRefusal(world, release('ann', 'wall')), 'not held by this user')
})

t.test('follows the room\'s world as it changes', async (t) => {
  const world = loaded()
  world.apply([{ op: 'update', entityId: 'ball', components: { parent: 'bob:left' } }])
  t.equal(grabRefusal(world, release('bob', 'ball')), null, 'picked up')
  world.apply([{ op: 'update', entityId: 'ball', components: { position: [1, 1, 1] } }])
  t.equal(grabRefusal(world, release('bob', 'ball')), null, 'an update that does not name the parent keeps it')
  world.apply([{ op: 'update', entityId: 'ball', components: { parent: null } }])
  t.equal(grabRefusal(world, release('bob', 'ball')), 'not held by this user', 'let go')

  world.apply([{ op: 'create', entityId: 'new', components: { holdable: true } }])
  t.equal(grabRefusal(world, pickUp('bob', 'new')), null, 'created holdable')
  world.apply([{ op: 'update', entityId: 'new', components: { holdable: false } }])
  t.equal(grabRefusal(world, pickUp('bob', 'new')), 'not holdable', 'no longer holdable')
  world.apply([{ op: 'create', entityId: 'ball', components: { position: [0, 0, 0] } }])
  t.equal(grabRefusal(world, pickUp('bob', 'ball')), 'not holdable', 'a create replaces the entity')
  world.apply([{ op: 'delete', entityId: 'cup' }])
  t.equal(grabRefusal(world, pickUp('bob', 'cup')), 'not holdable', 'deleted')
  world.apply([{ op: 'update', entityId: 'wall', components: { parent: 'bob:left' } }])
  t.equal(grabRefusal(world, release('bob', 'wall')), 'not held by this user', 'a parent on something not holdable is not a hold')
})

t.test('a leaving user lets go of everything they hold, and nothing else', async (t) => {
  const world = loaded()
  world.apply([{ op: 'update', entityId: 'ball', components: { parent: 'ann:left' } }])
  t.same(releasesOnLeaving(world, 'ann').sort((a, b) => a.entityId.localeCompare(b.entityId)), [
    { op: 'update', entityId: 'ball', components: { parent: null } },
    { op: 'update', entityId: 'cup', components: { parent: null } }
  ])
  t.same(releasesOnLeaving(world, 'bob'), [])
})
