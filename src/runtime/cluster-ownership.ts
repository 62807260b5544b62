import type { EntitiesDiff, EntityMap } from '../shared/world.ts'
import { Errors } from '../errors.ts'
import type { Clock } from './clock.ts'
import type { Logger } from './logger.ts'
import type { PubSub } from './pubsub.ts'
import type { OwnerMethod, RoomCalls } from './room-calls.ts'
import type { Lease, RoomLeases } from './room-leases.ts'
import { endsEverywhere, type EndReason, type OwnedRoom, type OwnershipHost, type RoomOwnership } from './room-ownership.ts'
import type { RoomServer, RoomStore } from './room.ts'

/** Someone in a room, in any process. */
export interface PresentUser { userId: string, username: string }

/** What cluster ownership needs from the rooms data module (`Rooms` fits). */
export interface ClusterStore extends RoomStore {
  /** With `fence`, refused (XR_ERR_ROOM_LEASE_LOST) unless that is the room's newest lease token. */
  updateEntities: (roomId: string, diff: EntitiesDiff, fence?: { leaseToken: number }) => Promise<void>
  /** Makes `token` the room's newest lease token; returns the newest token afterwards. */
  claimRoom: (roomId: string, token: number) => Promise<number>
}

export interface ClusterOwnershipOptions {
  leases: RoomLeases
  calls: RoomCalls
  store: ClusterStore
  /** Shared by the processes: the control messages go through it. */
  pubsub: PubSub
  /** Who is in the room now, in every process (presence). */
  presentUsers: (roomId: string) => Promise<PresentUser[]>
  /** How often held leases are renewed and free ones of rooms with members here are tried. */
  renewIntervalMs: number
  /** Names this process in the control messages it broadcasts. */
  processId: string
  clock: Clock
  logger: Logger
}

/** Control messages, to every process: a room ended, or runs somewhere new. */
const CONTROL_TOPIC = 'rooms_control'
interface ControlMessage { from: string, roomId: string, reason: EndReason | 'running' }

interface LeasedRoom {
  lease: Lease
  /** When the lease was last known to be held (clock time). */
  heldAt: number
  /** Stops answering other processes' calls about the room. */
  stopServing: () => void
}

/**
 * Several processes serving the same rooms: each accepts sockets for any room, but a room runs
 * (events folded into diffs, diffs written) in the one process holding its lease. The others
 * forward events through the shared pubsub, ask the owner for its world, and take the lease over
 * when it comes free while they have members: the room then continues from the database.
 * The room's writes carry the lease's fencing token, so a stalled owner's late writes are refused.
 */
export class ClusterOwnership implements RoomOwnership {
  readonly clustered = true
  readonly #o: ClusterOwnershipOptions
  /** The rooms whose lease this process holds. */
  readonly #leased = new Map<string, LeasedRoom>()

  constructor (options: ClusterOwnershipOptions) {
    this.#o = options
  }

