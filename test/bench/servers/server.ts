/** What every target server offers the bench, whatever it is built on. */
export interface BenchServer {
  port: number
  /** Creates `count` rooms (with `entities` entities each, for the join benchmark) and returns their ids. */
  createRooms: (count: number, entities?: number) => Promise<string[]>
  close: () => Promise<void>
}

/** Entities like those of a room's generated content (src/db/room-content.ts): boxes with a size, position and color. */
export function benchEntities (count: number, prefix = 'e'): Record<string, Record<string, unknown>> {
  const world: Record<string, Record<string, unknown>> = {}
  for (let i = 0; i < count; i++) {
    world[`${prefix}${i}`] = {
      mesh_builder: ['box', { size: 1 + (i % 9) }],
      position: [(i % 100) - 50, (i % 7) * 0.5, Math.floor(i / 100) - 50],
      color: [0.25 + (i % 5) * 0.1, 0.5, 0.75],
      teleportable: true
    }
  }
  return world
}
