import t, { type Test } from 'tap'
import type { EntityMap } from '../../src/shared/world.ts'
import { MemoryPubSub } from '../../src/runtime/pubsub.ts'
import type { RoomLifecycleEvents, RoomsSupervisor } from '../../src/runtime/rooms-supervisor.ts'
import type { RoomRuntimeOptions } from '../../src/runtime/runtime.ts'
import { testDatabase, databaseKind } from '../helpers/database.ts'
import { collect, ControlledRooms, head, testRuntime, turn } from './fixtures/helpers.ts'
import { createEntity } from '../helpers/entities.ts'

t.comment(`database: ${databaseKind()}`)
const db = await testDatabase(t)

const world: EntityMap = {
  spawn: { spawn_point: true, position: [0, 0, 0] },
  ball: { holdable: true, position: [1, 1, 1] }
}

type Recorded = Array<[keyof RoomLifecycleEvents, unknown]>

/** Everything the supervisor announces, in order. */
function record (supervisor: RoomsSupervisor): Recorded {
  const seen: Recorded = []
  for (const name of ['room_started', 'room_stopped', 'room_crashed', 'room_crash_loop'] as const) {
    supervisor.on(name, (event) => { seen.push([name, event]) })
  }
  return seen
}

/** The next `name` event matching `accept`. */
function next<K extends keyof RoomLifecycleEvents> (supervisor: RoomsSupervisor, name: K, accept: (e: RoomLifecycleEvents[K]) => boolean = () => true): Promise<RoomLifecycleEvents[K]> {
  return new Promise((resolve) => {
    const off = supervisor.on(name, (event) => {
      if (!accept(event)) return
      off()
      resolve(event)
    })
  })
}

async function setup (t: Test, options: Partial<RoomRuntimeOptions> = {}, room: { persistent?: boolean, content?: EntityMap } = {}) {
  const rooms = new ControlledRooms(db.prisma)
  const record = await rooms.createRoom({ name: 'supervised', persistent: room.persistent ?? true }, room.content ?? world)
  const { runtime, clock, lines } = testRuntime(t, { rooms, ...options })
  return { rooms, roomId: record.id, runtime, supervisor: runtime.supervisor, clock, lines }
}

const joined = (userId: string, x = 0) => ({ event: 'user_joined', payload: { user_id: userId, avatar: 'box', head: head(x) } })
const moved = (userId: string, x: number) => ({ event: 'user_moved', payload: { user_id: userId, head: head(x) } })

t.test('startRoom is idempotent, even called concurrently', async (t) => {
  const { supervisor, runtime, roomId } = await setup(t)
  const seen = record(supervisor)
  const results = await Promise.all([1, 2, 3, 4].map(() => supervisor.startRoom(roomId)))
  t.same(results.map((r) => r.fresh), [true, false, false, false])
  t.ok(results.every((r) => r.room === results[0].room), 'one instance')
  t.same(seen, [['room_started', { roomId, fresh: true, restarted: false }]])
  t.same(runtime.registry.names(), [`room_server:${roomId}`])
  t.equal(runtime.pubsub.subscriberCount(`room_stream:${roomId}`), 1)
  const again = await supervisor.startRoom(roomId)
  t.equal(again.fresh, false)
  t.equal(again.room, results[0].room)
})

t.test('an unknown room is not started', async (t) => {
  const { supervisor, runtime } = await setup(t)
  await t.rejects(supervisor.startRoom('nope'), { code: 'XR_ERR_ROOM_NOT_FOUND' })
  t.same(runtime.stats().rooms, [])
})

t.test('room events become entities_diff pushes and stored entities', async (t) => {
  const { supervisor, runtime, roomId, clock, rooms, lines } = await setup(t)
  await supervisor.startRoom(roomId)
  const pushes = collect(runtime.pubsub, `room:${roomId}`)
  await supervisor.dispatch(roomId, joined('bob'))
  await supervisor.dispatch(roomId, moved('bob', 1))
  await supervisor.dispatch(roomId, { event: 'user_picked_up', payload: { user_id: 'bob', target_id: 'ball', hand: 'right' } })
  await supervisor.dispatch(roomId, { event: 'chat_message', payload: { text: 'hi' } })
  await runtime.pubsub.broadcast(`room_stream:${roomId}`, 'not an event')
  clock.advance(50)
  await supervisor.flush(roomId)
  t.same(pushes, [{
    event: 'entities_diff',
    payload: { creates: { bob: { avatar: 'box', head: head(1) } }, updates: { ball: { parent: 'bob:right' } }, deletes: {} }
  }])
  t.same(await rooms.entities(roomId), {
    ...world,
    bob: { avatar: 'box', head: head(1) },
    ball: { ...world.ball, parent: 'bob:right' }
  })
  t.ok(lines.some((l) => l.level === 'debug' && l.obj.event === 'chat_message' && l.obj.status === 'not_handled'))
  t.equal(supervisor.room(roomId)!.status, 'running', 'unknown events and junk do not crash the room')
})

