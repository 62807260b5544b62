import t from 'tap'
import { Rooms, validateRoomInput } from '../../src/db/rooms.ts'
import { randomRoomContent } from '../../src/db/room-content.ts'
import { testDatabase, databaseKind } from '../helpers/database.ts'
import { createEntity, softDeleteEntity } from '../helpers/entities.ts'

t.comment(`database: ${databaseKind()}`)

const db = await testDatabase(t)
// Deterministic jitter: random() = 0.75 → offset +0.5
const rooms = new Rooms(db.prisma, () => 0.75)

t.test('entities reads back what was written, values and odd ids unchanged', async (t) => {
  const room = await rooms.createRoom({ name: 'round trip', persistent: true }, {})
  const world = {
    ['__proto__']: { color: 'red' },
    constructor: { position: [0.1 + 0.2, -0, 1e-7] },
    'a.b:c-d_e': { label: 'Zoë 🎈 "quoted" \\ back', nested: { deep: [null, true, { x: 2 ** 53 - 1 }] }, nothing: null }
  }
  await rooms.updateEntities(room.id, { creates: JSON.parse(JSON.stringify(world)), updates: {}, deletes: {} })
  const read = await rooms.entities(room.id)
  t.same(Object.keys(read).sort(), ['__proto__', 'a.b:c-d_e', 'constructor'], 'each id an own key')
  t.same(JSON.parse(JSON.stringify(read)), JSON.parse(JSON.stringify(world)))
  t.equal((read['constructor']!.position as number[])[0], 0.1 + 0.2, 'a double comes back to the last bit')
  t.equal(({} as Record<string, unknown>).color, undefined, 'nothing reached Object.prototype')
})

t.test('createRoom validates and builds a random world with a snapshot', async (t) => {
  const room = await rooms.createRoom({ name: '  Lobby  ', description: 'hi' })
  t.match(room.id, /^[A-Za-z0-9_-]{8}$/)
  t.equal(room.name, 'Lobby')
  t.equal(room.persistent, true)

  const world = await rooms.entities(room.id)
  const all = Object.values(world)
  t.equal(all.filter((c) => Array.isArray(c.mesh_builder) && c.mesh_builder[0] === 'ground').length, 1)
  t.equal(all.filter((c) => c.spawn_point === true).length, 1)
  t.equal(all.filter((c) => c.holdable === true).length, 10)
  const boxes = all.filter((c) => c.teleportable === true && !c.material)
  t.ok(boxes.length >= 5 && boxes.length <= 20, `5..20 boxes, got ${boxes.length}`)
  t.same(await rooms.initialSnapshot(room.id), world, 'initial snapshot equals the world')

  await t.rejects(rooms.createRoom({ name: '' }), { code: 'XR_ERR_VALIDATION', fields: { name: "can't be blank" } })
  await t.rejects(rooms.createRoom({ name: 'x'.repeat(81) }), { code: 'XR_ERR_VALIDATION' })
  await t.rejects(rooms.createRoom({ name: 'ok', persistent: 'yes' }), { code: 'XR_ERR_VALIDATION', fields: { persistent: 'must be true or false' } } as object as Error)
})

t.test('list, get, update, delete', async (t) => {
  const a = await rooms.createRoom({ name: 'A' }, {})
  const b = await rooms.createRoom({ name: 'B', persistent: false }, {})
  const ids = (await rooms.listRooms()).map((r) => r.id)
  t.ok(ids.includes(a.id) && ids.includes(b.id))
  t.ok(ids.indexOf(a.id) < ids.indexOf(b.id), 'oldest first')

  const updated = await rooms.updateRoom(a.id, { description: 'new', persistent: false })
  t.equal(updated.name, 'A', 'a partial update keeps the name')
  t.equal(updated.description, 'new')
  t.equal(updated.persistent, false)
  await t.rejects(rooms.updateRoom(a.id, { name: '   ' }), { code: 'XR_ERR_VALIDATION' })
  await t.rejects(rooms.updateRoom('missing1', { name: 'x' }), { code: 'XR_ERR_ROOM_NOT_FOUND' })

  await createEntity(db.prisma, a.id, 'e1', { position: [1, 2, 3] })
  await rooms.deleteRoom(a.id)
  t.equal(await rooms.getRoom(a.id), null)
  t.same(await rooms.entities(a.id), {}, 'components go with the room')
  await t.rejects(rooms.deleteRoom(a.id), { code: 'XR_ERR_ROOM_NOT_FOUND' })
})

