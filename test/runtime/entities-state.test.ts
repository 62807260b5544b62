import t, { type Test } from 'tap'
import type { EntitiesDiff } from '../../src/shared/world.ts'
import { EntitiesStateServer, isDataRejection, type EntitiesStateOptions, type PersistenceOptions } from '../../src/runtime/entities-state.ts'
import { testDatabase, databaseKind } from '../helpers/database.ts'
import { ManualClock } from './fixtures/clock.ts'
import { applyDiffs, captureLogger, ControlledRooms, turn } from './fixtures/helpers.ts'

t.comment(`database: ${databaseKind()}`)
const db = await testDatabase(t)

const move = (id: string, x: number): EntitiesDiff => ({ creates: {}, updates: { [id]: { x } }, deletes: {} })

async function setup (t: Test, options: PersistenceOptions & Pick<EntitiesStateOptions, 'isAvatar'> = {}) {
  const rooms = new ControlledRooms(db.prisma)
  const room = await rooms.createRoom({ name: 'persisted' }, { box: { x: 0 }, ball: { x: 0 } })
  const clock = new ManualClock()
  const { logger, lines } = captureLogger()
  // Each diff written as it comes unless a test asks for batching.
  const server = new EntitiesStateServer({ roomId: room.id, store: rooms, clock, logger, writeIntervalMs: 0, ...options })
  t.teardown(() => server.stop())
  return { rooms, room, clock, server, lines }
}

t.test('writes the diffs it is given in order, one transaction at a time', async (t) => {
  const { rooms, room, server, lines } = await setup(t)
  rooms.hold()
  const diffs = [1, 2, 3].map((x) => move('box', x))
  for (const diff of diffs) server.enqueue(diff)
  await turn()
  t.equal(rooms.attempts.length, 1, 'the second write waits for the first')
  t.equal(server.stats().queueDepth, 3)
  rooms.release()
  await server.drain()
  t.same(rooms.written, diffs)
  t.same((await rooms.entities(room.id)).box, { x: 3 })
  t.match(server.stats(), { queueDepth: 0, lagMs: 0, writes: 3, failures: 0, dropped: 0 })
  t.same(lines.filter((l) => l.level === 'error'), [], 'nothing logged as an error')
})

t.test('writes start at most every writeIntervalMs; what waits meanwhile is written as one', async (t) => {
  const { rooms, room, clock, server, lines } = await setup(t, { writeIntervalMs: 250 })
  server.enqueue(move('box', 1))
  t.same(rooms.attempts, [move('box', 1)], 'after a quiet spell a diff is written at once')
  clock.advance(50)
  server.enqueue(move('box', 2))
  clock.advance(50)
  server.enqueue({ creates: { cup: { x: 9 } }, updates: { box: { y: 1 } }, deletes: { ball: true } })
  await turn()
  t.equal(rooms.attempts.length, 1, 'the next ones wait for the interval')
  clock.advance(150)
  await server.drain()
  t.same(rooms.written[0], move('box', 1))
  t.same(rooms.written.slice(1), [{ creates: { cup: { x: 9 } }, updates: { box: { x: 2, y: 1 } }, deletes: { ball: true } }], 'folded into one write')
  t.same(await rooms.entities(room.id), { box: { x: 2, y: 1 }, cup: { x: 9 } })
  t.match(server.stats(), { queueDepth: 0, writes: 2, merged: 0 })
  t.same(lines.filter((l) => l.level === 'error'), [], 'nothing logged as an error')
})

t.test('drain writes what waits without waiting for the interval', async (t) => {
  const { rooms, clock, server } = await setup(t, { writeIntervalMs: 250 })
  server.enqueue(move('box', 1))
  server.enqueue(move('box', 2))
  await server.drain()
  t.same(rooms.written, [move('box', 1), move('box', 2)])
  t.equal(clock.pending, 0, 'no interval timer left behind')
})

t.test('a batched diff the database rejects is split by entity, and the parts are not batched again', async (t) => {
  const { rooms, room, clock, server } = await setup(t, { writeIntervalMs: 250 })
  server.enqueue(move('ball', 1))
  server.enqueue({ creates: {}, updates: { box: { label: 'nul \u0000 byte' } }, deletes: {} })
  server.enqueue(move('ball', 2))
  const drained = server.drain()
  // Three attempts at the batch, then three at the poisoned part alone.
  for (let retry = 0; retry < 4; retry++) await clock.next()
  await drained
  t.same(await rooms.entities(room.id), { box: { x: 0 }, ball: { x: 2 } }, 'the good part is stored')
  t.match(server.stats(), { dropped: 1 })
})

t.test('a database that fails N times then recovers: nothing lost, nothing twice, nothing out of order', async (t) => {
  const { rooms, room, clock, server, lines } = await setup(t)
  rooms.failNext = 4
  const diffs = [1, 2, 3, 4, 5].map((x) => move(x % 2 ? 'box' : 'ball', x))
  for (const diff of diffs) server.enqueue(diff)
  const drained = server.drain()
  for (let retry = 0; retry < 4; retry++) await clock.next()
  await drained
  t.same(clock.delays, [50, 100, 200, 400], 'exponential backoff')
  t.same(rooms.written, diffs, 'each diff committed exactly once, in order')
  t.same(await rooms.entities(room.id), { box: { x: 5 }, ball: { x: 4 } })
  t.match(server.stats(), { writes: 5, failures: 4, dropped: 0 })
  t.equal(lines.filter((l) => l.level === 'warn').length, 4, 'each failure is logged')
})

