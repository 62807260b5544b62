import type { EntityMap } from '../shared/world.ts'
import type { Clock } from './clock.ts'
import { EntitiesDiffServer } from './entities-diff.ts'
import { EntitiesStateServer, type DiffStore, type PersistenceOptions, type PersistenceStats } from './entities-state.ts'
import { grabRefusal, releasesOnLeaving } from './holdables.ts'
import { RoomWorld } from './room-world.ts'
import type { Logger } from './logger.ts'
import type { PubSub } from './pubsub.ts'
import type { Stoppable } from './registry.ts'
import { isRoomEvent, toMutations, type MutationTable } from './state-mutation.ts'
import { topics } from './topics.ts'
import { UserSnapshot, type UserStore } from './user-snapshot.ts'

/** What a running room needs from the rooms data module. */
export type RoomStore = DiffStore & UserStore & {
  /** The stored world, which a room loads before it takes events. */
  entities: (roomId: string) => Promise<EntityMap>
}

export interface RoomServerOptions {
  roomId: string
  store: RoomStore
  /** Where the room's events come from (`room_stream:<id>`) and its diffs go to sockets (`room:<id>`). */
  pubsub: PubSub
  clock: Clock
  logger: Logger
  syncIntervalMs: number
  persistence: PersistenceOptions
  mutations: MutationTable
  /**
   * Told of each event taken: its name when the mutation table handles it, else "not_handled",
   * "invalid_payload" or "refused" (so that whatever arrives cannot grow a metric's label set).
   */
  onEvent?: (event: string) => void
  /** Called once, on the first error thrown by one of the room's handlers or timers. */
  onCrash: (error: unknown) => void
}

export type RoomStatus = 'created' | 'running' | 'crashed' | 'stopping' | 'stopped'

export interface RoomServerStats extends PersistenceStats {
  /** Entities with a change waiting for the next entities_diff. */
  pendingEntities: number
  diffsEmitted: number
  /** Users in the snapshot. */
  users: number
  /** Entities in the room's world. */
  entities: number
}

/**
 * The processes of one running room: it consumes `room_stream:<id>`, folds events into
 * entities_diff (EntitiesDiffServer), persists those (EntitiesStateServer) and remembers users
 * (UserSnapshot). It knows nothing of its supervisor or registry: it reports its first crash
 * through `onCrash` and takes no more events after it.
 */
export class RoomServer implements Stoppable {
  readonly id: string
  readonly entitiesDiff: EntitiesDiffServer
  readonly entitiesState: EntitiesStateServer
  readonly userSnapshot: UserSnapshot
  readonly world = new RoomWorld()
  readonly #o: RoomServerOptions
  readonly #stopListeners: Array<() => void> = []
  #status: RoomStatus = 'created'
  #unsubscribe: (() => void) | null = null
  #closing: Promise<void> | null = null

  constructor (options: RoomServerOptions) {
    this.#o = options
    this.id = options.roomId
    const { roomId, store, clock, logger } = options
    const crash = (error: unknown): void => this.crash(error)
    const isAvatar = (entityId: string): boolean => {
      const components = this.world.get(entityId)
      return components !== undefined && 'avatar' in components
    }
    this.entitiesState = new EntitiesStateServer({ ...options.persistence, roomId, store, clock, logger, isAvatar })
    this.entitiesDiff = new EntitiesDiffServer({
      roomId,
      pubsub: options.pubsub,
      persist: (diff) => this.entitiesState.enqueue(diff),
      clock,
      syncIntervalMs: options.syncIntervalMs,
      onError: crash
    })
    this.userSnapshot = new UserSnapshot(options.store, options.roomId, this.world)
  }

  get status (): RoomStatus {
    return this.#status
  }

  /**
   * Reads what the room must know before it takes events: its world (`world` when the caller has
   * just read it) and, with `recover` (a restart or takeover), the users still in it.
   */
  async load (recover: boolean, world?: EntityMap): Promise<void> {
    world ??= await this.#o.store.entities(this.id)
    this.world.load(world)
    if (recover) this.userSnapshot.remember(world)
  }

  start (): void {
    if (this.#status !== 'created') return
    this.#status = 'running'
    this.#unsubscribe = this.#o.pubsub.subscribe(topics.roomStream(this.id), (message) => this.handle(message))
  }

  /** Handles one room event: what the room_stream subscription calls. */
  handle (message: unknown): void {
    if (this.#status !== 'running') return
    try {
      if (!isRoomEvent(message)) {
        this.#o.logger.debug({ roomId: this.id, message }, 'ignoring a message that is not a room event')
        return
      }
      const refusal = grabRefusal(this.world, message)
      if (refusal !== null) {
        this.#o.onEvent?.('refused')
        this.#o.logger.debug({ roomId: this.id, event: message.event, refusal }, 'room event refused')
        return
      }
      const result = toMutations(message, this.#o.mutations)
      this.#o.onEvent?.(result.status === 'ok' ? message.event : result.status)
      if (result.status === 'ok') {
        const userId = message.payload.user_id
        const mutations = message.event === 'user_left' && typeof userId === 'string'
          ? [...releasesOnLeaving(this.world, userId), ...result.mutations]
          : result.mutations
        this.world.apply(mutations)
        this.entitiesDiff.add(mutations)
      } else {
        this.#o.logger.debug({ roomId: this.id, event: message.event, status: result.status }, 'room event causes no mutation')
      }
      this.userSnapshot.observe(message)
    } catch (err) {
      this.crash(err)
    }
  }

  /** Stops taking events and reports `error` to the supervisor; only the first crash counts. */
  crash (error: unknown): void {
    if (this.#status !== 'running') return
    this.#status = 'crashed'
    this.#stopIntake()
    this.#o.onCrash(error)
  }

  /**
   * Stops taking events, emits what is pending, waits until every diff is written, then
   * stops. Safe to call more than once, and after a crash (it drains what can be drained).
   */
  close (): Promise<void> {
    this.#closing ??= this.#status === 'stopped' ? Promise.resolve() : this.#close()
    return this.#closing
  }

  /**
   * Stops at once without emitting or writing what is pending: for a room another process runs
   * now, whose writes the database would refuse anyway. Returns the diffs left unwritten.
   */
  abandon (): number {
    if (this.#status === 'stopped') return 0
    this.#status = 'stopping'
    this.#stopIntake()
    this.entitiesDiff.stop()
    const unwritten = this.entitiesState.stats().queueDepth
    this.entitiesState.stop()
    this.#status = 'stopped'
    for (const listener of this.#stopListeners.splice(0)) listener()
    return unwritten
  }

  onStop (listener: () => void): void {
    if (this.#status === 'stopped') listener()
    else this.#stopListeners.push(listener)
  }

  stats (): RoomServerStats {
    return {
      pendingEntities: this.entitiesDiff.pendingEntities,
      diffsEmitted: this.entitiesDiff.emitted,
      users: this.userSnapshot.size,
      entities: this.world.size,
      ...this.entitiesState.stats()
    }
  }

  async #close (): Promise<void> {
    this.#status = 'stopping'
    this.#stopIntake()
    try {
      await this.entitiesDiff.flush()
    } catch (err) {
      this.#o.logger.error({ err, roomId: this.id }, 'could not emit the last entities diff; its changes are lost')
    }
    this.entitiesDiff.stop()
    await this.entitiesState.drain()
    this.entitiesState.stop()
    this.#status = 'stopped'
    for (const listener of this.#stopListeners.splice(0)) listener()
  }

  #stopIntake (): void {
    this.#unsubscribe?.()
    this.#unsubscribe = null
  }
}
