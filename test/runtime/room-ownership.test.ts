// Several processes serving the same rooms (RoomRuntime's `cluster`), simulated in one process:
// runtimes sharing a pubsub, a lease table, a database and a manual clock.
import t, { type Test } from 'tap'
import type { EntityMap } from '../../src/shared/world.ts'
import { MemoryPubSub } from '../../src/runtime/pubsub.ts'
import { MemoryRoomLeases } from '../../src/runtime/room-leases.ts'
import type { PresentUser } from '../../src/runtime/cluster-ownership.ts'
import type { RoomLifecycleEvents, RoomsSupervisor } from '../../src/runtime/rooms-supervisor.ts'
import { RoomRuntime } from '../../src/runtime/runtime.ts'
import { runtimeLifecycle } from '../../src/channels/room-lifecycle.ts'
import { ManualClock } from './fixtures/clock.ts'
import { captureLogger, collect, ControlledRooms, head } from './fixtures/helpers.ts'
import { testDatabase, databaseKind } from '../helpers/database.ts'

t.comment(`database: ${databaseKind()}`)
const db = await testDatabase(t)

const TTL = 2000
const TICK = 500
const world: EntityMap = {
  spawn: { spawn_point: true, position: [0, 0, 0] },
  ball: { holdable: true, position: [1, 1, 1] }
}

const joined = (userId: string, x = 0) => ({ event: 'user_joined', payload: { user_id: userId, username: userId, avatar: 'box', head: head(x) } })
const moved = (userId: string, x: number) => ({ event: 'user_moved', payload: { user_id: userId, head: head(x) } })

/** The next `name` event of `supervisor` matching `accept`. */
function next<K extends keyof RoomLifecycleEvents> (supervisor: RoomsSupervisor, name: K, accept: (e: RoomLifecycleEvents[K]) => boolean = () => true): Promise<RoomLifecycleEvents[K]> {
  return new Promise((resolve) => {
    const off = supervisor.on(name, (event) => {
      if (!accept(event)) return
      off()
      resolve(event)
    })
  })
}

/** A cluster of `names` processes and one room; `present` is who presence says is in it. */
async function cluster (t: Test, names: string[], room: { persistent?: boolean } = {}) {
  const clock = new ManualClock()
  const leases = new MemoryRoomLeases({ clock, holder: 'test', ttlMs: TTL })
  const pubsub = new MemoryPubSub()
  const present = new Map<string, string>()
  const presentUsers = async (): Promise<PresentUser[]> => [...present].map(([userId, username]) => ({ userId, username }))
  const setupRooms = new ControlledRooms(db.prisma)
  const { id: roomId } = await setupRooms.createRoom({ name: 'shared', persistent: room.persistent ?? true }, world)
  const processes = names.map((name) => {
    const rooms = new ControlledRooms(db.prisma)
    const { logger, lines } = captureLogger()
    const runtime = new RoomRuntime({
      // Diffs written as they come: the manual clock need not move for each write.
      rooms, pubsub, clock, logger, syncIntervalMs: 50, persistence: { writeIntervalMs: 0 }, cluster: { leases: leases.as(name), processId: name, presentUsers, renewIntervalMs: TICK }
    })
    t.teardown(() => runtime.close())
    return { name, rooms, runtime, supervisor: runtime.supervisor, lines }
  })
  return { clock, leases, pubsub, present, roomId, rooms: setupRooms, processes }
}

/** Lets microtasks and pending database round trips run. */
const settle = async (): Promise<void> => { for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve)) }

t.test('the database fences writes by lease token', async (t) => {
  const rooms = new ControlledRooms(db.prisma)
  const { id } = await rooms.createRoom({ name: 'fenced' }, {})
  const diff = (x: number) => ({ creates: { u: { head: head(x) } }, updates: {}, deletes: {} })
  t.equal(await rooms.claimRoom(id, 3), 3, 'claimed')
  t.equal(await rooms.claimRoom(id, 3), 3, 'claiming again is harmless')
  await rooms.updateEntities(id, diff(1), { leaseToken: 3 })
  t.equal(await rooms.claimRoom(id, 2), 3, 'an older token cannot claim it back')
  await t.rejects(rooms.updateEntities(id, diff(2), { leaseToken: 2 }), { code: 'XR_ERR_ROOM_LEASE_LOST' })
  t.equal(await rooms.claimRoom(id, 4), 4)
  await t.rejects(rooms.updateEntities(id, diff(3), { leaseToken: 3 }), { code: 'XR_ERR_ROOM_LEASE_LOST' })
  t.same((await rooms.entities(id)).u, { head: head(1) }, 'refused writes left nothing')
  await rooms.updateEntities(id, diff(4))
  t.same((await rooms.entities(id)).u, { head: head(4) }, 'without a token (one process) writes are not fenced')
  await t.rejects(rooms.claimRoom('nope', 1), { code: 'XR_ERR_ROOM_NOT_FOUND' })
})

