import type { Components, EntitiesDiff, EntityMap } from '../db/types.ts'
import { Errors } from '../errors.ts'
import type { Clock } from './clock.ts'
import { deepFreeze } from './deep-freeze.ts'
import type { PersistenceOptions } from './entities-state.ts'
import type { Logger } from './logger.ts'
import type { PubSub } from './pubsub.ts'
import type { Registry } from './registry.ts'
import type { OwnerMethod, RoomCalls } from './room-calls.ts'
import type { Lease, RoomLeases } from './room-leases.ts'
import { RoomServer, type RoomServerStats, type RoomStatus, type RoomStore } from './room.ts'
import type { Mutation, MutationTable, RoomEvent } from './state-mutation.ts'
import { holdMessages, type HeldMessages } from './held-messages.ts'
import { topics } from './topics.ts'
import { resumeComponents } from './user-snapshot.ts'

/** What the supervisor needs from the rooms data module (`Rooms` fits). */
export interface SupervisorStore extends RoomStore {
  getRoom: (roomId: string) => Promise<{ persistent: boolean } | null>
  replaceEntitiesWithInitialSnapshot: (roomId: string) => Promise<EntitiesDiff>
  softDeleteEntitiesHavingComponent: (roomId: string, componentName: string) => Promise<string[]>
  /** Cluster only: writes refused unless made with the room's newest lease token. */
  updateEntities: (roomId: string, diff: EntitiesDiff, fence?: { leaseToken: number }) => Promise<void>
  /** Cluster only: makes `token` the room's newest lease token; returns the newest token afterwards. */
  claimRoom?: (roomId: string, token: number) => Promise<number>
}

/** Someone in a room, in any process. */
export interface PresentUser { userId: string, username: string }

/**
 * Several processes serving the same rooms: each process accepts sockets for any room, but a
 * room runs (events folded into diffs, diffs written) in the one process holding its lease.
 * The others forward events through the shared pubsub and ask the owner for its world.
 */
export interface SupervisorCluster {
  leases: RoomLeases
  calls: RoomCalls
  /** Who is in the room now, in every process (presence). */
  presentUsers: (roomId: string) => Promise<PresentUser[]>
  /** How often held leases are renewed and free ones of rooms with members here are tried. */
  renewIntervalMs: number
  /** Names this process in the control messages it broadcasts. */
  processId: string
}

export interface RoomsSupervisorOptions {
  store: SupervisorStore
  pubsub: PubSub
  /** Unset: this process runs every room it serves. */
  cluster?: SupervisorCluster
  registry: Registry<RoomServer>
  clock: Clock
  logger: Logger
  syncIntervalMs: number
  /** A room nobody has been in for this long is stopped. */
  idleTimeoutMs: number
  /** More than this many crashes of one room within restartWindowMs stops it for good. */
  maxRestarts: number
  restartWindowMs: number
  persistence: PersistenceOptions
  mutations: MutationTable
  onRoomEvent?: (event: string) => void
}

/** `lease_lost`: another process runs the room now (its sockets here stay, served from there). */
export type StopReason = 'requested' | 'idle' | 'shutdown' | 'crash_loop' | 'restart_failed' | 'lease_lost'

/** Stops that end a room in every process (its sockets close), not only here. */
const ENDS_EVERYWHERE: ReadonlySet<StopReason> = new Set(['requested', 'crash_loop', 'restart_failed'])

/** Lifecycle events, for logs, metrics and for sockets to tell their clients. */
export interface RoomLifecycleEvents {
  /** fresh: started from the database as nobody's there; restarted: replaces a crashed instance. */
  room_started: { roomId: string, fresh: boolean, restarted: boolean }
  /** The room stopped running here; with a cluster, also sent where it only had sockets when it ends everywhere. */
  room_stopped: { roomId: string, reason: StopReason }
  /** The room threw; it is restarted unless this makes a crash loop. Sockets should send phx_error. */
  room_crashed: { roomId: string, error: unknown }
  /** Too many crashes: the room was stopped. `error.cause` is the last crash. */
  room_crash_loop: { roomId: string, error: InstanceType<typeof Errors.RoomCrashLoop> }
}

export type LifecycleListener<K extends keyof RoomLifecycleEvents> = (event: RoomLifecycleEvents[K]) => void