t.test('connection failures are retried without limit, the backoff capped', async (t) => {
  const { rooms, clock, server } = await setup(t, { maxAttempts: 2, initialBackoffMs: 100, maxBackoffMs: 300 })
  rooms.failNext = 6
  server.enqueue(move('box', 1))
  const drained = server.drain()
  for (let retry = 0; retry < 6; retry++) await clock.next()
  await drained
  t.same(clock.delays, [100, 200, 300, 300, 300, 300])
  t.match(server.stats(), { writes: 1, failures: 6, dropped: 0 })
})

t.test('lag is the age of the oldest unwritten diff', async (t) => {
  const { rooms, clock, server } = await setup(t)
  rooms.hold()
  server.enqueue(move('box', 1))
  clock.advance(30)
  server.enqueue(move('box', 2))
  clock.advance(20)
  t.match(server.stats(), { queueDepth: 2, lagMs: 50 })
  rooms.release()
  await server.drain()
  t.match(server.stats(), { queueDepth: 0, lagMs: 0, writes: 2 })
})

t.test('at the queue bound new diffs are merged into the last waiting one, never dropped', async (t) => {
  const { rooms, room, server } = await setup(t, { maxQueue: 3 })
  rooms.hold()
  const diffs: EntitiesDiff[] = [
    move('box', 1),
    move('box', 2),
    move('ball', 3),
    { creates: { cone: { x: 0 } }, updates: {}, deletes: {} },
    move('cone', 4),
    { creates: {}, updates: {}, deletes: { box: true } },
    move('box', 5),
    move('ball', 6)
  ]
  for (const diff of diffs) server.enqueue(diff)
  await turn()
  t.match(server.stats(), { queueDepth: 4, merged: 4 }, 'one being written plus three waiting')
  const expected = applyDiffs(await rooms.entities(room.id), diffs)
  rooms.release()
  await server.drain()
  t.equal(rooms.written.length, 4)
  t.same(await rooms.entities(room.id), expected)
  t.same(expected, { ball: { x: 6 }, cone: { x: 4 } })
})

t.test('a diff the database rejects does not block later diffs', async (t) => {
  const { rooms, room, clock, server, lines } = await setup(t)
  const poison: EntitiesDiff = { creates: {}, updates: { box: { x: 1, label: 'nul \u0000 byte' }, ball: { x: 1 } }, deletes: {} }
  server.enqueue(move('ball', 0.5))
  server.enqueue(poison)
  server.enqueue(move('ball', 2))
  const drained = server.drain()
  // Three attempts at the whole diff, then at its poisoned part alone: four backoffs.
  for (let retry = 0; retry < 4; retry++) await clock.next()
  await drained
  t.same(await rooms.entities(room.id), { box: { x: 0 }, ball: { x: 2 } }, 'the good part and the later diff are stored')
  t.match(server.stats(), { writes: 3, failures: 6, dropped: 1 })
  const dropped = lines.filter((l) => l.level === 'error')
  t.equal(dropped.length, 1)
  t.same(dropped[0].obj.diff, { creates: {}, updates: { box: { x: 1, label: 'nul \u0000 byte' } }, deletes: {} }, 'logged with the diff')
  t.ok(isDataRejection(dropped[0].obj.err), 'a class 22 data exception')
})

t.test('a room deleted under its persistence is a permanent rejection too', async (t) => {
  const { rooms, room, clock, server } = await setup(t, { maxAttempts: 1 })
  await rooms.deleteRoom(room.id)
  server.enqueue({ creates: { box: { x: 1 } }, updates: {}, deletes: {} })
  await server.drain()
  t.match(server.stats(), { dropped: 1, failures: 1 })
  t.equal(clock.pending, 0)
})

t.test('isDataRejection reads SQLSTATE wherever the driver put it', async (t) => {
  t.ok(isDataRejection({ code: '22P02' }), 'pg DatabaseError')
  t.ok(isDataRejection({ code: 'P2010', meta: { driverAdapterError: { cause: { kind: 'postgres', code: '22P05' } } } }), 'Prisma over a driver adapter')
  t.ok(isDataRejection({ meta: { driverAdapterError: { cause: { originalCode: '23503', kind: 'ForeignKeyConstraintViolation' } } } }))
  t.ok(isDataRejection(new Error('wrapped', { cause: { code: '23505' } })))
  t.notOk(isDataRejection({ code: 'P2010' }), 'a Prisma code is not an SQLSTATE')
  t.notOk(isDataRejection({ code: '08006' }), 'connection failure')
  t.notOk(isDataRejection({ code: '40001' }), 'serialization failure')
  t.notOk(isDataRejection(new Error('ECONNRESET')))
  const loop: Record<string, unknown> = {}
  loop.cause = loop
  t.notOk(isDataRejection(loop))
})

