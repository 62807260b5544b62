import t from 'tap'
import { Rooms } from '../../src/db/rooms.ts'
import type { EntitiesDiff } from '../../src/shared/world.ts'
import type { Clock } from '../../src/runtime/clock.ts'
import { Coalescer, EntitiesDiffServer, mergeDiffs, splitByEntity } from '../../src/runtime/entities-diff.ts'
import { MemoryPubSub } from '../../src/runtime/pubsub.ts'
import type { Mutation } from '../../src/runtime/state-mutation.ts'
import { testDatabase, databaseKind } from '../helpers/database.ts'
import { ManualClock } from './fixtures/clock.ts'
import { applyDiffs, collect, turn } from './fixtures/helpers.ts'
import { createEntity } from '../helpers/entities.ts'

const create = (components: Record<string, unknown>): Mutation => ({ op: 'create', entityId: 'e', components })
const update = (components: Record<string, unknown>): Mutation => ({ op: 'update', entityId: 'e', components })
const del: Mutation = { op: 'delete', entityId: 'e' }

const diff = (part: Partial<EntitiesDiff>): EntitiesDiff => ({ creates: {}, updates: {}, deletes: {}, ...part })

function fold (...mutations: Mutation[]): EntitiesDiff | null {
  const coalescer = new Coalescer()
  for (const mutation of mutations) coalescer.add(mutation)
  return coalescer.take()
}

// The pending change each row starts from, and the diff it is alone.
const rows = {
  none: [],
  create: [create({ a: 1, b: 1 })],
  update: [update({ a: 1, b: 1 })],
  delete: [del]
} as const
const columns = {
  create: create({ a: 2, c: 2 }),
  update: update({ a: 2, c: 2 }),
  delete: del
} as const

const expected: Record<keyof typeof rows, Record<keyof typeof columns, EntitiesDiff>> = {
  none: {
    create: diff({ creates: { e: { a: 2, c: 2 } } }),
    update: diff({ updates: { e: { a: 2, c: 2 } } }),
    delete: diff({ deletes: { e: true } })
  },
  create: {
    create: diff({ creates: { e: { a: 2, c: 2 } } }),
    update: diff({ creates: { e: { a: 2, b: 1, c: 2 } } }),
    delete: diff({ creates: { e: { a: 1, b: 1 } }, deletes: { e: true } })
  },
  update: {
    create: diff({ creates: { e: { a: 2, c: 2 } } }),
    update: diff({ updates: { e: { a: 2, b: 1, c: 2 } } }),
    delete: diff({ updates: { e: { a: 1, b: 1 } }, deletes: { e: true } })
  },
  delete: {
    create: diff({ creates: { e: { a: 2, c: 2 } } }),
    update: diff({ deletes: { e: true } }),
    delete: diff({ deletes: { e: true } })
  }
}

t.test('the coalescing table, cell by cell', async (t) => {
  for (const [row, before] of Object.entries(rows)) {
    for (const [column, next] of Object.entries(columns)) {
      t.same(fold(...before, next), expected[row as keyof typeof rows][column as keyof typeof columns], `${row} then ${column}`)
    }
  }
})

t.test('longer sequences within one window', async (t) => {
  t.same(fold(create({ a: 1 }), update({ b: 2 }), del), diff({ creates: { e: { a: 1, b: 2 } }, deletes: { e: true } }), 'create → update → delete')
  t.same(fold(update({ a: 1 }), del, del), diff({ updates: { e: { a: 1 } }, deletes: { e: true } }), 'update → delete → delete')
  t.same(fold(del, create({ a: 1 }), update({ b: 2 })), diff({ creates: { e: { a: 1, b: 2 } } }), 'delete → create → update')
  t.same(fold(update({ a: 1 }), update({ a: 2 }), update({ b: 3 })), diff({ updates: { e: { a: 2, b: 3 } } }), 'updates merge, later values win')
  t.same(fold(create({ a: 1 }), del, update({ b: 2 })), diff({ creates: { e: { a: 1 } }, deletes: { e: true } }), 'create → delete → update')
  t.equal(fold(), null, 'nothing pending')
})