t.test('entity ids are scoped to their room', async (t) => {
  const a = await rooms.createRoom({ name: 'A' }, {})
  const b = await rooms.createRoom({ name: 'B' }, {})
  await createEntity(db.prisma, a.id, 'same', { color: 'red' })
  await createEntity(db.prisma, b.id, 'same', { color: 'blue' })
  t.same(await rooms.entities(a.id), { same: { color: 'red' } })
  t.same(await rooms.entities(b.id), { same: { color: 'blue' } })
})

t.test('soft delete hides an entity, create revives it, getEntityState can read the deleted pose', async (t) => {
  const room = await rooms.createRoom({ name: 'R' }, {})
  await createEntity(db.prisma, room.id, 'u1', { avatar: 'box', head: [1, 2, 3, 0, 0, 0, 1], hat: true })
  await softDeleteEntity(db.prisma, room.id, 'u1')
  t.same(await rooms.entities(room.id), {})
  t.equal(await rooms.getEntityState(room.id, 'u1'), null)
  t.same(await rooms.getEntityState(room.id, 'u1', { includeDeleted: true }),
    { avatar: 'box', head: [1, 2, 3, 0, 0, 0, 1], hat: true })

  await createEntity(db.prisma, room.id, 'u1', { avatar: 'box', head: [4, 5, 6, 0, 0, 0, 1] })
  t.same(await rooms.entities(room.id), { u1: { avatar: 'box', head: [4, 5, 6, 0, 0, 0, 1] } },
    'revived with exactly the created components')
})

t.test('updateEntities applies creates, merging updates and deletes', async (t) => {
  const room = await rooms.createRoom({ name: 'R' }, { box: { position: [0, 0, 0], color: 'red' }, gone: { x: 1 } })
  await rooms.updateEntities(room.id, {
    creates: { u1: { head: [0, 1, 0, 0, 0, 0, 1] } },
    updates: { box: { position: [1, 1, 1], parent: 'u1:left' }, ghost: { position: [9, 9, 9] } },
    deletes: { gone: true }
  })
  t.same(await rooms.entities(room.id), {
    box: { position: [1, 1, 1], color: 'red', parent: 'u1:left' },
    u1: { head: [0, 1, 0, 0, 0, 0, 1] }
  }, 'an update of an entity that does not exist creates nothing')

  await rooms.updateEntities(room.id, { creates: {}, updates: { box: { parent: null } }, deletes: {} })
  t.same((await rooms.entities(room.id)).box, { position: [1, 1, 1], color: 'red', parent: null })
  await rooms.updateEntities(room.id, { creates: {}, updates: { gone: { x: 2 } }, deletes: {} })
  t.notOk('gone' in await rooms.entities(room.id), 'a late update does not revive a deleted entity')
})

t.test('updateEntities is atomic: a failing write leaves nothing half-applied', async (t) => {
  const room = await rooms.createRoom({ name: 'R' }, { box: { position: [0, 0, 0] } })
  // PostgreSQL's jsonb refuses \u0000: nothing of the diff is taken.
  await t.rejects(rooms.updateEntities(room.id, {
    creates: { fresh: { position: [5, 5, 5] } },
    updates: { box: { label: 'bad\u0000' } },
    deletes: { box: true }
  }))
  t.same(await rooms.entities(room.id), { box: { position: [0, 0, 0] } })
  // An entity that is not an object fails the updates once the creates were applied.
  await t.rejects(rooms.updateEntities(room.id, {
    creates: { fresh: { position: [5, 5, 5] }, box: { color: 'red' } },
    updates: { box: 5 as never },
    deletes: { box: true }
  }))
  t.same(await rooms.entities(room.id), { box: { position: [0, 0, 0] } }, 'the creates were undone')
})