  attach (host: OwnershipHost): () => void {
    const stopControl = this.#o.pubsub.subscribe(CONTROL_TOPIC, (message) => {
      const { from, roomId, reason } = (message ?? {}) as Partial<ControlMessage>
      if (from === this.#o.processId || typeof roomId !== 'string' || typeof reason !== 'string' || !endsEverywhere(reason)) return
      host.endedElsewhere(roomId, reason)
    })
    let ticker: unknown = null
    let attached = true
    const schedule = (): void => {
      ticker = this.#o.clock.setTimeout(() => {
        void host.eachRoom((room) => this.#upkeep(room)).finally(() => { if (attached) schedule() })
      }, this.#o.renewIntervalMs)
    }
    schedule()
    return () => {
      attached = false
      this.#o.clock.clearTimeout(ticker)
      stopControl()
    }
  }

  /**
   * Runs the room here if its lease is free. Recovers from the database when people are in the
   * room already (another process ran it and died, or handed it over), starting fresh otherwise.
   */
  async run (room: OwnedRoom): Promise<boolean> {
    const { roomId } = room
    if (this.#leased.has(roomId)) return false
    const { leases, store, logger } = this.#o
    const checkedAt = this.#o.clock.now()
    const lease = await leases.acquire(roomId)
    if (!lease) return false
    let server: RoomServer | undefined
    try {
      const newest = await store.claimRoom(roomId, lease.token)
      if (newest !== lease.token) {
        // Redis lost the token counter; the next lease will be newer than the database's.
        logger.warn({ roomId, token: lease.token, newest }, 'lease token older than the database\'s: raising it')
        await leases.raiseTokenAbove(roomId, newest)
        await leases.release(lease)
        return false
      }
      const present = new Set((await this.#o.presentUsers(roomId)).map((user) => user.userId))
      const takeover = present.size > 0
      const leased: LeasedRoom = { lease, heldAt: checkedAt, stopServing: () => {} }
      this.#leased.set(roomId, leased)
      const fenced = this.#fenced(room, lease)
      // A takeover: clients saw diffs the database may lack (the last ones of a dead owner), so
      // the world as stored goes to everyone again, but for avatars of people who are gone.
      const world = takeover ? await store.entities(roomId) : {}
      server = takeover
        ? await room.recover(fenced, Object.fromEntries(Object.entries(world).filter(([id, components]) => !('avatar' in components) || present.has(id))))
        : await room.startFresh(fenced)
      leased.stopServing = this.#o.calls.serve(roomId, { entities: room.entities, resumeComponents: room.resumeComponents })
      if (takeover) await this.#reconcile(room, server, world)
      logger.info({ roomId, token: lease.token, takeover }, 'running the room here')
      room.started(takeover)
      return true
    } catch (err) {
      this.#forget(roomId)
      server?.abandon()
      await leases.release(lease).catch(() => {})
      throw err
    }
  }

  runsHere (roomId: string): boolean {
    return this.#leased.has(roomId)
  }

  async release (roomId: string): Promise<void> {
    const leased = this.#forget(roomId)
    if (!leased) return
    try {
      await this.#o.leases.release(leased.lease)
    } catch (err) {
      this.#o.logger.warn({ err, roomId }, 'could not release the room lease; it expires on its own')
    }
  }

  ended (roomId: string, reason: EndReason): void {
    const message: ControlMessage = { from: this.#o.processId, roomId, reason }
    Promise.resolve(this.#o.pubsub.broadcast(CONTROL_TOPIC, message))
      .catch((err: unknown) => this.#o.logger.error({ err, roomId }, 'could not tell the other processes that the room ended'))
  }

  async peopleElsewhere (roomId: string): Promise<boolean> {
    return (await this.#o.presentUsers(roomId)).length > 0
  }

  async askOwner<T> (roomId: string, method: OwnerMethod, args: string[], fallback: () => Promise<T>): Promise<T> {
    try {
      return await this.#o.calls.call(roomId, method, ...args) as T
    } catch (err) {
      this.#o.logger.warn({ err, roomId, method }, 'no answer from the process running the room: reading the database')
      return await fallback()
    }
  }

  async #upkeep (room: OwnedRoom): Promise<void> {
    try {
      const leased = this.#leased.get(room.roomId)
      if (leased) await this.#renew(room, leased)
      // Only where someone is, so that a room nobody is in is not revived.
      else if (room.occupied) await this.run(room)
    } catch (err) {
      this.#o.logger.error({ err, roomId: room.roomId }, 'room lease upkeep failed')
    }
  }

  /** Renews the lease; when it is lost, the room stops here at once (another process may run it). */
  async #renew (room: OwnedRoom, leased: LeasedRoom): Promise<void> {
    const { leases, clock } = this.#o
    const checkedAt = clock.now()
    let held: boolean
    try {
      held = await leases.renew(leased.lease)
    } catch (err) {
      // Unknown: keep running while the lease cannot have expired yet.
      held = clock.now() - leased.heldAt < leases.ttlMs
      this.#o.logger.warn({ err, roomId: room.roomId, held }, 'could not renew the room lease')
    }
    if (this.#leased.get(room.roomId) !== leased) return
    if (held) leased.heldAt = Math.max(leased.heldAt, checkedAt)
    else this.#lost(room, 'renewal')
  }

  /** Another process runs the room now: stop without writing (its writes would be refused). */
  #lost (room: OwnedRoom, refused: 'renewal' | 'write'): void {
    this.#forget(room.roomId)
    const unwritten = room.lost()
    this.#o.logger.error({ roomId: room.roomId, unwritten, refused }, 'lost the room lease: the room runs elsewhere now')
  }

  #forget (roomId: string): LeasedRoom | undefined {
    const leased = this.#leased.get(roomId)
    this.#leased.delete(roomId)
    leased?.stopServing()
    return leased
  }

  /** The store the room writes through: writes carry the lease's fencing token; a refused one means the lease is gone. */
  #fenced (room: OwnedRoom, lease: Lease): RoomStore {
    const { store } = this.#o
    return {
      entities: (roomId) => store.entities(roomId),
      getEntityState: (roomId, entityId, options) => store.getEntityState(roomId, entityId, options),
      headPositionNearSpawnPoint: (roomId) => store.headPositionNearSpawnPoint(roomId),
      headAbove: (position) => store.headAbove(position),
      updateEntities: async (roomId, diff) => {
        try {
          await store.updateEntities(roomId, diff, { leaseToken: lease.token })
        } catch (err) {
          // At once, not in the room's turn: a stop in progress may be draining this very write,
          // which would be retried for ever.
          if (err instanceof Errors.RoomLeaseLost && this.#leased.get(roomId)?.lease === lease) this.#lost(room, 'write')
          throw err
        }
      }
    }
  }

  /**
   * After a takeover, `world` being the stored one: avatars of people who left while nobody ran
   * the room leave, and people whose user_joined went to nobody join.
   */
  async #reconcile (room: OwnedRoom, server: RoomServer, world: EntityMap): Promise<void> {
    // Once a broadcast of ours is out, our subscription to the room's events is in effect (see
    // RedisPubSub): whoever changes presence after the read below is heard by the room.
    const announcement: ControlMessage = { from: this.#o.processId, roomId: room.roomId, reason: 'running' }
    await this.#o.pubsub.broadcast(CONTROL_TOPIC, announcement)
    const here = new Map((await this.#o.presentUsers(room.roomId)).map((user) => [user.userId, user.username]))
    for (const [userId, components] of Object.entries(world)) {
      if ('avatar' in components && !here.has(userId)) await room.dispatch({ event: 'user_left', payload: { user_id: userId } })
    }
    for (const [userId, username] of here) {
      if (world[userId]?.avatar !== undefined) continue
      const components = await server.userSnapshot.resumeComponents(userId)
      await room.dispatch({ event: 'user_joined', payload: { ...components, username, user_id: userId } })
    }
  }
}