t.test('entities fold independently; the inputs are never modified', async (t) => {
  const components = { a: 1 }
  const result = fold(
    { op: 'create', entityId: 'x', components },
    { op: 'update', entityId: 'x', components: { b: 2 } },
    { op: 'update', entityId: 'y', components: { c: 3 } },
    { op: 'delete', entityId: 'z' }
  )
  t.same(result, { creates: { x: { a: 1, b: 2 } }, updates: { y: { c: 3 } }, deletes: { z: true } })
  t.same(components, { a: 1 })
})

t.test('hostile entity ids stay ordinary keys', async (t) => {
  const result = fold({ op: 'create', entityId: '__proto__', components: { a: 1 } })!
  t.same(Object.keys(result.creates), ['__proto__'])
  t.equal(Object.getPrototypeOf(result.creates), Object.prototype)
  t.same(JSON.parse(JSON.stringify(result)).creates.__proto__, { a: 1 })
})

t.test('every cell leaves the database as the two changes one after the other would', async (t) => {
  t.comment(`database: ${databaseKind()}`)
  const db = await testDatabase(t)
  const rooms = new Rooms(db.prisma)
  const sequential = await rooms.createRoom({ name: 'one by one' }, {})
  const folded = await rooms.createRoom({ name: 'folded' }, {})
  const rename = (mutation: Mutation, entityId: string): Mutation => ({ ...mutation, entityId })
  const asDiff = (mutation: Mutation): EntitiesDiff => fold(mutation)!
  const initial: Record<string, Record<string, unknown>> = {}
  const applied: EntitiesDiff[] = []

  for (const start of ['absent', 'live']) {
    for (const [row, before] of Object.entries(rows)) {
      for (const [column, next] of Object.entries(columns)) {
        const id = `${start}-${row}-${column}`
        if (start === 'live') {
          initial[id] = { a: 0, keep: 0 }
          await createEntity(db.prisma, sequential.id, id, { a: 0, keep: 0 })
          await createEntity(db.prisma, folded.id, id, { a: 0, keep: 0 })
        }
        const mutations = [...before, next].map((m) => rename(m, id))
        for (const mutation of mutations) {
          applied.push(asDiff(mutation))
          await rooms.updateEntities(sequential.id, asDiff(mutation))
        }
        await rooms.updateEntities(folded.id, fold(...mutations)!)
      }
    }
  }
  const expectedWorld = await rooms.entities(sequential.id)
  t.same(await rooms.entities(folded.id), expectedWorld)
  t.same(applyDiffs(initial, applied), expectedWorld, 'applyDiffs agrees with the database')
  t.same(expectedWorld['live-update-update'], { a: 2, b: 1, c: 2, keep: 0 }, 'sanity: merged into the live entity')
  t.notOk('absent-update-update' in expectedWorld, 'sanity: an update does not create')
})

t.test('mergeDiffs folds whole diffs with the same rules; splitByEntity undoes the grouping', async (t) => {
  const first = diff({ creates: { a: { x: 1 } }, updates: { b: { y: 1 } }, deletes: { c: true } })
  const second = diff({ creates: { c: { z: 1 } }, updates: { a: { x: 2 }, b: { y: 2 } }, deletes: { d: true } })
  t.same(mergeDiffs([first, second]), {
    creates: { a: { x: 2 }, c: { z: 1 } },
    updates: { b: { y: 2 } },
    deletes: { d: true }
  })
  t.same(mergeDiffs([]), diff({}))
  const mixed = diff({ creates: { a: { x: 1 } }, updates: { a: { y: 1 }, b: { y: 2 } }, deletes: { a: true, c: true } })
  t.same(splitByEntity(mixed), [
    diff({ creates: { a: { x: 1 } }, updates: { a: { y: 1 } }, deletes: { a: true } }),
    diff({ updates: { b: { y: 2 } } }),
    diff({ deletes: { c: true } })
  ])
})