export interface StartedRoom {
  /**
   * The running instance: valid until the room restarts or stops, so keep the id, not this.
   * Null when another process runs the room (cluster).
   */
  room: RoomServer | null
  /** True when this call started the room. */
  fresh: boolean
}

export interface RoomStats extends RoomServerStats {
  roomId: string
  status: RoomStatus
  /** Connected members, as reported by memberJoined / memberLeft. */
  members: number
  /** Restarts after crashes since the room was started. */
  restarts: number
  /** Subscribers of `room:<id>` (sockets) in this process. */
  subscribers: number
}

interface Supervised {
  members: number
  restarts: number
  /** Times of recent crashes, for the restart intensity. */
  crashes: number[]
  idleTimer: unknown
  /** Cluster: the lease while the room runs here, null while another process runs it. */
  lease: Lease | null
  /** When the lease was last known to be held (clock time). */
  heldAt: number
  /** Stops answering other processes' calls about the room. */
  stopServing: (() => void) | null
  /** The room's events since it crashed, for the instance restarting it. */
  held: HeldMessages | null
}

const supervisedEntry = (): Supervised =>
  ({ members: 0, restarts: 0, crashes: [], idleTimer: null, lease: null, heldAt: 0, stopServing: null, held: null })

/** Cluster control messages, to every process. */
const CONTROL_TOPIC = 'rooms_control'
interface ControlMessage { from: string, roomId: string, reason: StopReason | 'running' }

const serverName = (roomId: string): string => `room_server:${roomId}`

/**
 * Starts, stops and restarts room servers (a DynamicSupervisor with one_for_one restarts:
 * a crashing room is restarted alone). Every lifecycle change of one room runs in turn, so
 * concurrent start / stop / restart / idle calls for a room never interleave.
 *
 * With a cluster, a room runs only in the process holding its lease; the others supervise it
 * too (members, idle) without running it, and take the lease over when it comes free while they
 * have members: the room then continues from the database (see #tryToRun).
 */
export class RoomsSupervisor {
  readonly #o: RoomsSupervisorOptions
  readonly #supervised = new Map<string, Supervised>()
  readonly #turns = new Map<string, Promise<unknown>>()
  readonly #listeners = new Map<keyof RoomLifecycleEvents, Set<(event: never) => void>>()
  #closing = false
  #ticker: unknown = null
  #stopControl: (() => void) | null = null

  constructor (options: RoomsSupervisorOptions) {
    this.#o = options
    const { cluster } = options
    if (cluster) {
      this.#stopControl = options.pubsub.subscribe(CONTROL_TOPIC, (message) => this.#controlled(message as ControlMessage))
      this.#scheduleTick(cluster)
    }
  }

  /**
   * Starts the room unless it runs already (concurrent calls start it once). On a fresh start
   * a non-persistent room goes back to its initial snapshot, a persistent one continues as
   * stored, and in both leftover avatars are soft-deleted as nobody is connected yet. With a
   * cluster, the room runs here only if its lease is free (else `room` is null).
   * Rejects with XR_ERR_ROOM_NOT_FOUND, or XR_ERR_ROOM_RUNTIME_CLOSED once closing.
   */
  startRoom (roomId: string): Promise<StartedRoom> {
    if (this.#closing) return Promise.reject(new Errors.RoomRuntimeClosed())
    return this.#inTurn(roomId, async () => {
      if (this.#closing) throw new Errors.RoomRuntimeClosed()
      const { cluster } = this.#o
      const running = this.room(roomId)
      if (running) {
        this.#armIdle(roomId)
        return { room: running, fresh: false }
      }
      const known = this.#supervised.get(roomId)
      if (cluster && known) {
        // Another process ran it at the last look; its lease may be free by now.
        const started = await this.#tryToRun(roomId, known, cluster)
        this.#armIdle(roomId)
        return { room: this.room(roomId) ?? null, fresh: started }
      }
      const record = await this.#o.store.getRoom(roomId)
      if (!record) throw new Errors.RoomNotFound(roomId)
      // Supervised before it runs, so that even its very first crash is seen.
      const supervised = supervisedEntry()
      this.#supervised.set(roomId, supervised)
      if (cluster) {
        let started: boolean
        try {
          started = await this.#tryToRun(roomId, supervised, cluster)
        } catch (err) {
          this.#forget(roomId, supervised)
          throw err
        }
        this.#armIdle(roomId)
        return { room: this.room(roomId) ?? null, fresh: started }
      }
      try {
        await this.#freshWorld(roomId, record)
      } catch (err) {
        this.#forget(roomId, supervised)
        throw err
      }
      const room = await this.#launch(roomId, false)
      this.#armIdle(roomId)
      this.#o.logger.info({ roomId }, 'room started')
      this.#emit('room_started', { roomId, fresh: true, restarted: false })
      return { room, fresh: true }
    })
  }

