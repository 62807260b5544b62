import t from 'tap'
import { Rooms } from '../../src/db/rooms.ts'
import { RoomWorld } from '../../src/runtime/room-world.ts'
import { UserSnapshot, resumeComponents } from '../../src/runtime/user-snapshot.ts'
import { testDatabase, databaseKind } from '../helpers/database.ts'
import { head } from './fixtures/helpers.ts'
import { createEntity, softDeleteEntity } from '../helpers/entities.ts'

t.comment(`database: ${databaseKind()}`)
const db = await testDatabase(t)
// random() = 0.5: no jitter, so the default head is exactly at eye height (1.6 m) above the spawn point.
const rooms = new Rooms(db.prisma, () => 0.5)

const world = { spawn: { spawn_point: true, position: [3, 0, -4] }, box: { color: 'red' } }

t.test('remembers the last components of every user who joined or moved', async (t) => {
  const snapshot = new UserSnapshot(rooms, 'any')
  snapshot.observe({ event: 'user_joined', payload: { user_id: 'bob', avatar: 'box', head: head(0), name: 'Bob' } })
  snapshot.observe({ event: 'user_moved', payload: { user_id: 'bob', head: head(1) } })
  snapshot.observe({ event: 'user_moved', payload: { user_id: 'ghost', head: head(9) } })
  snapshot.observe({ event: 'user_left', payload: { user_id: 'bob' } })
  snapshot.observe({ event: 'user_joined', payload: { avatar: 'box' } })
  t.same(snapshot.get('bob'), { avatar: 'box', head: head(1), name: 'Bob' }, 'kept after leaving')
  t.equal(snapshot.get('ghost'), undefined, 'a move of an unknown user is ignored, as the database would')
  t.equal(snapshot.size, 1)
  snapshot.get('bob')!.name = 'changed'
  t.equal(snapshot.get('bob')!.name, 'Bob', 'get returns a copy')
  snapshot.observe({ event: 'user_joined', payload: { user_id: 'bob', avatar: 'cone' } })
  t.same(snapshot.get('bob'), { avatar: 'cone' }, 'a join replaces')
})

t.test('resumeComponents: the snapshot, else the stored entity, else a default avatar near the spawn point', async (t) => {
  const room = await rooms.createRoom({ name: 'resume' }, world)
  const snapshot = new UserSnapshot(rooms, room.id)
  snapshot.observe({ event: 'user_joined', payload: { user_id: 'live', avatar: 'box', head: head(1) } })
  await createEntity(db.prisma, room.id, 'live', { avatar: 'box', head: head(0) })
  await createEntity(db.prisma, room.id, 'gone', { avatar: 'box', head: head(2) })
  await softDeleteEntity(db.prisma, room.id, 'gone')

  t.same(await snapshot.resumeComponents('live'), { avatar: 'box', head: head(1) }, 'memory first')
  t.same(await snapshot.resumeComponents('gone'), { avatar: 'box', head: head(2) }, 'the pose they left with')
  t.same(await snapshot.resumeComponents('new'), { avatar: 'box', head: [3, 1.6, -4, 0, 0, 0, 1] }, 'default: at eye height')
  t.same(await snapshot.resumeComponents('box'), { avatar: 'box', head: [3, 1.6, -4, 0, 0, 0, 1] }, 'an entity that is no avatar is not a user')
  t.same(await resumeComponents(rooms, room.id, 'gone'), { avatar: 'box', head: head(2) }, 'without a running room')
})

t.test('resumeComponents in a running room: the spawn point as the room has it, written or not', async (t) => {
  const room = await rooms.createRoom({ name: 'moved spawn' }, world)
  const live = new RoomWorld()
  live.load(await rooms.entities(room.id))
  live.apply([{ op: 'update', entityId: 'spawn', components: { position: [7, 1, 7] } }])
  const snapshot = new UserSnapshot(rooms, room.id, live)
  t.same(await snapshot.resumeComponents('new'), { avatar: 'box', head: [7, 2.6, 7, 0, 0, 0, 1] }, 'above the moved spawn point')
  t.same(await resumeComponents(rooms, room.id, 'new'), { avatar: 'box', head: [3, 1.6, -4, 0, 0, 0, 1] }, 'the database still has the old one')
  live.apply([{ op: 'create', entityId: 'another', components: { spawn_point: true, position: [1, 0, 1] } }])
  t.same(await snapshot.resumeComponents('new'), { avatar: 'box', head: [1, 1.6, 1, 0, 0, 0, 1] }, 'the first spawn point by id, as the database picks it')
  live.apply([{ op: 'delete', entityId: 'another' }, { op: 'delete', entityId: 'spawn' }])
  t.same(await snapshot.resumeComponents('new'), { avatar: 'box', head: [0, 1.6, 0, 0, 0, 0, 1] }, 'no spawn point: the origin')
})

t.test('remember takes every live avatar of the stored world', async (t) => {
  const room = await rooms.createRoom({ name: 'load' }, world)
  await createEntity(db.prisma, room.id, 'ann', { avatar: 'box', head: head(5) })
  await createEntity(db.prisma, room.id, 'left', { avatar: 'box', head: head(6) })
  await softDeleteEntity(db.prisma, room.id, 'left')
  const snapshot = new UserSnapshot(rooms, room.id)
  snapshot.remember(await rooms.entities(room.id))
  t.same(snapshot.get('ann'), { avatar: 'box', head: head(5) })
  t.equal(snapshot.size, 1, 'objects and users who left are not loaded')
})
