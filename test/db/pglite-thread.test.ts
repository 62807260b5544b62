// The embedded database in a worker thread (src/db/pglite-thread.ts), as the server runs it.
import t from 'tap'
import { PrismaClient } from '../../src/generated/prisma/client.ts'
import { openDatabase } from '../../src/db/database.ts'
import { PGliteThread } from '../../src/db/pglite-thread.ts'
import { Rooms } from '../../src/db/rooms.ts'
import { isDatabaseUnavailable } from '../../src/db/unavailable.ts'
import { EntitiesStateServer } from '../../src/runtime/entities-state.ts'
import { systemClock } from '../../src/runtime/clock.ts'
import type { EntitiesDiff } from '../../src/shared/world.ts'
import { migratedDataDir, migratedDump } from '../helpers/database.ts'
import { captureLogger } from '../runtime/fixtures/helpers.ts'

import { PGLITE_START_PARAMS as START_PARAMS } from '../../src/db/adapter.ts'

t.test('queries, transactions and database errors cross the thread as in-thread', async (t) => {
  const db = await openDatabase({ kind: 'pglite', loadDataDir: await migratedDump(), thread: true })
  t.teardown(() => db.close())
  const rooms = new Rooms(db.prisma)
  const room = await rooms.createRoom({ name: 'threaded' }, { box: { position: [1, 2, 3], holdable: true } })
  t.same(await rooms.entities(room.id), { box: { position: [1, 2, 3], holdable: true } })
  await rooms.updateEntities(room.id, { creates: {}, updates: { box: { position: [4, 5, 6] } }, deletes: {} })
  t.same((await rooms.entities(room.id)).box?.position, [4, 5, 6], 'a write, then a read')

  await t.rejects(db.prisma.$transaction(async (tx) => {
    await tx.room.update({ where: { id: room.id }, data: { name: 'renamed' } })
    throw new Error('changed my mind')
  }), /changed my mind/)
  t.equal((await db.prisma.room.findUniqueOrThrow({ where: { id: room.id } })).name, 'threaded', 'a failed transaction rolled back')
  await db.prisma.$transaction([db.prisma.room.update({ where: { id: room.id }, data: { name: 'renamed' } })])
  t.equal((await db.prisma.room.findUniqueOrThrow({ where: { id: room.id } })).name, 'renamed', 'a committed one is kept')

  await t.rejects(db.prisma.room.create({ data: { id: room.id, name: 'twin' } }), { name: 'DriverAdapterError', cause: { kind: 'postgres', code: '23505' } }, 'a unique violation comes as in-thread, with PostgreSQL\'s code')
  await db.ping()
})

t.test('the server\'s database runs with a small shared buffer pool (PGlite\'s 128 MB would all be resident)', async (t) => {
  const db = await openDatabase({ kind: 'pglite', loadDataDir: await migratedDump(), thread: true })
  t.teardown(() => db.close())
  t.same(await db.prisma.$queryRaw`SHOW shared_buffers`, [{ shared_buffers: '16MB' }])
})

t.test('a crashed thread: calls in flight fail as "database unavailable", a new thread opens the same directory, and a room\'s writes go on in order, none lost', async (t) => {
  const { dataDir, db: setup } = await migratedDataDir(t)
  await setup.close()
  const crashes: Error[] = []
  const thread = await PGliteThread.open({ dataDir, startParams: START_PARAMS, onCrash: (err) => crashes.push(err) })
  t.teardown(() => thread.close())
  const prisma = new PrismaClient({ adapter: thread })
  t.teardown(() => prisma.$disconnect())
  const rooms = new Rooms(prisma)
  const room = await rooms.createRoom({ name: 'crashing', persistent: true }, { box: { x: 0 } })

  const written: number[] = []
  const failures: unknown[] = []
  const store = {
    updateEntities: async (roomId: string, diff: EntitiesDiff) => {
      try {
        await rooms.updateEntities(roomId, diff)
      } catch (err) {
        failures.push(err)
        throw err
      }
      const x = diff.updates.box?.x as number
      written.push(x)
      // Between two writes of the room: the next one goes to a dying thread.
      if (x === 5) thread.crashForTest()
    }
  }
  const { logger, lines } = captureLogger()
  const state = new EntitiesStateServer({ roomId: room.id, store, clock: systemClock, logger, writeIntervalMs: 0, initialBackoffMs: 20 })
  t.teardown(() => state.stop())
  for (let x = 1; x <= 20; x++) state.enqueue({ creates: {}, updates: { box: { x } }, deletes: {} })
  await state.drain()

  t.same(written, Array.from({ length: 20 }, (_, i) => i + 1), 'every diff written once, in order')
  t.equal(thread.restarts, 1, 'one new thread')
  t.equal(crashes.length, 1, 'the crash was told')
  t.ok(failures.length >= 1, `${failures.length} write(s) failed while the thread was down`)
  t.ok(failures.every(isDatabaseUnavailable), 'as "database unavailable", so they were retried')
  t.same(lines.filter((line) => line.level === 'error'), [], 'nothing given up on')
  t.same((await rooms.entities(room.id)).box, { x: 20 }, 'the new thread has every write, on the same directory')
})

t.test('a thread that cannot open its database fails open() with the reason', async (t) => {
  await t.rejects(PGliteThread.open({ loadDataDir: new Blob(['not a database']), startParams: START_PARAMS }))
})