  /**
   * Emits and writes what is pending, then stops the room. Resolves false when it was not
   * running here. With a cluster, a `requested` stop (the room is deleted) goes to every
   * process: wherever it runs or has sockets, it stops.
   */
  stopRoom (roomId: string, reason: StopReason = 'requested'): Promise<boolean> {
    const { cluster } = this.#o
    if (cluster && ENDS_EVERYWHERE.has(reason)) this.#announceEnd(cluster, roomId, reason)
    return this.#inTurn(roomId, () => this.#stopHere(roomId, reason))
  }

  /**
   * Hands a room event to the room: directly when it runs in this process (held, in order, while
   * it restarts after a crash), else on `room_stream:<id>` to the process running it. The event
   * is frozen: the room keeps parts of it in its world. Dropped once the runtime is closing.
   */
  async dispatch (roomId: string, event: RoomEvent): Promise<void> {
    if (this.#closing) {
      this.#o.logger.debug({ roomId, event: event.event }, 'runtime closing: room event dropped')
      return
    }
    const frozen = deepFreeze(event)
    const held = this.#supervised.get(roomId)?.held
    if (held) {
      held.hold(frozen)
      return
    }
    const room = this.room(roomId)
    if (room?.status === 'running') {
      room.handle(frozen)
      return
    }
    await this.#o.pubsub.broadcast(topics.roomStream(roomId), frozen)
  }

  /** Emits the room's pending changes now and resolves when everything is written. */
  async flush (roomId: string): Promise<void> {
    const room = this.room(roomId)
    if (!room) return
    try {
      await room.entitiesDiff.flush()
    } catch (err) {
      room.crash(err)
      throw err
    }
    await room.entitiesState.drain()
  }

  /**
   * The room's world now, changes not yet emitted included (from the running room's memory;
   * else from the process running it, else the database). For a joining socket: subscribe to
   * `room:<id>` first, then read this; diffs received meanwhile may repeat what it includes,
   * which applying again does not change.
   */
  async entities (roomId: string): Promise<EntityMap> {
    const room = this.room(roomId)
    if (!room) return await this.#fromOwner(roomId, 'entities', () => this.#o.store.entities(roomId))
    return room.world.snapshot()
  }

  /** The components a user joining the room starts with (see user-snapshot.ts). */
  resumeComponents (roomId: string, userId: string): Promise<Components> {
    const room = this.room(roomId)
    if (room) return room.userSnapshot.resumeComponents(userId)
    return this.#fromOwner(roomId, 'resumeComponents', () => resumeComponents(this.#o.store, roomId, userId), userId)
  }

  /** A socket joined the room: it is not idle. Ignored when the room is not supervised here. */
  memberJoined (roomId: string): void {
    const supervised = this.#supervised.get(roomId)
    if (!supervised) return
    supervised.members++
    this.#cancelIdle(supervised)
  }

  /** A socket left; when none is left the idle timeout starts. */
  memberLeft (roomId: string): void {
    const supervised = this.#supervised.get(roomId)
    if (!supervised) return
    supervised.members = Math.max(0, supervised.members - 1)
    this.#armIdle(roomId)
  }

  /** The running instance of the room, if any. */
  room (roomId: string): RoomServer | undefined {
    return this.#o.registry.lookup(serverName(roomId))
  }

  on<K extends keyof RoomLifecycleEvents> (event: K, listener: LifecycleListener<K>): () => void {
    let listeners = this.#listeners.get(event)
    if (!listeners) this.#listeners.set(event, listeners = new Set())
    listeners.add(listener)
    return () => listeners.delete(listener)
  }