t.test('a non-persistent room restarts from its initial snapshot; a persistent one keeps what moved', async (t) => {
  for (const persistent of [false, true]) {
    const { supervisor, roomId, rooms } = await setup(t, {}, { persistent })
    await supervisor.startRoom(roomId)
    await supervisor.dispatch(roomId, joined('bob'))
    await supervisor.dispatch(roomId, { event: 'user_picked_up', payload: { user_id: 'bob', target_id: 'ball', hand: 'left' } })
    await supervisor.stopRoom(roomId)
    await createEntity(db.prisma, roomId, 'added', { color: 'blue' })

    const { fresh } = await supervisor.startRoom(roomId)
    t.equal(fresh, true)
    const after = await rooms.entities(roomId)
    if (persistent) {
      t.same(after, { ...world, ball: { ...world.ball, parent: 'bob:left' }, added: { color: 'blue' } }, 'persistent: continues')
    } else {
      t.same(after, world, 'non-persistent: back to the initial snapshot')
    }
    t.notOk('bob' in after, 'the avatar left over is soft-deleted either way')
  }
})

t.test('avatars left over from a previous run are soft-deleted, their pose kept for resuming', async (t) => {
  const { supervisor, roomId, rooms } = await setup(t)
  await createEntity(db.prisma, roomId, 'ann', { avatar: 'box', head: head(7) })
  t.same(await supervisor.resumeComponents(roomId, 'ann'), { avatar: 'box', head: head(7) }, 'works without a running room')
  await supervisor.startRoom(roomId)
  t.same(await rooms.entities(roomId), world)
  t.same(await supervisor.resumeComponents(roomId, 'ann'), { avatar: 'box', head: head(7) })
  t.same(await supervisor.resumeComponents(roomId, 'new'), { avatar: 'box', head: [0, 1.6, 0, 0, 0, 0, 1] })
})

t.test('stopRoom writes what is pending, then stops the room', async (t) => {
  const { supervisor, runtime, roomId, rooms, clock } = await setup(t)
  const seen = record(supervisor)
  await supervisor.startRoom(roomId)
  await supervisor.dispatch(roomId, joined('bob'))
  await supervisor.dispatch(roomId, moved('bob', 3))
  t.equal(await supervisor.stopRoom(roomId), true)
  t.same((await rooms.entities(roomId)).bob, { avatar: 'box', head: head(3) })
  t.same(seen.at(-1), ['room_stopped', { roomId, reason: 'requested' }])
  t.same(runtime.registry.names(), [])
  t.equal(runtime.pubsub.subscriberCount(`room_stream:${roomId}`), 0)
  t.equal(clock.pending, 0, 'no timer left behind')
  t.equal(await supervisor.stopRoom(roomId), false, 'not running')
})

t.test('two rooms are isolated', async (t) => {
  const { supervisor, runtime, roomId: a, rooms, clock } = await setup(t, { mutations: { boom: () => { throw new Error('boom') } } })
  const b = (await rooms.createRoom({ name: 'other' }, world)).id
  await supervisor.startRoom(a)
  const roomB = (await supervisor.startRoom(b)).room
  const pushesA = collect(runtime.pubsub, `room:${a}`)
  const pushesB = collect(runtime.pubsub, `room:${b}`)
  await supervisor.dispatch(a, joined('bob'))
  clock.advance(50)
  await supervisor.flush(a)
  t.equal(pushesA.length, 1)
  t.same(pushesB, [])
  t.same(await rooms.entities(b), world)

  const restarted = next(supervisor, 'room_started', (e) => e.restarted)
  await supervisor.dispatch(a, { event: 'boom', payload: {} })
  await restarted
  t.equal(supervisor.room(b), roomB, 'the other room is untouched by a crash')
  await supervisor.dispatch(b, joined('carl'))
  await supervisor.flush(b)
  t.same(Object.keys(await rooms.entities(b)).sort(), ['ball', 'carl', 'spawn'])
  t.same(runtime.stats().rooms.map((r) => [r.roomId, r.restarts]), [[a, 1], [b, 0]])
})

