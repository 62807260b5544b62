import type { Components, EntitiesDiff, EntityMap } from '../shared/world.ts'
import { Errors } from '../errors.ts'
import type { Clock } from './clock.ts'
import { deepFreeze } from './deep-freeze.ts'
import type { PersistenceOptions } from './entities-state.ts'
import type { Logger } from './logger.ts'
import type { PubSub } from './pubsub.ts'
import type { Registry } from './registry.ts'
import { endsEverywhere, type EndReason, type OwnedRoom, type OwnershipHost, type RoomOwnership } from './room-ownership.ts'
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
}

export interface RoomsSupervisorOptions {
  store: SupervisorStore
  pubsub: PubSub
  /** Whether each room runs in this process (LocalOwnership: always). */
  ownership: RoomOwnership
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
export type StopReason = EndReason | 'idle' | 'shutdown' | 'lease_lost'

/** Lifecycle events, for logs, metrics and for sockets to tell their clients. */
export interface RoomLifecycleEvents {
  /** fresh: started from the database as nobody's there; restarted: replaces a crashed instance. */
  room_started: { roomId: string, fresh: boolean, restarted: boolean }
  /** The room stopped running here; also sent where it only had sockets when it ends everywhere (EndReason). */
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
   * Null when another process runs the room.
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
  /** What the running room writes through, as its ownership gave it (ClusterOwnership fences it); a restart keeps it. */
  store: RoomStore
  /** The room's events since it crashed, for the instance restarting it. */
  held: HeldMessages | null
}

const serverName = (roomId: string): string => `room_server:${roomId}`

/**
 * Starts, stops and restarts room servers (a DynamicSupervisor with one_for_one restarts:
 * a crashing room is restarted alone). Every lifecycle change of one room runs in turn, so
 * concurrent start / stop / restart / idle calls for a room never interleave.
 *
 * Whether a room runs in this process is its ownership's call (see room-ownership.ts): where it
 * does not, the room is supervised all the same (members, idle) and its events go to the
 * process running it.
 */
export class RoomsSupervisor {
  readonly #o: RoomsSupervisorOptions
  readonly #supervised = new Map<string, Supervised>()
  readonly #turns = new Map<string, Promise<unknown>>()
  readonly #listeners = new Map<keyof RoomLifecycleEvents, Set<(event: never) => void>>()
  readonly #detach: () => void
  #closing = false

  constructor (options: RoomsSupervisorOptions) {
    this.#o = options
    this.#detach = options.ownership.attach(this.#host())
  }

  /**
   * Starts the room unless it runs already (concurrent calls start it once). On a fresh start
   * a non-persistent room goes back to its initial snapshot, a persistent one continues as
   * stored, and in both leftover avatars are soft-deleted as nobody is connected yet. The room
   * runs here only if its ownership says so (else `room` is null: another process runs it).
   * Rejects with XR_ERR_ROOM_NOT_FOUND, or XR_ERR_ROOM_RUNTIME_CLOSED once closing.
   */
  startRoom (roomId: string): Promise<StartedRoom> {
    if (this.#closing) return Promise.reject(new Errors.RoomRuntimeClosed())
    return this.#inTurn(roomId, async () => {
      if (this.#closing) throw new Errors.RoomRuntimeClosed()
      const running = this.room(roomId)
      if (running) {
        this.#armIdle(roomId)
        return { room: running, fresh: false }
      }
      // Known: another process ran it at the last look; it may run here by now.
      const known = this.#supervised.get(roomId)
      let record: { persistent: boolean } | null = null
      if (!known) {
        record = await this.#o.store.getRoom(roomId)
        if (!record) throw new Errors.RoomNotFound(roomId)
      }
      // Supervised before it runs, so that even its very first crash is seen.
      const supervised = known ?? this.#supervise(roomId)
      let started: boolean
      try {
        started = await this.#o.ownership.run(this.#owned(roomId, supervised, record))
      } catch (err) {
        if (!known) this.#forget(roomId, supervised)
        throw err
      }
      this.#armIdle(roomId)
      return { room: this.room(roomId) ?? null, fresh: started }
    })
  }