  stats (): RoomStats[] {
    const stats: RoomStats[] = []
    for (const [roomId, supervised] of this.#supervised) {
      const room = this.room(roomId)
      if (!room) continue
      stats.push({
        roomId,
        status: room.status,
        members: supervised.members,
        restarts: supervised.restarts,
        subscribers: this.#o.pubsub.subscriberCount(topics.room(roomId)),
        ...room.stats()
      })
    }
    return stats
  }

  get closing (): boolean {
    return this.#closing
  }

  /** True when other processes may run this process's rooms (a cluster). */
  get clustered (): boolean {
    return this.#o.cluster !== undefined
  }

  /** Refuses new rooms and events, then stops every room, writing all pending diffs. */
  async close (): Promise<void> {
    this.#closing = true
    if (this.#ticker !== null) this.#o.clock.clearTimeout(this.#ticker)
    this.#ticker = null
    this.#stopControl?.()
    const roomIds = new Set([...this.#supervised.keys(), ...this.#turns.keys()])
    await Promise.all([...roomIds].map((roomId) => this.stopRoom(roomId, 'shutdown')))
  }

  /** `resync`: entities to send to every client again as creates, before any event is taken. */
  async #launch (roomId: string, recover: boolean, resync?: EntityMap): Promise<RoomServer> {
    const lease = this.#supervised.get(roomId)?.lease ?? null
    const room: RoomServer = new RoomServer({
      roomId,
      store: lease ? this.#fenced(lease) : this.#o.store,
      pubsub: this.#o.pubsub,
      clock: this.#o.clock,
      logger: this.#o.logger,
      syncIntervalMs: this.#o.syncIntervalMs,
      persistence: this.#o.persistence,
      mutations: this.#o.mutations,
      onEvent: this.#o.onRoomEvent,
      onCrash: (error) => this.#crashed(room, error)
    })
    // Before registering: events arriving during the load would be overwritten by it.
    await room.load(recover)
    this.#o.registry.register(serverName(roomId), room)
    if (resync) room.entitiesDiff.add(Object.entries(resync).map(([entityId, components]): Mutation => ({ op: 'create', entityId, components })))
    // In one go with start(): events held during a restart come first, then the live ones.
    const supervised = this.#supervised.get(roomId)
    const held = supervised?.held?.take() ?? []
    if (supervised) supervised.held = null
    room.start()
    for (const message of held) room.handle(message)
    return room
  }

  async #stop (room: RoomServer, reason: StopReason): Promise<void> {
    const supervised = this.#supervised.get(room.id)
    if (supervised) this.#cancelIdle(supervised)
    await room.close()
    if (supervised) await this.#release(room.id, supervised)
    this.#supervised.delete(room.id)
    this.#o.logger.info({ roomId: room.id, reason }, 'room stopped')
    this.#emit('room_stopped', { roomId: room.id, reason })
  }

  async #stopHere (roomId: string, reason: StopReason): Promise<boolean> {
    const room = this.room(roomId)
    if (room) {
      await this.#stop(room, reason)
      return true
    }
    // Served here, run elsewhere: the sockets here go when the room ends everywhere.
    const supervised = this.#supervised.get(roomId)
    if (supervised && this.#o.cluster) {
      this.#forget(roomId, supervised)
      if (ENDS_EVERYWHERE.has(reason)) this.#emit('room_stopped', { roomId, reason })
    }
    return false
  }

  /** Stops supervising a room that does not run here. */
  #forget (roomId: string, supervised: Supervised): void {
    this.#cancelIdle(supervised)
    if (this.#supervised.get(roomId) === supervised) this.#supervised.delete(roomId)
  }