t.test('a handler that throws restarts the room, whose state is recovered from the database', async (t) => {
  const { supervisor, roomId, rooms, clock, lines } = await setup(t, { mutations: { boom: () => { throw new Error('boom') } } })
  const seen = record(supervisor)
  const first = (await supervisor.startRoom(roomId)).room!
  await supervisor.dispatch(roomId, joined('bob'))
  clock.advance(50)
  await supervisor.dispatch(roomId, moved('bob', 4))

  const restarted = next(supervisor, 'room_started', (e) => e.restarted)
  await supervisor.dispatch(roomId, { event: 'boom', payload: {} })
  t.not(first.status, 'running', 'the crashed instance takes no more events')
  await restarted
  const second = supervisor.room(roomId)!
  t.not(second, first)
  t.equal(first.status, 'stopped')
  t.same((await rooms.entities(roomId)).bob, { avatar: 'box', head: head(4) }, 'what was pending before the crash was written')
  t.same(second.userSnapshot.get('bob'), { avatar: 'box', head: head(4) }, 'the snapshot is recovered from the database')
  t.same(seen.map(([name]) => name), ['room_started', 'room_crashed', 'room_started'])
  t.match(seen[1][1], { roomId, error: { message: 'boom' } })
  t.ok(lines.some((l) => l.level === 'error' && l.msg === 'room crashed'))

  await supervisor.dispatch(roomId, moved('bob', 5))
  await supervisor.flush(roomId)
  t.same((await rooms.entities(roomId)).bob, { avatar: 'box', head: head(5) }, 'the new instance takes events')
  t.match(supervisor.stats()[0], { roomId, restarts: 1, status: 'running' })
})

t.test('events sent while a crashed room restarts are held for the new instance, in order', async (t) => {
  const { supervisor, runtime, roomId, rooms, clock } = await setup(t, { mutations: { boom: () => { throw new Error('boom') } } })
  await supervisor.startRoom(roomId)
  await supervisor.dispatch(roomId, joined('bob'))
  await supervisor.dispatch(roomId, joined('ann'))
  clock.advance(50)
  const restarted = next(supervisor, 'room_started', (e) => e.restarted)
  rooms.hold() // the crashed instance's last write waits: the restart takes a while
  await supervisor.dispatch(roomId, { event: 'boom', payload: {} })
  t.not(supervisor.room(roomId)?.status, 'running', 'crashed')
  await supervisor.dispatch(roomId, moved('bob', 7))
  await supervisor.dispatch(roomId, { event: 'user_left', payload: { user_id: 'ann' } })
  await supervisor.dispatch(roomId, moved('bob', 8))
  rooms.release()
  await restarted
  await supervisor.flush(roomId)
  const world = await rooms.entities(roomId)
  t.same(world.bob, { avatar: 'box', head: head(8) }, 'bob\'s moves during the restart, the last one last')
  t.notOk('ann' in world, 'ann\'s leaving was not lost: no avatar is left standing for her')
  t.equal(runtime.pubsub.subscriberCount(`room_stream:${roomId}`), 1, 'only the new instance listens: nothing holds the stream any more')
})

t.test('a timer that throws restarts the room too', async (t) => {
  const pubsub = new MemoryPubSub()
  let failSocketPush = true
  const flaky = {
    subscribe: pubsub.subscribe.bind(pubsub),
    subscriberCount: pubsub.subscriberCount.bind(pubsub),
    broadcast: (topic: string, message: unknown) => {
      if (failSocketPush && topic.startsWith('room:')) {
        failSocketPush = false
        throw new Error('socket push failed')
      }
      return pubsub.broadcast(topic, message)
    }
  }
  const { supervisor, roomId, rooms, clock } = await setup(t, { pubsub: flaky })
  const first = (await supervisor.startRoom(roomId)).room
  await supervisor.dispatch(roomId, joined('bob'))
  const crashed = next(supervisor, 'room_crashed')
  const restarted = next(supervisor, 'room_started', (e) => e.restarted)
  clock.advance(50)
  t.match(await crashed, { error: { message: 'socket push failed' } })
  await restarted
  t.not(supervisor.room(roomId), first)
  t.same((await rooms.entities(roomId)).bob, { avatar: 'box', head: head(0) }, 'the diff went to persistence before the push failed')
})