t.test('cluster options are checked', async (t) => {
  const clock = new ManualClock()
  const cluster = { leases: new MemoryRoomLeases({ clock, holder: 'a', ttlMs: TTL }), processId: 'a', presentUsers: async () => [] }
  const rooms = new ControlledRooms(db.prisma)
  t.throws(() => new RoomRuntime({ rooms, clock, cluster }), { name: 'TypeError', message: /shared pubsub|pubsub the processes share/ })
  t.throws(() => new RoomRuntime({ rooms, clock, pubsub: new MemoryPubSub(), cluster: { ...cluster, renewIntervalMs: TTL } }), /at most half the lease TTL/)
  const runtime = new RoomRuntime({ rooms, clock, pubsub: new MemoryPubSub(), cluster })
  t.equal(clock.delays.at(-1), TTL / 4, 'leases are renewed every quarter of their TTL by default')
  await runtime.close()
  t.equal(clock.pending, 0, 'closing stops the renewals')
})

t.test('one process runs the room; the others forward events to it and ask it for the world', async (t) => {
  const { roomId, rooms, processes: [a, b], pubsub, leases } = await cluster(t, ['a', 'b'])
  const started = await a!.supervisor.startRoom(roomId)
  t.ok(started.room, 'a runs it')
  t.equal(started.fresh, true)
  t.equal(leases.holder(roomId), 'a')
  const follower = await b!.supervisor.startRoom(roomId)
  t.same(follower, { room: null, fresh: false }, 'b only serves it')
  t.equal(pubsub.subscriberCount(`room_stream:${roomId}`), 1, 'one consumer of the room\'s events')

  const pushes = collect(pubsub, `room:${roomId}`)
  a!.rooms.hold()
  await b!.supervisor.dispatch(roomId, joined('bob', 2))
  await a!.supervisor.room(roomId)!.entitiesDiff.flush() // emitted; its write is held
  t.same((await b!.supervisor.entities(roomId)).bob, { username: 'bob', avatar: 'box', head: head(2) }, 'b\'s world includes what a has not written yet')
  t.equal((await rooms.entities(roomId)).bob, undefined, 'not in the database yet')
  t.same(await b!.supervisor.resumeComponents(roomId, 'bob'), { username: 'bob', avatar: 'box', head: head(2) }, 'b resumes bob from a\'s snapshot')
  a!.rooms.release()
  await a!.supervisor.flush(roomId)
  t.same((pushes[0] as { payload: { creates: EntityMap } }).payload.creates.bob?.head, head(2), 'the diff went to the sockets of every process')
  t.equal(b!.runtime.stats().rooms.length, 0, 'nothing runs in b')
})

t.test('when the lease is lost the room moves to a process with people, recovered, and everyone is resynced', async (t) => {
  const { roomId, clock, leases, present, pubsub, processes: [a, b] } = await cluster(t, ['a', 'b'], { persistent: false })
  await a!.supervisor.startRoom(roomId)
  await b!.supervisor.startRoom(roomId)
  b!.supervisor.memberJoined(roomId)
  for (const user of ['alice', 'bob', 'carol']) await b!.supervisor.dispatch(roomId, joined(user, 1))
  await b!.supervisor.dispatch(roomId, { event: 'user_picked_up', payload: { user_id: 'bob', target_id: 'ball', hand: 'left' } })
  await a!.supervisor.flush(roomId)
  // carol's process died: she is gone from presence, and her user_left went to nobody.
  present.set('alice', 'alice').set('bob', 'bob').set('dave', 'dave')
  const pushes = collect(pubsub, `room:${roomId}`)

  const lost = next(a!.supervisor, 'room_stopped')
  const taken = next(b!.supervisor, 'room_started')
  leases.expire(roomId)
  clock.advance(TICK)
  t.same(await taken, { roomId, fresh: false, restarted: false }, 'b took over: a recovery, not a fresh start')
  t.same(await lost, { roomId, reason: 'lease_lost' }, 'a stopped running it')
  t.equal(leases.holder(roomId), 'b')
  t.equal(a!.supervisor.room(roomId), undefined)
  await settle()
  await b!.supervisor.flush(roomId)
  const diffs = pushes.map((p) => (p as { payload: { creates: EntityMap, deletes: Record<string, unknown> } }).payload)
  t.same(diffs[0]?.creates.ball, { ...world.ball, parent: 'bob:left' }, 'every entity sent again, as the database has it')
  t.notOk('carol' in (diffs[0]?.creates ?? {}), 'not the avatar of someone gone')
  const final = await b!.supervisor.entities(roomId)
  t.same(Object.keys(final).sort(), ['alice', 'ball', 'bob', 'dave', 'spawn'], 'the room was not reset; carol left, dave joined')
  t.same(final.dave, { username: 'dave', avatar: 'box', head: final.dave!.head }, 'dave got an avatar')
})

