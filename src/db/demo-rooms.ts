import type { Rooms } from './rooms.ts'

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
