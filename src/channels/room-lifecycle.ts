import type { Rooms } from '../db/rooms.ts'
import { Errors } from '../errors.ts'
import type { RoomsSupervisor } from '../runtime/rooms-supervisor.ts'
import type { RoomLifecycle } from '../web/lifecycle.ts'

/** The pages' hooks into the room runtime: showing starts a room, deleting stops it, reset resets it live. */
export function runtimeLifecycle (supervisor: RoomsSupervisor, rooms: Rooms): RoomLifecycle {
  return {
    startRoom: async (roomId) => { await supervisor.startRoom(roomId) },
    // The supervisor tells the room's sockets (room_stopped), which close their channels.
    stopRoom: async (roomId) => { await supervisor.stopRoom(roomId) },
    resetRoom: async (roomId) => {
      if (!supervisor.room(roomId)) {
        if (!supervisor.clustered) {
          await rooms.replaceEntitiesWithInitialSnapshot(roomId)
          return
        }
        // It may run in another process: this finds it there, or runs it here.
        await supervisor.startRoom(roomId)
      }
      // A running room resets through its own event stream, so the reset is ordered with
      // everyone's moves, reaches every member as one diff, and keeps present people's avatars.
      const snapshot = await rooms.initialSnapshot(roomId)
      if (!snapshot) throw new Errors.RoomNotFound(roomId)
      const world = await supervisor.entities(roomId)
      const removed = Object.keys(world).filter((id) => !(id in snapshot) && !('avatar' in world[id]))
      await supervisor.dispatch(roomId, { event: 'room_reset', payload: { entities: snapshot, removed } })
      await supervisor.flush(roomId)
    }
  }
}
