import path from 'node:path'
import { databaseTarget, openDatabase } from '../src/db/database.ts'
import { seed } from '../src/db/demo-rooms.ts'
import { Rooms } from '../src/db/rooms.ts'

export { DEMO_ROOMS, seed } from '../src/db/demo-rooms.ts'

const isMain = process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)
if (isMain) {
  const db = await openDatabase(databaseTarget(process.env.DATABASE_URL || undefined, path.resolve(process.env.DATA_DIR || 'data')))
  try {
    const created = await seed(new Rooms(db.prisma))
    console.log(created.length > 0 ? `Seeded demo rooms: ${created.join(', ')}` : 'Demo rooms already present')
  } finally {
    await db.close()
  }
}