t.test('restart intensity: a room crashing too often is stopped and reported', async (t) => {
  const { supervisor, runtime, roomId, clock, rooms } = await setup(t, { mutations: { boom: () => { throw new Error('boom') } } })
  const seen = record(supervisor)
  await supervisor.startRoom(roomId)
  await supervisor.dispatch(roomId, joined('bob'))

  for (let crash = 1; crash <= 3; crash++) {
    const restarted = next(supervisor, 'room_started', (e) => e.restarted)
    await supervisor.dispatch(roomId, { event: 'boom', payload: {} })
    await restarted
    clock.advance(1000)
  }
  const loop = next(supervisor, 'room_crash_loop')
  await supervisor.dispatch(roomId, { event: 'boom', payload: {} })
  const { error } = await loop
  t.equal(error.code, 'XR_ERR_ROOM_CRASH_LOOP')
  t.match(error.cause, { message: 'boom' })
  t.same(seen.slice(-2), [['room_stopped', { roomId, reason: 'crash_loop' }], ['room_crash_loop', { roomId, error }]])
  t.equal(supervisor.room(roomId), undefined)
  t.same(runtime.stats().rooms, [])
  t.same((await rooms.entities(roomId)).bob, { avatar: 'box', head: head(0) }, 'drained before stopping')
  t.equal((await supervisor.startRoom(roomId)).fresh, true, 'it can be started again')
})

t.test('crashes spread wider than the restart window keep being restarted', async (t) => {
  const { supervisor, clock, roomId } = await setup(t, { maxRestarts: 1, restartWindowMs: 5000, mutations: { boom: () => { throw new Error('boom') } } })
  await supervisor.startRoom(roomId)
  for (let crash = 1; crash <= 4; crash++) {
    const restarted = next(supervisor, 'room_started', (e) => e.restarted)
    await supervisor.dispatch(roomId, { event: 'boom', payload: {} })
    await restarted
    clock.advance(5000)
  }
  t.match(supervisor.stats()[0], { restarts: 4, status: 'running' })
})

t.test('a room nobody is in stops after the idle timeout', async (t) => {
  const { supervisor, roomId, clock } = await setup(t, { idleTimeoutMs: 1000 })
  await supervisor.startRoom(roomId)
  clock.advance(999)
  await turn()
  t.ok(supervisor.room(roomId), 'not yet')

  supervisor.memberJoined(roomId)
  supervisor.memberJoined(roomId)
  supervisor.memberLeft(roomId)
  clock.advance(10_000)
  await turn()
  t.ok(supervisor.room(roomId), 'someone is still in')
  t.equal(supervisor.stats()[0].members, 1)

  supervisor.memberLeft(roomId)
  clock.advance(500)
  await supervisor.startRoom(roomId)
  clock.advance(999)
  await turn()
  t.ok(supervisor.room(roomId), 'startRoom restarts the countdown')

  const stopped = next(supervisor, 'room_stopped')
  clock.advance(1)
  t.same(await stopped, { roomId, reason: 'idle' })
  t.equal(supervisor.room(roomId), undefined)
  supervisor.memberJoined(roomId)
  supervisor.memberLeft(roomId)
  t.equal(clock.pending, 0, 'members of a stopped room are ignored')
})

t.test('an idle stop that finds the room busy again by its turn does nothing', async (t) => {
  const { supervisor, roomId, clock, rooms } = await setup(t, { idleTimeoutMs: 1000, mutations: { boom: () => { throw new Error('boom') } } })
  await supervisor.startRoom(roomId)
  const seen = record(supervisor)
  // A restart held up by the database is in front of the idle stop.
  const crashAndIdle = async (): Promise<void> => {
    rooms.hold()
    await supervisor.dispatch(roomId, joined('bob'))
    await supervisor.dispatch(roomId, { event: 'boom', payload: {} })
    clock.advance(1000)
  }

  await crashAndIdle()
  supervisor.memberJoined(roomId)
  rooms.release()
  await next(supervisor, 'room_started', (e) => e.restarted)
  await turn()
  t.ok(supervisor.room(roomId), 'a member came back')

  supervisor.memberLeft(roomId)
  await crashAndIdle()
  supervisor.memberJoined(roomId)
  supervisor.memberLeft(roomId)
  rooms.release()
  await next(supervisor, 'room_started', (e) => e.restarted)
  await turn()
  t.ok(supervisor.room(roomId), 'the countdown started again')
  const stopped = next(supervisor, 'room_stopped')
  clock.advance(1000)
  t.same(await stopped, { roomId, reason: 'idle' })
  t.same(seen.map(([name]) => name), ['room_crashed', 'room_started', 'room_crashed', 'room_started', 'room_stopped'])
})

