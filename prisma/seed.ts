import path from 'node:path'
import { databaseTarget, openDatabase } from '../src/db/database.ts'
import { Rooms } from '../src/db/rooms.ts'

/** Demo rooms, created once: running the seed again finds them by name and adds nothing. */
export const DEMO_ROOMS = [
  { name: 'Lobby', description: 'Meet people here. Moved things stay where you leave them.', persistent: true },
  { name: 'Playground', description: 'Grab the small boxes and throw them around; it resets when everyone leaves.', persistent: false },
  { name: 'Gallery', description: 'A quiet room with colorful blocks.', persistent: true }
] as const

export async function seed (rooms: Rooms): Promise<string[]> {
  const existing = new Set((await rooms.listRooms()).map((room) => room.name))
  const created: string[] = []
  for (const demo of DEMO_ROOMS) {
    if (existing.has(demo.name)) continue
    await rooms.createRoom(demo)
    created.push(demo.name)
  }
  return created
}

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