  /** A fresh start, nobody being in the room: back to the initial snapshot unless persistent; no avatars. */
  async #freshWorld (roomId: string, record: { persistent: boolean }): Promise<void> {
    if (!record.persistent) await this.#o.store.replaceEntitiesWithInitialSnapshot(roomId)
    await this.#o.store.softDeleteEntitiesHavingComponent(roomId, 'avatar')
  }

  #crashed (room: RoomServer, error: unknown): void {
    const supervised = this.#supervised.get(room.id)
    if (!supervised) return
    const now = this.#o.clock.now()
    supervised.crashes = supervised.crashes.filter((at) => now - at < this.#o.restartWindowMs)
    supervised.crashes.push(now)
    this.#o.logger.error({ err: error, roomId: room.id }, 'room crashed')
    // From now until the restart: moves, leaves and joins sent meanwhile wait for the new instance.
    supervised.held ??= holdMessages(this.#o.pubsub, topics.roomStream(room.id))
    this.#emit('room_crashed', { roomId: room.id, error })
    this.#inTurn(room.id, () => this.#restart(room, supervised, error))
      .catch((err: unknown) => this.#o.logger.error({ err, roomId: room.id }, 'restarting the room failed'))
      .finally(() => {
        // Not restarted here (stopped, given up, run elsewhere now): nobody takes what was held.
        supervised.held?.take()
        supervised.held = null
      })
  }

  // The crashed instance is closed first: what it still holds is emitted and written, so
  // the new instance recovers its users from an up-to-date database.
  async #restart (room: RoomServer, supervised: Supervised, error: unknown): Promise<void> {
    if (this.room(room.id) !== room) return
    if (this.#o.cluster && supervised.lease === null) return
    if (this.#closing) {
      await this.#stop(room, 'shutdown')
      return
    }
    if (supervised.crashes.length > this.#o.maxRestarts) {
      if (this.#o.cluster) this.#announceEnd(this.#o.cluster, room.id, 'crash_loop')
      await this.#stop(room, 'crash_loop')
      const loop = new Errors.RoomCrashLoop(room.id)
      loop.cause = error
      this.#o.logger.error({ err: loop, roomId: room.id }, 'room crash loop: stopped')
      this.#emit('room_crash_loop', { roomId: room.id, error: loop })
      return
    }
    await room.close()
    try {
      await this.#launch(room.id, true)
    } catch (err) {
      this.#cancelIdle(supervised)
      await this.#release(room.id, supervised)
      this.#supervised.delete(room.id)
      if (this.#o.cluster) this.#announceEnd(this.#o.cluster, room.id, 'restart_failed')
      this.#emit('room_stopped', { roomId: room.id, reason: 'restart_failed' })
      throw err
    }
    supervised.restarts++
    this.#emit('room_started', { roomId: room.id, fresh: false, restarted: true })
  }

  #armIdle (roomId: string): void {
    const supervised = this.#supervised.get(roomId)
    if (!supervised || supervised.members > 0) return
    this.#cancelIdle(supervised)
    supervised.idleTimer = this.#o.clock.setTimeout(() => {
      supervised.idleTimer = null
      this.#inTurn(roomId, async () => {
        // Someone came back, or the countdown restarted, while this waited for its turn.
        if (this.#supervised.get(roomId) !== supervised || supervised.members > 0 || supervised.idleTimer !== null) return
        const room = this.room(roomId)
        if (!room) {
          this.#forget(roomId, supervised)
          return
        }
        const { cluster } = this.#o
        if (cluster && (await cluster.presentUsers(roomId)).length > 0) {
          // Nobody here, but people elsewhere, served from this process: it keeps running.
          this.#armIdle(roomId)
          return
        }
        await this.#stop(room, 'idle')
      }).catch((err: unknown) => this.#o.logger.error({ err, roomId }, 'stopping an idle room failed'))
    }, this.#o.idleTimeoutMs)
  }

  #cancelIdle (supervised: Supervised): void {
    if (supervised.idleTimer === null) return
    this.#o.clock.clearTimeout(supervised.idleTimer)
    supervised.idleTimer = null
  }

  // --- Cluster: leases, takeover, calls to the owner ---

  /**
   * Runs the room here if its lease is free. Recovers from the database when people are in
   * the room already (another process ran it and died, or handed it over), starting fresh
   * otherwise. Resolves whether the room runs here now.
   */
  async #tryToRun (roomId: string, supervised: Supervised, cluster: SupervisorCluster): Promise<boolean> {
    if (supervised.lease) return false
    const checkedAt = this.#o.clock.now()
    const lease = await cluster.leases.acquire(roomId)
    if (!lease) return false
    try {
      const claim = this.#o.store.claimRoom
      if (!claim) throw new TypeError('room runtime: a cluster needs a store with claimRoom')
      const newest = await claim.call(this.#o.store, roomId, lease.token)
      if (newest !== lease.token) {
        // Redis lost the token counter; the next lease will be newer than the database's.
        this.#o.logger.warn({ roomId, token: lease.token, newest }, 'lease token older than the database\'s: raising it')
        await cluster.leases.raiseTokenAbove(roomId, newest)
        await cluster.leases.release(lease)
        return false
      }
      const present = new Set((await cluster.presentUsers(roomId)).map((user) => user.userId))
      const takeover = present.size > 0
      if (!takeover) {
        const record = await this.#o.store.getRoom(roomId)
        if (!record) throw new Errors.RoomNotFound(roomId)
        await this.#freshWorld(roomId, record)
      }
      supervised.lease = lease
      supervised.heldAt = checkedAt
      // A takeover: clients saw diffs the database may lack (the last ones of a dead owner), so
      // the world as stored goes to everyone again, but for avatars of people who are gone.
      const world = takeover ? await this.#o.store.entities(roomId) : {}
      const resync = Object.fromEntries(Object.entries(world).filter(([id, components]) => !('avatar' in components) || present.has(id)))
      const room = await this.#launch(roomId, takeover, takeover ? resync : undefined)
      supervised.stopServing = cluster.calls.serve(roomId, {
        entities: () => this.entities(roomId),
        resumeComponents: (userId) => this.resumeComponents(roomId, userId)
      })
      if (takeover) await this.#reconcile(room, world, cluster)
      this.#o.logger.info({ roomId, token: lease.token, takeover }, 'running the room here')
      this.#emit('room_started', { roomId, fresh: !takeover, restarted: false })
      return true
    } catch (err) {
      supervised.lease = null
      supervised.stopServing?.()
      supervised.stopServing = null
      this.room(roomId)?.abandon()
      await cluster.leases.release(lease).catch(() => {})
      throw err
    }
  }

  /**
   * After a takeover, `world` being the stored one: avatars of people who left while nobody ran
   * the room leave, and people whose user_joined went to nobody join.
   */
  async #reconcile (room: RoomServer, world: EntityMap, cluster: SupervisorCluster): Promise<void> {
    // Once a broadcast of ours is out, our subscription to the room's events is in effect (see
    // RedisPubSub): whoever changes presence after the read below is heard by the room.
    const announcement: ControlMessage = { from: cluster.processId, roomId: room.id, reason: 'running' }
    await this.#o.pubsub.broadcast(CONTROL_TOPIC, announcement)
    const here = new Map((await cluster.presentUsers(room.id)).map((user) => [user.userId, user.username]))
    for (const [userId, components] of Object.entries(world)) {
      if ('avatar' in components && !here.has(userId)) await this.dispatch(room.id, { event: 'user_left', payload: { user_id: userId } })
    }
    for (const [userId, username] of here) {
      if (world[userId]?.avatar !== undefined) continue
      const components = await room.userSnapshot.resumeComponents(userId)
      await this.dispatch(room.id, { event: 'user_joined', payload: { ...components, username, user_id: userId } })
    }
  }

  /** Renews the lease; when it is lost, the room stops here at once (another process may run it). */
  async #renew (roomId: string, supervised: Supervised, cluster: SupervisorCluster): Promise<void> {
    const lease = supervised.lease
    if (!lease) return
    const checkedAt = this.#o.clock.now()
    let held: boolean
    try {
      held = await cluster.leases.renew(lease)
    } catch (err) {
      // Unknown: keep running while the lease cannot have expired yet.
      held = this.#o.clock.now() - supervised.heldAt < cluster.leases.ttlMs
      this.#o.logger.warn({ err, roomId, held }, 'could not renew the room lease')
    }
    if (supervised.lease !== lease) return
    if (held) supervised.heldAt = Math.max(supervised.heldAt, checkedAt)
    else this.#leaseLost(roomId, supervised)
  }

  /** Another process runs the room now: stop without writing (its writes would be refused). */
  #leaseLost (roomId: string, supervised: Supervised): void {
    supervised.lease = null
    supervised.stopServing?.()
    supervised.stopServing = null
    const room = this.room(roomId)
    const unwritten = room?.abandon() ?? 0
    this.#o.logger.error({ roomId, unwritten }, 'lost the room lease: the room runs elsewhere now')
    this.#emit('room_stopped', { roomId, reason: 'lease_lost' })
  }

  async #release (roomId: string, supervised: Supervised): Promise<void> {
    const lease = supervised.lease
    supervised.lease = null
    supervised.stopServing?.()
    supervised.stopServing = null
    if (!lease || !this.#o.cluster) return
    try {
      await this.#o.cluster.leases.release(lease)
    } catch (err) {
      this.#o.logger.warn({ err, roomId }, 'could not release the room lease; it expires on its own')
    }
  }

  /** A store whose writes carry the lease's fencing token; a refused write means the lease is gone. */
  #fenced (lease: Lease): SupervisorStore {
    const store = this.#o.store
    return Object.create(store, {
      updateEntities: {
        value: async (roomId: string, diff: EntitiesDiff) => {
          try {
            await store.updateEntities(roomId, diff, { leaseToken: lease.token })
          } catch (err) {
            // At once, not in the room's turn: a stop in progress may be draining this very write,
            // which would be retried for ever.
            const supervised = this.#supervised.get(roomId)
            if (err instanceof Errors.RoomLeaseLost && supervised?.lease === lease) this.#leaseLost(roomId, supervised)
            throw err
          }
        }
      }
    }) as SupervisorStore
  }

  /** Asks the process running the room; falls back to `local` when there is none or it is silent. */
  async #fromOwner<T> (roomId: string, method: OwnerMethod, local: () => Promise<T>, ...args: string[]): Promise<T> {
    const { cluster } = this.#o
    if (!cluster || !this.#supervised.has(roomId)) return await local()
    try {
      return await cluster.calls.call(roomId, method, ...args) as T
    } catch (err) {
      this.#o.logger.warn({ err, roomId, method }, 'no answer from the process running the room: reading the database')
      return await local()
    }
  }

  #scheduleTick (cluster: SupervisorCluster): void {
    this.#ticker = this.#o.clock.setTimeout(() => {
      void this.#tick(cluster).finally(() => {
        if (!this.#closing) this.#scheduleTick(cluster)
      })
    }, cluster.renewIntervalMs)
  }

  async #tick (cluster: SupervisorCluster): Promise<void> {
    await Promise.allSettled([...this.#supervised].map(([roomId, supervised]) => this.#inTurn(roomId, async () => {
      if (this.#closing || this.#supervised.get(roomId) !== supervised) return
      if (supervised.lease) await this.#renew(roomId, supervised, cluster)
      // Only where someone is, so that a room nobody is in is not revived.
      else if (supervised.members > 0) await this.#tryToRun(roomId, supervised, cluster)
    }).catch((err: unknown) => this.#o.logger.error({ err, roomId }, 'room lease upkeep failed'))))
  }

  #announceEnd (cluster: SupervisorCluster, roomId: string, reason: StopReason): void {
    const message: ControlMessage = { from: cluster.processId, roomId, reason }
    Promise.resolve(this.#o.pubsub.broadcast(CONTROL_TOPIC, message))
      .catch((err: unknown) => this.#o.logger.error({ err, roomId }, 'could not tell the other processes that the room ended'))
  }

  #controlled (message: ControlMessage): void {
    const { cluster } = this.#o
    if (!cluster || message?.from === cluster.processId || typeof message?.roomId !== 'string') return
    const { reason } = message
    if (reason === 'running' || !ENDS_EVERYWHERE.has(reason)) return
    this.#inTurn(message.roomId, () => this.#stopHere(message.roomId, reason))
      .catch((err: unknown) => this.#o.logger.error({ err, roomId: message.roomId }, 'stopping a room ended elsewhere failed'))
  }

  #inTurn<T> (roomId: string, operation: () => Promise<T>): Promise<T> {
    const previous = this.#turns.get(roomId) ?? Promise.resolve()
    const result = previous.then(operation)
    const turn = result.then(() => {}, () => {})
    this.#turns.set(roomId, turn)
    void turn.then(() => {
      if (this.#turns.get(roomId) === turn) this.#turns.delete(roomId)
    })
    return result
  }

  #emit<K extends keyof RoomLifecycleEvents> (event: K, data: RoomLifecycleEvents[K]): void {
    for (const listener of this.#listeners.get(event) ?? []) {
      try {
        (listener as LifecycleListener<K>)(data)
      } catch (err) {
        this.#o.logger.error({ err, event }, 'a room lifecycle listener failed')
      }
    }
  }
}
