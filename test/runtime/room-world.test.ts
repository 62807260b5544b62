import t from 'tap'
import { Rooms } from '../../src/db/rooms.ts'
import type { EntitiesDiff } from '../../src/shared/world.ts'
import { Coalescer } from '../../src/runtime/entities-diff.ts'
import { RoomWorld } from '../../src/runtime/room-world.ts'
import type { Mutation } from '../../src/runtime/state-mutation.ts'
import { databaseKind, testDatabase } from '../helpers/database.ts'
import { prng } from '../helpers/prng.ts'

t.test('creates replace, updates merge into live entities only, deletes remove', async (t) => {
  const world = new RoomWorld()
  world.load({ a: { x: 1, keep: true }, b: { y: 1 } })
  world.apply([
    { op: 'update', entityId: 'a', components: { x: 2 } },
    { op: 'update', entityId: 'ghost', components: { x: 2 } },
    { op: 'create', entityId: 'b', components: { z: 1 } },
    { op: 'create', entityId: 'c', components: { w: 1 } },
    { op: 'delete', entityId: 'c' },
    { op: 'delete', entityId: 'nothing' }
  ])
  t.same(world.snapshot(), { a: { x: 2, keep: true }, b: { z: 1 } })
  t.equal(world.size, 2)
})

t.test('a snapshot does not change with later mutations, and odd ids stay own keys', async (t) => {
  const world = new RoomWorld()
  world.load({})
  world.apply([{ op: 'create', entityId: '__proto__', components: { a: 1 } }])
  const before = world.snapshot()
  world.apply([{ op: 'update', entityId: '__proto__', components: { a: 2 } }])
  t.same(Object.keys(before), ['__proto__'])
  t.equal(Object.getPrototypeOf(before), Object.prototype)
  t.same(JSON.parse(JSON.stringify(before)).__proto__, { a: 1 }, 'taken before the update')
  t.same(JSON.parse(JSON.stringify(world.snapshot())).__proto__, { a: 2 })
})

function randomMutations (random: () => number, count: number): Mutation[] {
  const ids = ['e1', 'e2', 'e3']
  const components = (): Record<string, unknown> => Object.fromEntries(
    ['a', 'b', 'c'].filter(() => random() < 0.5).map((name) => [name, Math.floor(random() * 100)]))
  return Array.from({ length: count }, (): Mutation => {
    const entityId = ids[Math.floor(random() * ids.length)]!
    const kind = random()
    // With a component: the room never makes an empty create (see toMutations).
    if (kind < 0.3) return { op: 'create', entityId, components: { ...components(), made: 1 } }
    if (kind < 0.8) return { op: 'update', entityId, components: components() }
    return { op: 'delete', entityId }
  })
}

const alone = (mutation: Mutation): EntitiesDiff => {
  const coalescer = new Coalescer()
  coalescer.add(mutation)
  return coalescer.take()!
}

t.test('the world in memory is the world the database ends with, change by change and batched', async (t) => {
  t.comment(`database: ${databaseKind()}`)
  const db = await testDatabase(t)
  const rooms = new Rooms(db.prisma)
  const start = { e1: { a: 0, keep: 1 } }
  for (let seed = 1; seed <= 25; seed++) {
    const mutations = randomMutations(prng(seed), 12)
    const oneByOne = await rooms.createRoom({ name: `one by one ${seed}` }, start)
    const batched = await rooms.createRoom({ name: `batched ${seed}` }, start)
    const world = new RoomWorld()
    world.load(await rooms.entities(oneByOne.id))
    const coalescer = new Coalescer()
    for (const mutation of mutations) {
      world.apply([mutation])
      coalescer.add(mutation)
      await rooms.updateEntities(oneByOne.id, alone(mutation))
    }
    const diff = coalescer.take()
    if (diff) await rooms.updateEntities(batched.id, diff)
    const stored = await rooms.entities(oneByOne.id)
    if (!t.same(world.snapshot(), stored, `seed ${seed}: memory = database`)) t.comment(JSON.stringify(mutations))
    t.same(await rooms.entities(batched.id), stored, `seed ${seed}: one batched diff = one by one`)
  }
})
