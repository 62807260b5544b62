import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { RuntimeStats } from '../runtime/runtime.ts'
import type { RoomStats } from '../runtime/rooms-supervisor.ts'

/** Where the scrape-time gauges read their numbers; each source left out leaves its gauges out. */
export interface MetricSources {
  /** The room runtime's numbers (`() => app.runtime.stats()`). */
  runtimeStats?: () => RuntimeStats
  /** Open realtime connections (`() => app.phoenix.sockets.size`). */
  socketCount?: () => number
}

/**
 * What the app records as `fastify.metrics`. The recording methods never throw: a metric must
 * not break the room or request that reports it.
 */
export interface OpsMetrics {
  /** The app's own registry (never prom-client's global one), for plugins that add metrics. */
  readonly registry: Registry
  /** One event taken into a room's stream, by name (see RoomServerOptions.onEvent). */
  roomEvent: (event: string) => void
  /** One entities_diff broadcast, `bytes` long once encoded. */
  diffEmitted: (bytes: number) => void
  /** A diff was written to the database `ms` after it was emitted. */
  persistLag: (ms: number) => void
}

interface RoomGauge {
  name: string
  help: string
  value: (stats: RuntimeStats) => number
}

const sum = (rooms: RoomStats[], field: (room: RoomStats) => number): number =>
  rooms.reduce((total, room) => total + field(room), 0)

// Counts kept by each room instance start at 0 with it and leave with it, so their sums can
// fall: they are gauges of the rooms running now, not counters.
const roomGauges: RoomGauge[] = [
  { name: 'xr_runtime_closing', help: '1 while the room runtime shuts down.', value: (s) => s.closing ? 1 : 0 },
  { name: 'xr_rooms_running', help: 'Rooms with a server in this process.', value: (s) => s.rooms.length },
  { name: 'xr_room_members', help: 'Sockets joined to a running room, summed over rooms.', value: (s) => sum(s.rooms, (r) => r.members) },
  { name: 'xr_room_subscribers', help: 'Subscribers of room topics in this process, summed over running rooms.', value: (s) => sum(s.rooms, (r) => r.subscribers) },
  { name: 'xr_room_entities', help: 'Entities in the worlds of the running rooms.', value: (s) => sum(s.rooms, (r) => r.entities) },
  { name: 'xr_room_users', help: 'Users in the running rooms\' snapshots.', value: (s) => sum(s.rooms, (r) => r.users) },
  { name: 'xr_room_restarts', help: 'Crash restarts of the running rooms since each was started.', value: (s) => sum(s.rooms, (r) => r.restarts) },
  { name: 'xr_room_pending_entities', help: 'Entities with a change waiting for the next entities_diff, summed over rooms.', value: (s) => sum(s.rooms, (r) => r.pendingEntities) },
  { name: 'xr_room_diffs_emitted', help: 'entities_diff broadcasts by the running rooms since each was started.', value: (s) => sum(s.rooms, (r) => r.diffsEmitted) },
  { name: 'xr_persistence_queue_depth', help: 'Diffs not yet written to the database, summed over rooms.', value: (s) => sum(s.rooms, (r) => r.queueDepth) },
  { name: 'xr_persistence_oldest_pending_seconds', help: 'Age of the oldest diff not yet written, over all rooms.', value: (s) => Math.max(0, ...s.rooms.map((r) => r.lagMs)) / 1000 },
  { name: 'xr_persistence_writes', help: 'Diffs written by the running rooms since each was started.', value: (s) => sum(s.rooms, (r) => r.writes) },
  { name: 'xr_persistence_write_failures', help: 'Failed diff writes of the running rooms since each was started.', value: (s) => sum(s.rooms, (r) => r.failures) },
  { name: 'xr_persistence_dropped_diffs', help: 'Diffs the running rooms gave up writing (rejected as invalid data).', value: (s) => sum(s.rooms, (r) => r.dropped) },
  { name: 'xr_persistence_merged_diffs', help: 'Diffs the running rooms merged into others as their queue was full.', value: (s) => sum(s.rooms, (r) => r.merged) }
]

/** A registry of the app's own: process metrics, scrape-time gauges read from `sources`, and recorders. */
export function createMetrics (sources: MetricSources): OpsMetrics {
  const registry = new Registry()
  const registers = [registry]
  // Unprefixed (process_*, nodejs_*), as stock Node.js dashboards expect.
  collectDefaultMetrics({ register: registry })

  // Gauges need no variable: the registry holds them and calls collect() at each scrape.
  const { runtimeStats, socketCount } = sources
  if (socketCount) {
    new Gauge({ name: 'xr_sockets_open', help: 'Open realtime (Phoenix) connections.', registers, collect () { this.set(socketCount()) } })
  }
  if (runtimeStats) {
    for (const { name, help, value } of roomGauges) {
      new Gauge({ name, help, registers, collect () { this.set(value(runtimeStats())) } })
    }
  }

  const events = new Counter({ name: 'xr_room_events_total', help: 'Events taken by the rooms running here, by event.', labelNames: ['event'], registers })
  const diffBytes = new Histogram({
    name: 'xr_entities_diff_bytes',
    help: 'Size of each entities_diff broadcast, encoded.',
    buckets: [64, 256, 1024, 4096, 16384, 65536, 262144],
    registers
  })
  const persistDelay = new Histogram({
    name: 'xr_persistence_delay_seconds',
    help: 'Time from a diff\'s emission to its write in the database.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers
  })

  // Negative values come from clocks moved back; they count as 0 rather than skew the sums.
  const amount = (value: number): number | null => Number.isFinite(value) ? Math.max(0, value) : null
  return {
    registry,
    roomEvent: (event) => events.inc({ event }),
    diffEmitted: (bytes) => {
      const value = amount(bytes)
      if (value !== null) diffBytes.observe(value)
    },
    persistLag: (ms) => {
      const value = amount(ms)
      if (value !== null) persistDelay.observe(value / 1000)
    }
  }
}
