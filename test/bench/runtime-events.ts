/**
 * Micro-benchmark, not a test: pushes 100k user_moved events from 100 users through one room
 * (MemoryPubSub, 50 ms sync interval, real clock, persistence to an in-memory PGlite, or to
 * PostgreSQL when DATABASE_URL is set) and prints throughput and what came out of it.
 *
 *   npx tsx test/bench/runtime-events.ts
 */
import { setImmediate as turn } from 'node:timers/promises'
import { Rooms } from '../../src/db/rooms.ts'
import { RoomRuntime } from '../../src/runtime/runtime.ts'
import { databaseKind, testDatabase } from '../helpers/database.ts'

const EVENTS = 100_000
const USERS = 100
// Events published per event-loop turn: sockets deliver frames in batches between turns too,
// and the turns let the sync timer and the database writes run meanwhile.
const PER_TURN = 500

const teardown: Array<() => unknown> = []
const db = await testDatabase({ teardown: (fn) => teardown.push(fn) })
const rooms = new Rooms(db.prisma)
const room = await rooms.createRoom({ name: 'bench' })
const runtime = new RoomRuntime({ rooms })
const { supervisor } = runtime
await supervisor.startRoom(room.id)
for (let u = 0; u < USERS; u++) {
  await supervisor.dispatch(room.id, { event: 'user_joined', payload: { user_id: `u${u}`, avatar: 'box', head: [u, 1.6, 0, 0, 0, 0, 1] } })
}
await supervisor.flush(room.id)

let diffs = 0
let entitiesPushed = 0
runtime.pubsub.subscribe(`room:${room.id}`, (message) => {
  diffs++
  entitiesPushed += Object.keys((message as { payload: { updates: object } }).payload.updates).length
})
const before = supervisor.stats()[0]

const start = performance.now()
for (let i = 0; i < EVENTS; i++) {
  const u = i % USERS
  void supervisor.dispatch(room.id, { event: 'user_moved', payload: { user_id: `u${u}`, head: [u, 1.6, i / EVENTS, 0, 0, 0, 1] } })
  if ((i + 1) % PER_TURN === 0) await turn()
}
// Delivery is in order: once the last event is handled, all are.
await supervisor.dispatch(room.id, { event: 'user_moved', payload: { user_id: 'u0', head: [0, 1.6, 1, 0, 0, 0, 1] } })
const handled = performance.now()
await supervisor.flush(room.id)
const written = performance.now()
const after = supervisor.stats()[0]

const stored = (await rooms.entities(room.id)).u0.head as number[]
const seconds = (handled - start) / 1000
console.log(JSON.stringify({
  database: databaseKind(),
  events: EVENTS + 1,
  eventsPerSecond: Math.round((EVENTS + 1) / seconds),
  handledInMs: Math.round(handled - start),
  diffs,
  entityUpdatesPushed: entitiesPushed,
  dbWrites: after.writes - before.writes,
  merged: after.merged,
  writeFailures: after.failures,
  drainAfterLastEventMs: Math.round(written - handled),
  lastPoseStored: stored[2] === 1
}))

await runtime.close()
for (const fn of teardown.reverse()) await fn()