t.test('applyDiffs has the database semantics', async (t) => {
  const world = { kept: { a: 1 }, moved: { p: 1, q: 1 }, gone: { a: 1 } }
  t.same(applyDiffs(world, [
    diff({ updates: { moved: { p: 2 }, missing: { p: 1 } }, deletes: { gone: true } }),
    diff({ creates: { fresh: { n: 1 } } })
  ]), { kept: { a: 1 }, moved: { p: 2, q: 1 }, fresh: { n: 1 } })
  t.same(world.moved, { p: 1, q: 1 }, 'the input is not modified')
})

t.test('EntitiesDiffServer emits one diff per sync interval, to sockets and to persistence', async (t) => {
  const clock = new ManualClock()
  const pubsub = new MemoryPubSub()
  const errors: unknown[] = []
  const stream: EntitiesDiff[] = []
  const server = new EntitiesDiffServer({ roomId: 'r1', pubsub, persist: (d) => stream.push(d), clock, syncIntervalMs: 50, onError: (e) => errors.push(e) })
  const sockets = collect(pubsub, 'room:r1')
  const otherRoom = collect(pubsub, 'room:r2')

  t.equal(clock.pending, 0, 'nothing pending, no timer')
  server.add([{ op: 'create', entityId: 'bob', components: { head: [0] } }])
  server.add([{ op: 'update', entityId: 'bob', components: { head: [1] } }])
  t.equal(clock.pending, 1, 'one timer per window')
  clock.advance(49)
  await turn()
  t.same(stream, [], 'not before the interval')
  clock.advance(1)
  await turn()
  const first = diff({ creates: { bob: { head: [1] } } })
  t.same(stream, [first])
  t.same(sockets, [{ event: 'entities_diff', payload: first }])

  clock.advance(500)
  await turn()
  t.equal(stream.length, 1, 'nothing changed, nothing emitted')
  t.equal(clock.pending, 0)

  for (let i = 2; i <= 4; i++) {
    server.add([{ op: 'update', entityId: 'bob', components: { head: [i] } }])
    clock.advance(50)
  }
  await turn()
  t.same(stream.slice(1).map((d) => (d as EntitiesDiff).updates.bob.head), [[2], [3], [4]], 'diffs in order')
  t.same(sockets.length, 4)
  t.equal(server.emitted, 4)
  t.same(otherRoom, [])
  t.same(errors, [])
})

t.test('a busy room keeps the cadence: late timers and the wait for the next mutation do not stretch it', async (t) => {
  const manual = new ManualClock()
  // Every timer fires 8 ms after it was asked to, as on a busy event loop.
  const delays: number[] = []
  const late: Clock = {
    now: () => manual.now(),
    setTimeout: (callback, ms) => { delays.push(ms); return manual.setTimeout(callback, ms + 8) },
    clearTimeout: (handle) => manual.clearTimeout(handle)
  }
  const pubsub = new MemoryPubSub()
  const stream: EntitiesDiff[] = []
  const server = new EntitiesDiffServer({ roomId: 'r1', pubsub, persist: (d) => stream.push(d), clock: late, syncIntervalMs: 50, onError: (e) => t.error(e) })
  // A user moving every 5 ms for one second.
  for (let ms = 0; ms < 1000; ms += 5) {
    server.add([{ op: 'update', entityId: 'bob', components: { head: [ms] } }])
    manual.advance(5)
  }
  await turn()
  // At 58, 108, …, 958 ms: timing each from the mutation after the previous would give 58, 118, …, 958.
  t.equal(stream.length, 19, 'one diff per interval')
  t.same(delays.slice(0, 3), [50, 40, 40], 'each due one interval after the previous was due')

  manual.advance(1000)
  server.add([{ op: 'update', entityId: 'bob', components: { head: [0] } }])
  t.equal(delays.at(-1), 50, 'after a quiet interval, a new window starts')
})