t.test('a stale owner\'s writes are refused, and it stops running the room', async (t) => {
  const { roomId, leases, present, rooms, processes: [a, b] } = await cluster(t, ['a', 'b'])
  await a!.supervisor.startRoom(roomId)
  await a!.supervisor.dispatch(roomId, joined('alice', 1))
  await a!.supervisor.flush(roomId)
  present.set('alice', 'alice')
  // a stalls: its lease expires and b runs the room before a notices.
  leases.expire(roomId)
  t.ok((await b!.supervisor.startRoom(roomId)).fresh, 'b runs it')
  t.ok(a!.supervisor.room(roomId), 'a still thinks it does')

  const lost = next(a!.supervisor, 'room_stopped')
  a!.supervisor.room(roomId)!.handle(moved('alice', 9))
  await a!.supervisor.room(roomId)!.entitiesDiff.flush()
  t.same(await lost, { roomId, reason: 'lease_lost' }, 'the refused write made a stop')
  t.ok(a!.lines.some((l) => l.level === 'error' && l.msg === 'lost the room lease: the room runs elsewhere now'))
  t.same((await rooms.getEntityState(roomId, 'alice'))?.head, head(1), 'the stale write is not in the database')

  await b!.supervisor.dispatch(roomId, moved('alice', 5))
  await b!.supervisor.flush(roomId)
  t.same((await rooms.getEntityState(roomId, 'alice'))?.head, head(5), 'the new owner writes')
})

t.test('a process closing after its lease was taken does not wait for ever on refused writes', async (t) => {
  const { roomId, leases, present, rooms, processes: [a, b] } = await cluster(t, ['a', 'b'])
  await a!.supervisor.startRoom(roomId)
  await a!.supervisor.dispatch(roomId, joined('alice', 1))
  a!.rooms.hold()
  await a!.supervisor.room(roomId)!.entitiesDiff.flush()
  present.set('alice', 'alice')
  leases.expire(roomId)
  await b!.supervisor.startRoom(roomId)
  const closed = a!.runtime.close()
  a!.rooms.release()
  await closed
  t.pass('closed')
  t.equal((await rooms.getEntityState(roomId, 'alice', { includeDeleted: true }))?.head, undefined, 'a\'s write was refused')
})

t.test('closing hands the room over without waiting for the lease to expire', async (t) => {
  const { roomId, clock, leases, present, processes: [a, b] } = await cluster(t, ['a', 'b'])
  await a!.supervisor.startRoom(roomId)
  await b!.supervisor.startRoom(roomId)
  b!.supervisor.memberJoined(roomId)
  present.set('bob', 'bob')
  await a!.runtime.close()
  t.equal(leases.holder(roomId), undefined, 'released')
  const taken = next(b!.supervisor, 'room_started')
  clock.advance(TICK)
  t.same(await taken, { roomId, fresh: false, restarted: false })
  t.equal(leases.holder(roomId), 'b')
})