t.test('drain resolves once everything queued is written, and at once when idle', async (t) => {
  const { rooms, server } = await setup(t)
  rooms.hold()
  server.enqueue(move('box', 1))
  server.enqueue(move('box', 2))
  const drained = server.drain()
  rooms.release()
  await drained
  t.same(rooms.written.map((d) => d.updates.box.x), [1, 2])
  t.same(await server.drain(), undefined, 'at once when idle')
})

t.test('a stopped server refuses diffs; stopping with unwritten diffs logs them', async (t) => {
  const { rooms, server, lines } = await setup(t)
  rooms.hold()
  server.enqueue(move('box', 1))
  server.enqueue(move('box', 2))
  server.stop()
  t.equal(lines.filter((l) => l.level === 'error' && l.msg === 'stopped with unwritten diffs').length, 1)
  rooms.release()
  await server.drain()
  t.throws(() => server.enqueue(move('box', 3)), /persistence of room .* is stopped/)
  t.same(rooms.written.map((d) => d.updates.box!.x), [1], 'only the write already under way')
})

t.test('avatar poses wait and are written every avatarWriteIntervalMs, the newest of each; world objects as before', async (t) => {
  const avatars = new Set(['alice', 'bob'])
  const { rooms, room, clock, server, lines } = await setup(t, { avatarWriteIntervalMs: 5000, isAvatar: (id) => avatars.has(id) })
  server.enqueue({ creates: { alice: { avatar: 'box', x: 0 }, bob: { avatar: 'box', x: 0 } }, updates: {}, deletes: {} })
  await server.drain()
  t.same(rooms.written.length, 1, 'a join is written at once')
  for (let x = 1; x <= 100; x++) {
    server.enqueue({ creates: {}, updates: { alice: { x }, bob: { x: -x } }, deletes: {} })
    clock.advance(50)
    await rooms.settled()
  }
  // 5 s of moves, 20 a second: the first poses after a quiet spell at once, then the newest at 5 s.
  t.same(rooms.written.slice(1), [
    { creates: {}, updates: { alice: { x: 1 }, bob: { x: -1 } }, deletes: {} },
    { creates: {}, updates: { alice: { x: 100 }, bob: { x: -100 } }, deletes: {} }
  ], 'two writes of poses in 5 s instead of 100')
  server.enqueue(move('box', 7))
  await rooms.settled()
  t.same(rooms.written.at(-1), move('box', 7), 'a world object is written without waiting for the poses')
  server.enqueue({ creates: {}, updates: { alice: { x: 101 } }, deletes: {} })
  t.match(server.stats(), { pendingPoses: 1 })
  clock.advance(4999)
  await rooms.settled()
  t.same(rooms.written.length, 4, 'the next poses wait a whole interval')
  clock.advance(1)
  await server.drain()
  t.same(rooms.written.at(-1), { creates: {}, updates: { alice: { x: 101 } }, deletes: {} })
  t.same((await rooms.entities(room.id)).alice, { avatar: 'box', x: 101 })
  t.same(lines.filter((l) => l.level === 'error'), [], 'nothing logged as an error')
})

t.test('a leaving user\'s pose is written before the leave, whatever the interval', async (t) => {
  const { rooms, room, server } = await setup(t, { avatarWriteIntervalMs: 5000, isAvatar: (id) => id === 'alice' })
  server.enqueue({ creates: { alice: { avatar: 'box', x: 0 } }, updates: {}, deletes: {} })
  server.enqueue({ creates: {}, updates: { alice: { x: 5 } }, deletes: {} })
  server.enqueue({ creates: {}, updates: {}, deletes: { alice: true } })
  await server.drain()
  t.same(rooms.written.slice(1), [
    { creates: {}, updates: { alice: { x: 5 } }, deletes: {} },
    { creates: {}, updates: {}, deletes: { alice: true } }
  ], 'the pose, then the leave')
  t.same((await rooms.getEntityState(room.id, 'alice', { includeDeleted: true }))?.x, 5, 'a returning user resumes where they left')
})

t.test('drain writes the waiting poses (room stop, shutdown); stop without drain logs them as unwritten', async (t) => {
  const { rooms, server, clock } = await setup(t, { avatarWriteIntervalMs: 5000, isAvatar: () => true })
  server.enqueue({ creates: {}, updates: { alice: { x: 1 } }, deletes: {} })
  await server.drain()
  t.same(rooms.written, [{ creates: {}, updates: { alice: { x: 1 } }, deletes: {} }], 'written by drain')
  t.equal(clock.pending, 0, 'no pose timer left behind')

  const other = await setup(t, { avatarWriteIntervalMs: 5000, isAvatar: () => true })
  other.server.enqueue({ creates: {}, updates: { alice: { x: 2 } }, deletes: {} })
  other.server.stop()
  t.same(other.rooms.written, [], 'nothing written')
  t.ok(other.lines.some((l) => l.msg === 'stopped with unwritten diffs'), 'the lost poses are logged')
  t.equal(other.clock.pending, 0)
})
