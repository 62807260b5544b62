import t from 'tap'
import { isRoomEvent, stateMutations, toMutations, type MutationTable } from '../../src/runtime/state-mutation.ts'

const pose = [1, 1.6, 2, 0, 0, 0, 1]

t.test('the table maps each room event to entity mutations', async (t) => {
  t.same(toMutations({ event: 'user_joined', payload: { user_id: 'bob', avatar: 'box', head: pose } }),
    { status: 'ok', mutations: [{ op: 'create', entityId: 'bob', components: { avatar: 'box', head: pose } }] })
  t.same(toMutations({ event: 'user_moved', payload: { user_id: 'bob', head: pose } }),
    { status: 'ok', mutations: [{ op: 'update', entityId: 'bob', components: { head: pose } }] })
  t.same(toMutations({ event: 'user_left', payload: { user_id: 'bob' } }),
    { status: 'ok', mutations: [{ op: 'delete', entityId: 'bob' }] })
  t.same(toMutations({ event: 'user_picked_up', payload: { user_id: 'bob', target_id: 'ball', hand: 'left' } }),
    { status: 'ok', mutations: [{ op: 'update', entityId: 'ball', components: { parent: 'bob:left' } }] })
  t.same(toMutations({ event: 'user_released', payload: { user_id: 'bob', target_id: 'ball', hand: 'left' } }),
    { status: 'ok', mutations: [{ op: 'update', entityId: 'ball', components: { parent: null } }] })
  t.same(toMutations({ event: 'user_released', payload: { user_id: 'bob', target_id: 'ball', hand: 'left', position: [1, 0.5, -2] } }),
    { status: 'ok', mutations: [{ op: 'update', entityId: 'ball', components: { parent: null, position: [1, 0.5, -2] } }] },
    'the release position is where the object stays')
  t.same(toMutations({ event: 'user_released', payload: { target_id: 'ball', position: [1, 'x', 2] } }),
    { status: 'ok', mutations: [{ op: 'update', entityId: 'ball', components: { parent: null } }] },
    'an unusable position is ignored, the release still happens')
  t.same(toMutations({ event: 'room_reset', payload: { entities: { ground: { mesh_builder: ['ground', {}] } }, removed: ['ball'] } }),
    { status: 'ok', mutations: [{ op: 'delete', entityId: 'ball' }, { op: 'create', entityId: 'ground', components: { mesh_builder: ['ground', {}] } }] },
    'a reset deletes what is not in the snapshot and recreates what is')
})

t.test('an entity created with no component does not exist: the create is a delete', async (t) => {
  t.same(toMutations({ event: 'user_joined', payload: { user_id: 'bob' } }),
    { status: 'ok', mutations: [{ op: 'delete', entityId: 'bob' }] })
  t.same(toMutations({ event: 'room_reset', payload: { entities: { empty: {}, ground: { a: 1 } }, removed: [] } }),
    { status: 'ok', mutations: [{ op: 'delete', entityId: 'empty' }, { op: 'create', entityId: 'ground', components: { a: 1 } }] })
})

t.test('unknown events are not_handled, never an error', async (t) => {
  for (const event of ['chat', 'constructor', '__proto__', 'toString', 'hasOwnProperty']) {
    t.same(toMutations({ event, payload: { user_id: 'bob' } }), { status: 'not_handled' }, event)
  }
})

t.test('payloads are untrusted: unusable ones are invalid_payload', async (t) => {
  const invalid = [
    { event: 'user_joined', payload: {} },
    { event: 'user_moved', payload: { user_id: 7, head: pose } },
    { event: 'user_left', payload: { user_id: '' } },
    { event: 'user_picked_up', payload: { user_id: 'bob', target_id: 'ball', hand: 'tail' } },
    { event: 'user_picked_up', payload: { user_id: 'bob', hand: 'left' } },
    { event: 'user_released', payload: { target_id: ['ball'] } },
    { event: 'room_reset', payload: { entities: { ground: 'flat' }, removed: [] } },
    { event: 'room_reset', payload: { entities: {}, removed: [3] } }
  ]
  for (const event of invalid) t.same(toMutations(event), { status: 'invalid_payload' }, JSON.stringify(event))
})

t.test('extra entries extend the table', async (t) => {
  const table: MutationTable = { ...stateMutations, door_opened: ({ door_id: id }) => typeof id === 'string' ? [{ op: 'update', entityId: id, components: { open: true } }] : null }
  t.same(toMutations({ event: 'door_opened', payload: { door_id: 'd1' } }, table),
    { status: 'ok', mutations: [{ op: 'update', entityId: 'd1', components: { open: true } }] })
  t.same(toMutations({ event: 'door_opened', payload: { door_id: 'd1' } }), { status: 'not_handled' })
})

t.test('isRoomEvent', async (t) => {
  t.ok(isRoomEvent({ event: 'x', payload: {} }))
  for (const value of [null, 'x', { event: 1, payload: {} }, { event: 'x' }, { event: 'x', payload: [] }, { event: 'x', payload: null }]) {
    t.notOk(isRoomEvent(value), JSON.stringify(value))
  }
})