t.test('flush emits at once and cancels the timer', async (t) => {
  const clock = new ManualClock()
  const pubsub = new MemoryPubSub()
  const stream: EntitiesDiff[] = []
  const server = new EntitiesDiffServer({ roomId: 'r1', pubsub, persist: (d) => stream.push(d), clock, syncIntervalMs: 50, onError: (e) => t.error(e) })
  t.equal(await server.flush(), null)
  server.add([{ op: 'delete', entityId: 'x' }])
  t.equal(server.pendingEntities, 1)
  t.same(await server.flush(), diff({ deletes: { x: true } }))
  t.same(stream, [diff({ deletes: { x: true } })], 'delivered when flush resolves')
  t.equal(clock.pending, 0)
  t.equal(server.pendingEntities, 0)
})

t.test('a failing emit is reported, not thrown into the timer', async (t) => {
  const clock = new ManualClock()
  const pubsub = new MemoryPubSub()
  const failing = { ...pubsub, subscribe: pubsub.subscribe.bind(pubsub), subscriberCount: pubsub.subscriberCount.bind(pubsub), broadcast: () => { throw new Error('pubsub down') } }
  const errors: Error[] = []
  const server = new EntitiesDiffServer({ roomId: 'r1', pubsub: failing, persist: () => {}, clock, syncIntervalMs: 50, onError: (e) => errors.push(e as Error) })
  server.add([{ op: 'delete', entityId: 'x' }])
  clock.advance(50)
  await turn()
  t.same(errors.map((e) => e.message), ['pubsub down'])
})

t.test('a diff refused by persistence fails the emit before any socket gets it', async (t) => {
  const clock = new ManualClock()
  const pubsub = new MemoryPubSub()
  const errors: Error[] = []
  const server = new EntitiesDiffServer({ roomId: 'r1', pubsub, persist: () => { throw new Error('persistence stopped') }, clock, syncIntervalMs: 50, onError: (e) => errors.push(e as Error) })
  const sockets = collect(pubsub, 'room:r1')
  server.add([{ op: 'delete', entityId: 'x' }])
  clock.advance(50)
  await turn()
  t.same(errors.map((e) => e.message), ['persistence stopped'])
  t.same(sockets, [], 'clients never see a change the database will not have')
})

t.test('the emitted diff is frozen, so persistence and the sockets cannot change what the other sees', async (t) => {
  const clock = new ManualClock()
  const pubsub = new MemoryPubSub()
  const attempts: string[] = []
  const server = new EntitiesDiffServer({
    roomId: 'r1',
    pubsub,
    persist: (d) => {
      const tries: Array<[string, () => void]> = [
        ['add an entity', () => { (d.creates as Record<string, unknown>).intruder = { x: 1 } }],
        ['change a component', () => { d.creates.bob!.head = [9] }],
        ['change a pose in place', () => { (d.creates.bob!.head as number[])[0] = 9 }],
        ['drop the deletes', () => { delete (d as Partial<EntitiesDiff>).deletes }]
      ]
      for (const [what, attempt] of tries) {
        try { attempt(); attempts.push(`${what}: changed`) } catch (err) { attempts.push(`${what}: ${(err as Error).name}`) }
      }
    },
    clock,
    syncIntervalMs: 50,
    onError: (e) => t.error(e)
  })
  const sockets = collect(pubsub, 'room:r1')
  server.add([{ op: 'create', entityId: 'bob', components: { head: [1, 2, 3] } }, { op: 'delete', entityId: 'gone' }])
  const emitted = await server.flush()
  t.same(attempts, ['add an entity: TypeError', 'change a component: TypeError', 'change a pose in place: TypeError', 'drop the deletes: TypeError'])
  t.same(emitted, diff({ creates: { bob: { head: [1, 2, 3] } }, deletes: { gone: true } }))
  await turn()
  t.same(sockets, [{ event: 'entities_diff', payload: emitted }], 'the sockets got the diff as emitted')
})
