/**
 * xr-rooms itself: the whole app as `npm start` builds it (buildApp), logging off, on an
 * embedded PGlite database in a fresh on-disk directory run in its worker thread (the default
 * deployment), or with DATABASE_URL set on that PostgreSQL server, in a fresh schema dropped on close.
 */
import { buildApp } from '../../../src/app.ts'
import { Rooms } from '../../../src/db/rooms.ts'
import { openDatabase, type Database } from '../../../src/db/database.ts'
import { emptyDataDir, migratedDump, testDatabase } from '../../helpers/database.ts'
import { benchEntities, type BenchServer } from './server.ts'

export const BENCH_SECRET = 'bench-secret-key-base-0123456789-0123456789-0123456789'

/**
 * A migrated data directory, opened as the server opens it: in a worker thread. The directory is
 * filled by a thread of its own that then ends, as `npm start` migrates in a process of its own:
 * no database ever ran in the server's main thread to leave memory behind there.
 */
async function embedded (t: { teardown: (fn: () => unknown) => void }): Promise<Database> {
  const dataDir = emptyDataDir(t)
  const filling = await openDatabase({ kind: 'pglite', dataDir, loadDataDir: await migratedDump(), thread: true })
  await filling.close()
  return await openDatabase({ kind: 'pglite', dataDir, thread: true })
}

export async function startOurs ({ secret = BENCH_SECRET }: { secret?: string } = {}): Promise<BenchServer> {
  const teardown: Array<() => unknown> = []
  const t = { teardown: (fn: () => unknown) => teardown.push(fn) }
  // testDatabase closes the database in teardown too: closing twice is harmless.
  const db = process.env.DATABASE_URL ? await testDatabase(t) : await embedded(t)
  // As behind one load balancer: the generators name a client address per 50 users (and the
  // flood bench its one flooding address) in X-Forwarded-For, which the per-address limits count.
  const app = await buildApp({ config: { secretKeyBase: secret, trustProxy: 1 }, database: db, logger: false })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('xr-rooms did not listen on a TCP port')
  const rooms = new Rooms(db.prisma)
  let next = 0
  return {
    port: address.port,
    createRooms: async (count, entities = 0) => {
      const ids: string[] = []
      for (let i = 0; i < count; i++) {
        // An empty world, so that diffs hold the users alone (as in the other targets). A room
        // with entities is persistent: a fresh start would otherwise reset it to its snapshot.
        const room = await rooms.createRoom({ name: `bench ${next++}`, persistent: entities > 0 }, {})
        if (entities > 0) await rooms.updateEntities(room.id, { creates: benchEntities(entities), updates: {}, deletes: {} })
        ids.push(room.id)
      }
      return ids
    },
    close: async () => {
      await app.close()
      await db.close()
      for (const fn of teardown.reverse()) await fn()
    }
  }
}
