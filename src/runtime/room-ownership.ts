import type { Components, EntityMap } from '../shared/world.ts'
import type { OwnerMethod } from './room-calls.ts'
import type { RoomServer, RoomStore } from './room.ts'
import type { RoomEvent } from './state-mutation.ts'

/** Stops that end a room in every process (its sockets close), not only in the one running it. */
export type EndReason = 'requested' | 'crash_loop' | 'restart_failed'

const END_REASONS: ReadonlySet<string> = new Set<EndReason>(['requested', 'crash_loop', 'restart_failed'])

/** Whether a stop for `reason` ends the room in every process. */
export const endsEverywhere = (reason: string): reason is EndReason => END_REASONS.has(reason)

/** One room its supervisor supervises, as its ownership acts on it. */
export interface OwnedRoom {
  readonly roomId: string
  /** Someone is connected to the room through this process. */
  readonly occupied: boolean
  /**
   * Starts the room here as nobody is in it: back to its initial snapshot unless persistent, no
   * avatars. `store` is what it writes through (default: the supervisor's). Rejects with
   * XR_ERR_ROOM_NOT_FOUND.
   */
  startFresh: (store?: RoomStore) => Promise<RoomServer>
  /** Starts the room here from the database as stored, its users included; `resync` goes to every client as creates first. */
  recover: (store: RoomStore, resync: EntityMap) => Promise<RoomServer>
  /** Hands the room an event, as RoomsSupervisor.dispatch does. */
  dispatch: (event: RoomEvent) => Promise<void>
  /** The room's world now, as RoomsSupervisor.entities answers. */
  entities: () => Promise<EntityMap>
  /** As RoomsSupervisor.resumeComponents answers. */
  resumeComponents: (userId: string) => Promise<Components>
  /** After startFresh or recover, once the ownership is done: the room runs here now. */
  started: (takeover: boolean) => void
  /** Another process runs the room now: it stops here at once, writing nothing. Returns the diffs left unwritten. */
  lost: () => number
}

/** The supervisor, as an ownership acts on it unasked. */
export interface OwnershipHost {
  /**
   * Visits every room supervised here, each in its turn (never during a start or stop of that
   * room), skipping rooms stopped meanwhile, and all of them once closing. Never rejects.
   */
  eachRoom: (visit: (room: OwnedRoom) => Promise<void>) => Promise<void>
  /** Another process ended the room: it stops here too. */
  endedElsewhere: (roomId: string, reason: EndReason) => void
}

/**
 * Whether a room runs in this process, when several serve the same rooms: the supervisor asks
 * at each of these points, and does the rest (turns, restarts, idle stop) alike for both
 * implementations. LocalOwnership: one process runs every room it serves. ClusterOwnership
 * (cluster-ownership.ts): leases, fencing, takeover.
 */
export interface RoomOwnership {
  /** True when other processes may run the rooms this one serves. */
  readonly clustered: boolean
  /** Starts acting on the supervisor unasked (upkeep, other processes' messages); returns what stops that. */
  attach: (host: OwnershipHost) => () => void
  /** Runs the room here (fresh, or taken over) when this process may; resolves whether it started it. */
  run: (room: OwnedRoom) => Promise<boolean>
  /** True while this process may run the room. */
  runsHere: (roomId: string) => boolean
  /** The room stopped here, its writes done: gives up running it. */
  release: (roomId: string) => Promise<void>
  /** The room ended here (see EndReason): tells the other processes, which stop it too. */
  ended: (roomId: string, reason: EndReason) => void
  /** Whether people are in the room through other processes (an idle room keeps running for them). */
  peopleElsewhere: (roomId: string) => Promise<boolean>
  /** Asks the process running the room, which is not this one; `fallback` (the database) when none answers. */
  askOwner: <T>(roomId: string, method: OwnerMethod, args: string[], fallback: () => Promise<T>) => Promise<T>
}

/** One process: every room it serves runs here, started fresh; nothing to fence, renew or ask. */
export class LocalOwnership implements RoomOwnership {
  readonly clustered = false

  attach (): () => void {
    return () => {}
  }

  async run (room: OwnedRoom): Promise<boolean> {
    await room.startFresh()
    room.started(false)
    return true
  }

  runsHere (): boolean {
    return true
  }

  async release (): Promise<void> {}

  ended (): void {}

  async peopleElsewhere (): Promise<boolean> {
    return false
  }

  async askOwner<T> (_roomId: string, _method: OwnerMethod, _args: string[], fallback: () => Promise<T>): Promise<T> {
    return await fallback()
  }
}
