import type { Rooms } from '../db/rooms.ts'

/**
 * How the pages drive a room's live processes. The room runtime provides the real one;
 * until then `defaultLifecycle` stands in.
 */
export interface RoomLifecycle {
  /** Called before the room page is shown; starts the room's processes if they are not running. */
  startRoom: (roomId: string) => Promise<void>
  /** Called before a room is deleted; stops its processes and disconnects its people. */
  stopRoom: (roomId: string) => Promise<void>
  /** Puts the room's world back to its initial snapshot (and tells connected clients). */
  resetRoom: (roomId: string) => Promise<void>
}

const HOOKS = ['startRoom', 'stopRoom', 'resetRoom'] as const

/** No processes to start or stop; a reset rewrites the stored world only. */
export function defaultLifecycle (rooms: Rooms): RoomLifecycle {
  return {
    startRoom: async () => {},
    stopRoom: async () => {},
    resetRoom: async (roomId) => { await rooms.replaceEntitiesWithInitialSnapshot(roomId) }
  }
}

/** Throws at boot when the option is not a complete lifecycle. */
export function assertLifecycle (value: unknown): asserts value is RoomLifecycle {
  if (typeof value !== 'object' || value === null) {
    throw new TypeError('web plugin: "lifecycle" must be an object with startRoom, stopRoom and resetRoom')
  }
  for (const hook of HOOKS) {
    if (typeof (value as Record<string, unknown>)[hook] !== 'function') {
      throw new TypeError(`web plugin: "lifecycle.${hook}" must be a function returning a promise`)
    }
  }
}