t.test('entities() includes what is emitted but not yet written, and what is not yet emitted', async (t) => {
  const { supervisor, roomId, rooms, clock } = await setup(t)
  await supervisor.startRoom(roomId)
  rooms.hold()
  await supervisor.dispatch(roomId, joined('bob'))
  clock.advance(50)
  await turn()
  t.notOk('bob' in await rooms.entities(roomId), 'not in the database yet')
  t.same((await supervisor.entities(roomId)).bob, { avatar: 'box', head: head(0) }, 'emitted, not written')
  await supervisor.dispatch(roomId, moved('bob', 2))
  t.same((await supervisor.entities(roomId)).bob, { avatar: 'box', head: head(2) }, 'not even emitted')
  clock.advance(50)
  rooms.release()
  await supervisor.flush(roomId)
  t.same(await supervisor.entities(roomId), await rooms.entities(roomId))
  await supervisor.stopRoom(roomId)
  t.same((await supervisor.entities(roomId)).bob, { avatar: 'box', head: head(2) }, 'a stopped room reads the database')
})

t.test('close() writes every room\'s pending changes, then refuses work', async (t) => {
  const { supervisor, runtime, roomId: a, rooms } = await setup(t)
  const b = (await rooms.createRoom({ name: 'other' }, world)).id
  const seen = record(supervisor)
  await supervisor.startRoom(a)
  await supervisor.startRoom(b)
  await supervisor.dispatch(a, joined('ann'))
  await supervisor.dispatch(b, joined('bob'))
  rooms.hold()
  const closing = runtime.close()
  t.equal(runtime.stats().closing, true)
  await t.rejects(supervisor.startRoom(a), { code: 'XR_ERR_ROOM_RUNTIME_CLOSED' })
  await supervisor.dispatch(a, moved('ann', 9))
  rooms.release()
  await closing
  t.same((await rooms.entities(a)).ann, { avatar: 'box', head: head(0) }, 'the event sent while closing was dropped')
  t.ok('bob' in await rooms.entities(b))
  const stops = seen.filter(([name]) => name === 'room_stopped').map(([, e]) => e as { roomId: string, reason: string })
  t.same(stops.map((e) => `${e.roomId} ${e.reason}`).sort(), [`${a} shutdown`, `${b} shutdown`].sort(), 'rooms stop in parallel')
  t.same(runtime.stats(), { closing: true, registered: [], rooms: [] })
  t.equal(runtime.close(), runtime.close(), 'close is idempotent')
})

t.test('a lifecycle listener that throws is logged and does not stop the others', async (t) => {
  const { supervisor, roomId, lines } = await setup(t)
  const seen: string[] = []
  supervisor.on('room_started', () => { throw new Error('bad listener') })
  const off = supervisor.on('room_started', (e) => { seen.push(e.roomId) })
  await supervisor.startRoom(roomId)
  off()
  await supervisor.stopRoom(roomId)
  await supervisor.startRoom(roomId)
  t.same(seen, [roomId])
  t.ok(lines.some((l) => l.level === 'error' && l.msg === 'a room lifecycle listener failed'))
})

t.test('an event for a room running here goes to the room directly and frozen: neither the sender nor the room can change what the other holds', async (t) => {
  const { supervisor, runtime, roomId } = await setup(t)
  await supervisor.startRoom(roomId)
  const overTheStream = collect(runtime.pubsub, `room_stream:${roomId}`)
  const event = joined('bob', 2)
  await supervisor.dispatch(roomId, event)
  t.same((await supervisor.entities(roomId)).bob, { avatar: 'box', head: head(2) }, 'taken at once, with no pubsub delivery to wait for')
  t.ok(Object.isFrozen(event) && Object.isFrozen(event.payload) && Object.isFrozen(event.payload.head), 'the event is frozen, down to its pose')
  t.throws(() => { event.payload.head[0] = 99 }, TypeError, 'the sender cannot move bob afterwards')
  const world = await supervisor.entities(roomId)
  t.throws(() => { (world.bob!.head as number[])[0] = 99 }, TypeError, 'nor can a reader of the world')
  t.same((await supervisor.entities(roomId)).bob, { avatar: 'box', head: head(2) })
  await turn()
  t.same(overTheStream, [], 'the pubsub carries only what comes from other processes')
})