t.test('component queries and spawn point', async (t) => {
  const room = await rooms.createRoom({ name: 'R' }, {
    s: { spawn_point: true, position: [2, 0.1, -3] },
    h1: { holdable: true },
    h2: { holdable: false },
    a: { avatar: 'box' },
    b: { avatar: 'sphere' }
  })
  t.same(await rooms.findEntitiesHavingComponent(room.id, 'holdable'), ['h1', 'h2'])
  t.same(await rooms.findEntitiesHavingComponent(room.id, 'holdable', true), ['h1'])
  t.same(await rooms.findEntitiesHavingComponent(room.id, 'avatar', 'sphere'), ['b'])
  const [x, y, z] = await rooms.headPositionNearSpawnPoint(room.id)
  t.same([x, z], [2.5, -2.5], 'jittered around the spawn point')
  t.ok(Math.abs(y - 1.7) < 1e-9, 'at eye height above it')

  t.same(await rooms.softDeleteEntitiesHavingComponent(room.id, 'avatar'), ['a', 'b'])
  t.same(await rooms.findEntitiesHavingComponent(room.id, 'avatar'), [])

  const empty = await rooms.createRoom({ name: 'E' }, {})
  t.same(await rooms.headPositionNearSpawnPoint(empty.id), [0, 1.6, 0], 'fallback without a spawn point')
})

t.test('snapshots: save, then replace the world with it', async (t) => {
  const room = await rooms.createRoom({ name: 'R' }, { box: { position: [0, 0, 0] }, extra: { position: [1, 1, 1] } })
  t.same(await rooms.initialSnapshot(room.id), { box: { position: [0, 0, 0] }, extra: { position: [1, 1, 1] } }, 'saved when the room was created')

  await rooms.updateEntities(room.id, {
    creates: { u1: { avatar: 'box' } },
    updates: { box: { position: [7, 7, 7], parent: 'u1:right' } },
    deletes: { extra: true }
  })
  const diff = await rooms.replaceEntitiesWithInitialSnapshot(room.id)
  t.same(diff.deletes, { u1: true })
  t.same(await rooms.entities(room.id), { box: { position: [0, 0, 0] }, extra: { position: [1, 1, 1] } },
    'moved, deleted and added entities are back as they were')
  t.same(await rooms.getEntityState(room.id, 'u1', { includeDeleted: true }), { avatar: 'box' }, 'the avatar pose is kept')
  await t.rejects(rooms.replaceEntitiesWithInitialSnapshot('nosuchid'), { code: 'XR_ERR_ROOM_NOT_FOUND' })
})

t.test('validateRoomInput reports every field at once', async (t) => {
  t.throws(() => validateRoomInput({ name: 5, description: 7, persistent: 'no' }), {
    fields: { name: "can't be blank", description: 'must be text', persistent: 'must be true or false' }
  } as object as Error)
  t.same(validateRoomInput({ name: 'x' }, true), { name: 'x' })
})

t.test('randomRoomContent respects its ranges', async (t) => {
  for (let i = 0; i < 20; i++) {
    const world = Object.values(randomRoomContent())
    for (const c of world) {
      if (!Array.isArray(c.mesh_builder) || c.mesh_builder[0] !== 'box' || c.holdable) continue
      const [x, y, z] = c.position as number[]
      t.ok(Math.abs(x) <= 25 && Math.abs(y) <= 2 && Math.abs(z) <= 25, 'box within bounds')
      const size = (c.mesh_builder[1] as { size: number }).size
      t.ok(size >= 1 && size <= 10)
    }
    const spawn = world.find((c) => c.spawn_point)!.position as number[]
    t.ok(Math.abs(spawn[0]) <= 10 && spawn[1] === 0.1 && Math.abs(spawn[2]) <= 10)
  }
})