t.test('a room deleted through one process ends in every process', async (t) => {
  const { roomId, leases, processes: [a, b, c] } = await cluster(t, ['a', 'b', 'c'])
  await a!.supervisor.startRoom(roomId)
  await b!.supervisor.startRoom(roomId)
  const stoppedA = next(a!.supervisor, 'room_stopped')
  let cHeard = false
  c!.supervisor.on('room_stopped', () => { cHeard = true })
  const stoppedB = next(b!.supervisor, 'room_stopped')
  t.equal(await b!.supervisor.stopRoom(roomId), false, 'it did not run in b')
  t.same(await stoppedB, { roomId, reason: 'requested' }, 'b\'s sockets are told')
  t.same(await stoppedA, { roomId, reason: 'requested' }, 'a stopped it')
  t.equal(leases.holder(roomId), undefined)
  await settle()
  t.equal(cHeard, false, 'c, which never served it, has nothing to stop')
})

t.test('a reset through a process that does not run the room goes through the owner\'s stream', async (t) => {
  const { roomId, pubsub, processes: [a, b] } = await cluster(t, ['a', 'b'])
  await a!.supervisor.startRoom(roomId)
  await a!.supervisor.dispatch(roomId, joined('bob'))
  await a!.supervisor.dispatch(roomId, { event: 'user_picked_up', payload: { user_id: 'bob', target_id: 'ball', hand: 'left' } })
  await a!.supervisor.dispatch(roomId, { event: 'user_released', payload: { user_id: 'bob', target_id: 'ball', hand: 'left', position: [5, 5, 5] } })
  await a!.supervisor.flush(roomId)
  t.same((await b!.supervisor.entities(roomId)).ball?.position, [5, 5, 5], 'the ball was moved')

  const pushes = collect(pubsub, `room:${roomId}`)
  await runtimeLifecycle(b!.supervisor, b!.rooms).resetRoom(roomId)
  await a!.supervisor.flush(roomId)
  const diff = pushes.at(-1) as { payload: { creates: EntityMap } } | undefined
  t.same(diff?.payload.creates.ball?.position, [1, 1, 1], 'every socket is sent the ball back at its start')
  const after = await a!.supervisor.entities(roomId)
  t.same(after.ball?.position, [1, 1, 1], 'the owner\'s world is reset')
  t.ok(after.bob?.avatar, 'and bob, who is still there, keeps his avatar')
  t.equal(b!.runtime.stats().rooms.length, 0, 'b still runs nothing')
})

t.test('the owner keeps a room running while people are in it elsewhere', async (t) => {
  const clock = new ManualClock()
  const leases = new MemoryRoomLeases({ clock, holder: 'a', ttlMs: TTL })
  const present = new Map([['bob', 'bob']])
  const rooms = new ControlledRooms(db.prisma)
  const { id: roomId } = await rooms.createRoom({ name: 'idle' }, world)
  const runtime = new RoomRuntime({
    rooms, pubsub: new MemoryPubSub(), clock, idleTimeoutMs: 10_000,
    cluster: { leases, processId: 'a', renewIntervalMs: TICK, presentUsers: async () => [...present].map(([userId, username]) => ({ userId, username })) }
  })
  t.teardown(() => runtime.close())
  await runtime.supervisor.startRoom(roomId)
  for (let i = 0; i < 25; i++) { clock.advance(TICK); await settle() }
  t.ok(runtime.supervisor.room(roomId), 'still running after the idle timeout')
  present.clear()
  const stopped = next(runtime.supervisor, 'room_stopped')
  for (let i = 0; i < 25 && runtime.supervisor.room(roomId); i++) { clock.advance(TICK); await settle() }
  t.same(await stopped, { roomId, reason: 'idle' })
  t.equal(leases.holder(roomId), undefined, 'and its lease released')
})

t.test('a token counter behind the database (Redis emptied) is raised, and the next lease runs the room', async (t) => {
  const { roomId, rooms, clock, leases, processes: [a] } = await cluster(t, ['a'])
  await rooms.claimRoom(roomId, 10)
  const { room } = await a!.supervisor.startRoom(roomId)
  t.equal(room, null, 'token 1 is older than the database\'s 10: not run')
  t.equal(leases.holder(roomId), undefined, 'the lease was given back')
  t.ok(a!.lines.some((l) => l.level === 'warn' && l.obj.newest === 10))
  a!.supervisor.memberJoined(roomId)
  const started = next(a!.supervisor, 'room_started')
  clock.advance(TICK)
  await started
  t.equal(leases.holder(roomId), 'a')
  t.ok(a!.lines.some((l) => l.msg === 'running the room here' && l.obj.token === 11), 'with token 11')
})
