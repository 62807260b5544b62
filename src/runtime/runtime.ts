import { systemClock, type Clock } from './clock.ts'
import { ClusterOwnership, type ClusterStore, type PresentUser } from './cluster-ownership.ts'
import type { PersistenceOptions } from './entities-state.ts'
import { silentLogger, type Logger } from './logger.ts'
import { MemoryPubSub, type PubSub } from './pubsub.ts'
import { Registry } from './registry.ts'
import { RoomCalls } from './room-calls.ts'
import type { RoomLeases } from './room-leases.ts'
import { LocalOwnership, type RoomOwnership } from './room-ownership.ts'
import type { RoomServer } from './room.ts'
import { RoomsSupervisor, type RoomStats, type SupervisorStore } from './rooms-supervisor.ts'
import { stateMutations, type MutationTable } from './state-mutation.ts'

export interface RoomRuntimeOptions {
  /** The rooms data module (`new Rooms(prisma)`). */
  rooms: SupervisorStore & ClusterStore
  /** Defaults to a MemoryPubSub. */
  pubsub?: PubSub
  /**
   * Several processes serving the same rooms through a shared `pubsub` (a RedisPubSub): each
   * room runs in the one process holding its lease (see cluster-ownership.ts).
   */
  cluster?: RuntimeCluster
  clock?: Clock
  logger?: Logger
  /** How often a room emits its entities_diff. Default 50 ms. */
  syncIntervalMs?: number
  /** How long a room with no members keeps running. Default 5 minutes. */
  idleTimeoutMs?: number
  /** Restart intensity: more than maxRestarts crashes within restartWindowMs stops a room. Default 3 in 5000 ms. */
  maxRestarts?: number
  restartWindowMs?: number
  persistence?: PersistenceOptions
  /** Extra or replacement entries for the state-mutation table. */
  mutations?: MutationTable
  /** Told of every event a running room takes (see RoomServerOptions.onEvent), e.g. for metrics. */
  onRoomEvent?: (event: string) => void
}

export interface RuntimeCluster {
  leases: RoomLeases
  /** Who is in a room now, in every process (presence). */
  presentUsers: (roomId: string) => Promise<PresentUser[]>
  /** Unique among the processes. */
  processId: string
  /** How often leases are renewed and free ones tried. Default: a quarter of the lease TTL. */
  renewIntervalMs?: number
  /** How long a process waits for the room's owner to answer before reading the database. Default 1000 ms. */
  callTimeoutMs?: number
}

export interface RuntimeStats {
  closing: boolean
  /** Names in the registry, one per running room. */
  registered: string[]
  rooms: RoomStats[]
}

function check (name: string, value: unknown, min: number): void {
  if (value === undefined) return
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new TypeError(`room runtime: ${name} must be an integer >= ${min}, got ${String(value)}`)
  }
}

function validate (options: RoomRuntimeOptions): void {
  const rooms = options.rooms as unknown as Record<string, unknown> | undefined
  if (typeof rooms?.updateEntities !== 'function' || typeof rooms.getRoom !== 'function') {
    throw new TypeError('room runtime: the rooms option must be the rooms data module')
  }
  check('syncIntervalMs', options.syncIntervalMs, 1)
  check('idleTimeoutMs', options.idleTimeoutMs, 1)
  check('maxRestarts', options.maxRestarts, 0)
  check('restartWindowMs', options.restartWindowMs, 1)
  check('persistence.maxQueue', options.persistence?.maxQueue, 1)
  check('persistence.maxAttempts', options.persistence?.maxAttempts, 1)
  check('persistence.initialBackoffMs', options.persistence?.initialBackoffMs, 1)
  check('persistence.maxBackoffMs', options.persistence?.maxBackoffMs, 1)
  check('persistence.writeIntervalMs', options.persistence?.writeIntervalMs, 0)
  check('persistence.avatarWriteIntervalMs', options.persistence?.avatarWriteIntervalMs, 0)
  check('cluster.renewIntervalMs', options.cluster?.renewIntervalMs, 1)
  check('cluster.callTimeoutMs', options.cluster?.callTimeoutMs, 1)
  if (options.cluster && !options.pubsub) throw new TypeError('room runtime: a cluster needs the pubsub the processes share')
  if (options.cluster && options.cluster.renewIntervalMs !== undefined && options.cluster.renewIntervalMs * 2 > options.cluster.leases.ttlMs) {
    throw new TypeError('room runtime: cluster.renewIntervalMs must be at most half the lease TTL')
  }
}

/**
 * The realtime side of one app: pubsub, registry and rooms supervisor, owned by an instance
 * (no module state) so every app and every test gets a world of its own.
 */
export class RoomRuntime {
  readonly pubsub: PubSub
  readonly registry = new Registry<RoomServer>()
  readonly supervisor: RoomsSupervisor
  readonly #calls: RoomCalls | null = null
  #closed: Promise<void> | null = null

  /** Throws a TypeError naming the option when an option is invalid. */
  constructor (options: RoomRuntimeOptions) {
    validate(options)
    const logger = options.logger ?? silentLogger
    this.pubsub = options.pubsub ?? new MemoryPubSub({ logger })
    const clock = options.clock ?? systemClock
    const { cluster } = options
    let ownership: RoomOwnership = new LocalOwnership()
    if (cluster) {
      this.#calls = new RoomCalls({ pubsub: this.pubsub, processId: cluster.processId, clock, timeoutMs: cluster.callTimeoutMs ?? 1000, logger })
      ownership = new ClusterOwnership({
        leases: cluster.leases,
        calls: this.#calls,
        store: options.rooms,
        pubsub: this.pubsub,
        presentUsers: cluster.presentUsers,
        renewIntervalMs: cluster.renewIntervalMs ?? Math.max(1, Math.floor(cluster.leases.ttlMs / 4)),
        processId: cluster.processId,
        clock,
        logger
      })
    }
    this.supervisor = new RoomsSupervisor({
      store: options.rooms,
      pubsub: this.pubsub,
      ownership,
      registry: this.registry,
      clock,
      logger,
      syncIntervalMs: options.syncIntervalMs ?? 50,
      idleTimeoutMs: options.idleTimeoutMs ?? 5 * 60_000,
      maxRestarts: options.maxRestarts ?? 3,
      restartWindowMs: options.restartWindowMs ?? 5000,
      persistence: options.persistence ?? {},
      mutations: { ...stateMutations, ...options.mutations },
      onRoomEvent: options.onRoomEvent
    })
  }

  /** Plain data about what runs, for tests and metrics. */
  stats (): RuntimeStats {
    return { closing: this.supervisor.closing, registered: this.registry.names(), rooms: this.supervisor.stats() }
  }

  /** Graceful shutdown: refuse new rooms and events, write every room's pending diffs, stop. */
  close (): Promise<void> {
    this.#closed ??= this.supervisor.close().finally(() => this.#calls?.close())
    return this.#closed
  }
}