  /**
   * Emits and writes what is pending, then stops the room. Resolves false when it was not
   * running here. A stop that ends the room (EndReason: it is deleted, say) goes to every
   * process: wherever it runs or has sockets, it stops.
   */
  stopRoom (roomId: string, reason: StopReason = 'requested'): Promise<boolean> {
    if (endsEverywhere(reason)) this.#o.ownership.ended(roomId, reason)
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
    if (room) return room.world.snapshot()
    const local = (): Promise<EntityMap> => this.#o.store.entities(roomId)
    return await (this.#supervised.has(roomId) ? this.#o.ownership.askOwner(roomId, 'entities', [], local) : local())
  }

  /** The components a user joining the room starts with (see user-snapshot.ts). */
  resumeComponents (roomId: string, userId: string): Promise<Components> {
    const room = this.room(roomId)
    if (room) return room.userSnapshot.resumeComponents(userId)
    const local = (): Promise<Components> => resumeComponents(this.#o.store, roomId, userId)
    return this.#supervised.has(roomId) ? this.#o.ownership.askOwner(roomId, 'resumeComponents', [userId], local) : local()
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
    return this.#o.ownership.clustered
  }

  /** Refuses new rooms and events, then stops every room, writing all pending diffs. */
  async close (): Promise<void> {
    this.#closing = true
    this.#detach()
    const roomIds = new Set([...this.#supervised.keys(), ...this.#turns.keys()])
    await Promise.all([...roomIds].map((roomId) => this.stopRoom(roomId, 'shutdown')))
  }

  /** What its ownership acts on for one room. `record`: the room's, when just read. */
  #owned (roomId: string, supervised: Supervised, record: { persistent: boolean } | null): OwnedRoom {
    return {
      roomId,
      get occupied () { return supervised.members > 0 },
      startFresh: async (store = this.#o.store) => {
        record ??= await this.#o.store.getRoom(roomId)
        if (!record) throw new Errors.RoomNotFound(roomId)
        return await this.#launch(roomId, supervised, store, false, undefined, await this.#freshWorld(roomId, record.persistent))
      },
      recover: (store, resync) => this.#launch(roomId, supervised, store, true, resync),
      dispatch: (event) => this.dispatch(roomId, event),
      entities: () => this.entities(roomId),
      resumeComponents: (userId) => this.resumeComponents(roomId, userId),
      started: (takeover) => {
        this.#o.logger.info({ roomId }, 'room started')
        this.#emit('room_started', { roomId, fresh: !takeover, restarted: false })
      },
      lost: () => {
        const unwritten = this.room(roomId)?.abandon() ?? 0
        this.#emit('room_stopped', { roomId, reason: 'lease_lost' })
        return unwritten
      }
    }
  }

  #host (): OwnershipHost {
    return {
      eachRoom: async (visit) => {
        await Promise.allSettled([...this.#supervised].map(([roomId, supervised]) => this.#inTurn(roomId, async () => {
          if (this.#closing || this.#supervised.get(roomId) !== supervised) return
          await visit(this.#owned(roomId, supervised, null))
        })))
      },
      endedElsewhere: (roomId, reason) => {
        this.#inTurn(roomId, () => this.#stopHere(roomId, reason))
          .catch((err: unknown) => this.#o.logger.error({ err, roomId }, 'stopping a room ended elsewhere failed'))
      }
    }
  }

  #supervise (roomId: string): Supervised {
    const supervised: Supervised = { members: 0, restarts: 0, crashes: [], idleTimer: null, store: this.#o.store, held: null }
    this.#supervised.set(roomId, supervised)
    return supervised
  }

  /**
   * The world a fresh start begins with, nobody being in the room: back to the initial snapshot
   * unless persistent, and no avatars (soft-deleted, as the user's pose is kept for a return).
   * Read once: the room loads it as it is.
   */
  async #freshWorld (roomId: string, persistent: boolean): Promise<EntityMap> {
    const { store } = this.#o
    const world = persistent ? await store.entities(roomId) : (await store.replaceEntitiesWithInitialSnapshot(roomId)).creates
    const avatars = Object.keys(world).filter((id) => 'avatar' in world[id]!)
    if (avatars.length === 0) return world
    await store.softDeleteEntitiesHavingComponent(roomId, 'avatar')
    return Object.fromEntries(Object.entries(world).filter(([, components]) => !('avatar' in components)))
  }

  /**
   * `resync`: entities to send to every client again as creates, before any event is taken.
   * `world`: the room's world when just read.
   */
  async #launch (roomId: string, supervised: Supervised, store: RoomStore, recover: boolean, resync?: EntityMap, world?: EntityMap): Promise<RoomServer> {
    supervised.store = store
    const room: RoomServer = new RoomServer({
      roomId,
      store,
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
    await room.load(recover, world)
    this.#o.registry.register(serverName(roomId), room)
    if (resync) room.entitiesDiff.add(Object.entries(resync).map(([entityId, components]): Mutation => ({ op: 'create', entityId, components })))
    // In one go with start(): events held during a restart come first, then the live ones.
    const held = supervised.held?.take() ?? []
    supervised.held = null
    room.start()
    for (const message of held) room.handle(message)
    return room
  }

  async #stop (room: RoomServer, reason: StopReason): Promise<void> {
    const supervised = this.#supervised.get(room.id)
    if (supervised) this.#cancelIdle(supervised)
    await room.close()
    await this.#o.ownership.release(room.id)
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
    if (supervised) {
      this.#forget(roomId, supervised)
      if (endsEverywhere(reason)) this.#emit('room_stopped', { roomId, reason })
    }
    return false
  }

  /** Stops supervising a room that does not run here. */
  #forget (roomId: string, supervised: Supervised): void {
    this.#cancelIdle(supervised)
    if (this.#supervised.get(roomId) === supervised) this.#supervised.delete(roomId)
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
    if (this.#closing) {
      await this.#stop(room, 'shutdown')
      return
    }
    if (supervised.crashes.length > this.#o.maxRestarts) {
      this.#o.ownership.ended(room.id, 'crash_loop')
      await this.#stop(room, 'crash_loop')
      const loop = new Errors.RoomCrashLoop(room.id)
      loop.cause = error
      this.#o.logger.error({ err: loop, roomId: room.id }, 'room crash loop: stopped')
      this.#emit('room_crash_loop', { roomId: room.id, error: loop })
      return
    }
    await room.close()
    // Writing what it held may have shown that another process runs the room now.
    if (!this.#o.ownership.runsHere(room.id)) return
    try {
      await this.#launch(room.id, supervised, supervised.store, true)
    } catch (err) {
      this.#cancelIdle(supervised)
      await this.#o.ownership.release(room.id)
      this.#supervised.delete(room.id)
      this.#o.ownership.ended(room.id, 'restart_failed')
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
        if (await this.#o.ownership.peopleElsewhere(roomId)) {
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
