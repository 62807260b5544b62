import t from 'tap'
import Fastify from 'fastify'
import { Rooms } from '../../src/db/rooms.ts'
import roomRuntime from '../../src/runtime/plugin.ts'
import { RoomRuntime } from '../../src/runtime/runtime.ts'
import { testDatabase, databaseKind } from '../helpers/database.ts'
import { ManualClock } from './fixtures/clock.ts'
import { collect, head, testRuntime } from './fixtures/helpers.ts'

t.comment(`database: ${databaseKind()}`)
const db = await testDatabase(t)
const rooms = new Rooms(db.prisma, () => 0.5)

t.test('options are checked when the runtime is built', async (t) => {
  t.throws(() => new RoomRuntime({} as never), { name: 'TypeError', message: /rooms option/ })
  t.throws(() => new RoomRuntime({ rooms, syncIntervalMs: 0 }), { message: /syncIntervalMs must be an integer >= 1, got 0/ })
  t.throws(() => new RoomRuntime({ rooms, idleTimeoutMs: 1.5 }), { message: /idleTimeoutMs/ })
  t.throws(() => new RoomRuntime({ rooms, maxRestarts: -1 }), { message: /maxRestarts/ })
  t.throws(() => new RoomRuntime({ rooms, persistence: { maxQueue: 0 } }), { message: /persistence.maxQueue/ })
  t.throws(() => new RoomRuntime({ rooms, syncIntervalMs: '50' as never }), { message: /syncIntervalMs/ })
  t.ok(new RoomRuntime({ rooms, maxRestarts: 0 }))
})

t.test('stats are plain data about every running room', async (t) => {
  const room = await rooms.createRoom({ name: 'stats' }, {})
  const { runtime, clock } = testRuntime(t, { rooms })
  t.same(runtime.stats(), { closing: false, registered: [], rooms: [] })
  await runtime.supervisor.startRoom(room.id)
  runtime.supervisor.memberJoined(room.id)
  const offA = runtime.pubsub.subscribe(`room:${room.id}`, () => {})
  runtime.pubsub.subscribe(`room:${room.id}`, () => {})
  await runtime.supervisor.dispatch(room.id, { event: 'user_joined', payload: { user_id: 'u', avatar: 'box', head: head(0) } })
  t.same(runtime.stats().rooms, [{
    roomId: room.id,
    status: 'running',
    members: 1,
    restarts: 0,
    subscribers: 2,
    pendingEntities: 1,
    diffsEmitted: 0,
    users: 1,
    entities: 1,
    queueDepth: 0,
    lagMs: 0,
    writes: 0,
    failures: 0,
    dropped: 0,
    merged: 0,
    pendingPoses: 0
  }])
  clock.advance(50)
  await runtime.supervisor.flush(room.id)
  offA()
  t.match(runtime.stats(), { registered: [`room_server:${room.id}`], rooms: [{ subscribers: 1, pendingEntities: 0, diffsEmitted: 1, writes: 1 }] })
  t.same(JSON.parse(JSON.stringify(runtime.stats())), runtime.stats(), 'serializable as is')
})

t.test('each runtime is a world of its own', async (t) => {
  const room = await rooms.createRoom({ name: 'worlds' }, {})
  const one = testRuntime(t, { rooms }).runtime
  const two = testRuntime(t, { rooms }).runtime
  await one.supervisor.startRoom(room.id)
  t.equal(two.supervisor.room(room.id), undefined)
  t.not(one.pubsub, two.pubsub)
  t.same(two.registry.names(), [])
})

t.test('the Fastify plugin decorates fastify.runtime and writes pending changes on close', async (t) => {
  const room = await rooms.createRoom({ name: 'plugin' }, {})
  const app = Fastify({ logger: false })
  await app.register(roomRuntime, { rooms, syncIntervalMs: 60_000, clock: new ManualClock() })
  await app.ready()
  t.ok(app.hasPlugin('room-runtime'))
  t.type(app.runtime, RoomRuntime)
  await app.runtime.supervisor.startRoom(room.id)
  const pushes = collect(app.runtime.pubsub, `room:${room.id}`)
  await app.runtime.supervisor.dispatch(room.id, { event: 'user_joined', payload: { user_id: 'u', avatar: 'box', head: head(1) } })
  await app.close()
  t.same(await rooms.entities(room.id), { u: { avatar: 'box', head: head(1) } })
  t.equal(pushes.length, 1, 'the last diff still went to sockets')
  t.equal(app.runtime.stats().closing, true)
})

t.test('the plugin refuses invalid options at registration', async (t) => {
  const app = Fastify({ logger: false })
  app.register(roomRuntime, { rooms, idleTimeoutMs: -5 })
  await t.rejects(async () => { await app.ready() }, { name: 'TypeError', message: /idleTimeoutMs/ })
  await app.close()
})

t.test('a room writes its world objects as they change, its avatars\' poses every avatarWriteIntervalMs and when their user leaves', async (t) => {
  const room = await rooms.createRoom({ name: 'poses', persistent: true }, { box: { holdable: true, position: [0, 0, 0] } })
  const { runtime, clock } = testRuntime(t, { rooms, persistence: { avatarWriteIntervalMs: 5000 } })
  const { supervisor } = runtime
  await supervisor.startRoom(room.id)
  const stats = () => supervisor.room(room.id)!.stats()
  const stored = async (id: string) => await rooms.getEntityState(room.id, id, { includeDeleted: true })
  /** One sync interval, then every write it caused. */
  const sync = async (): Promise<void> => {
    clock.advance(50)
    for (let turn = 0; turn < 100_000 && (turn < 10 || stats().queueDepth > 0); turn++) await new Promise((resolve) => setImmediate(resolve))
  }
  const act = async (event: string, payload: Record<string, unknown>): Promise<void> => {
    await supervisor.dispatch(room.id, { event, payload: { user_id: 'alice', ...payload } })
    await sync()
  }
  await act('user_joined', { avatar: 'box', head: head(0) })
  await act('user_moved', { head: head(1) })
  t.match(await stored('alice'), { head: head(1) }, 'the first pose after a quiet spell is written at once')
  await act('user_moved', { head: head(2) })
  await act('user_picked_up', { target_id: 'box', hand: 'left' })
  await act('user_released', { target_id: 'box', hand: 'left', position: [3, 0, 0] })
  t.match(await stored('box'), { position: [3, 0, 0] }, 'a world object is written at once')
  t.match(await stored('alice'), { head: head(1) }, 'the next pose waits')
  t.match(stats(), { pendingPoses: 1, queueDepth: 0 })

  clock.advance(5000 - 4 * 50)
  await sync()
  t.match(await stored('alice'), { head: head(2) }, 'written once the interval is over')
  await act('user_moved', { head: head(4) })
  await act('user_moved', { head: head(5) })
  t.match(await stored('alice'), { head: head(2) })
  await act('user_left', {})
  t.match(await stored('alice'), { head: head(5) }, 'the leaving user\'s last pose is stored, for their return')
})
