import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { assertDatabaseShareable, loadConfig, type Config } from './config.ts'
import { loggerOptions } from './logger.ts'
import { openDatabase, databaseTarget, type Database } from './db/database.ts'
import databasePlugin from './db/plugin.ts'
import runtimePlugin, { type RoomRuntimePluginOptions } from './runtime/plugin.ts'
import roomChannels, { presentUsers, type RoomChannelsOptions } from './channels/plugin.ts'
import { runtimeLifecycle } from './channels/room-lifecycle.ts'
import opsPlugin from './ops/plugin.ts'
import retentionPlugin, { type RetentionPluginOptions } from './db/retention-plugin.ts'
import webPlugin, { type WebPluginOptions } from './web/plugin.ts'

export interface BuildAppOptions {
  /** Overrides of the environment's configuration. */
  config?: Partial<Config>
  /** An already open database (tests); otherwise the app opens and closes its own. */
  database?: Database
  logger?: FastifyServerOptions['logger']
  /** Options of the web pages plugin; the room lifecycle defaults to the room runtime's. */
  web?: WebPluginOptions
  /** Room runtime settings (sync interval, idle timeout, clock, persistence retries). */
  runtime?: Omit<RoomRuntimePluginOptions, 'rooms'>
  /** Socket settings (rate limits, frame size, heartbeat timeout). */
  channels?: Omit<RoomChannelsOptions, 'secretKeyBase' | 'onOccupancy'>
  /** Avatar purge and chat cap: interval and clock. */
  retention?: Omit<RetentionPluginOptions, 'chatHistoryLimit'>
}

// Fastify understands a hop count but does not type it: the same rule as a function.
const trustHops = (hops: number) => (_address: string, hop: number): boolean => hop < hops

/** Builds the whole server, ready to `inject` or `listen`; it never listens itself. */
export async function buildApp (opts: BuildAppOptions = {}): Promise<FastifyInstance> {
  const config: Config = Object.freeze({ ...loadConfig(), ...opts.config })
  // With Redis, one of several processes. An app handed an open database (tests) stays on its
  // own unless opts.config names the redisUrl.
  const redisUrl = opts.database === undefined || opts.config?.redisUrl !== undefined ? config.redisUrl : undefined
  assertDatabaseShareable({ ...config, redisUrl })
  const app = Fastify({
    logger: loggerOptions(config, opts.logger),
    // X-Forwarded-For is believed only from the proxies TRUST_PROXY names: per-address limits
    // (sockets, rate limits) must count real addresses.
    trustProxy: typeof config.trustProxy === 'number' ? trustHops(config.trustProxy) : config.trustProxy,
    bodyLimit: 64 * 1024,
    // Plugins that read the database at boot (migrations just applied, a cold PGlite) may take a while.
    pluginTimeout: 60_000
  })
  app.decorate('config', config)

  // The embedded database runs in a thread of its own, off the event loop serving the sockets.
  const database = opts.database ?? await openDatabase(databaseTarget(config.databaseUrl, config.dataDir, { thread: true }), {
    onCrash: (err) => app.log.error({ err }, 'the embedded database thread died: restarting it; the queries in flight failed and are retried')
  })
  await app.register(databasePlugin, { database, closeOnShutdown: opts.database === undefined })
  await app.register(retentionPlugin, { chatHistoryLimit: config.chatHistoryLimit, ...opts.retention })
  const redis = redisUrl ? { url: redisUrl, prefix: config.redisPrefix } : undefined
  // Before the rest, which report to `app.metrics`; its gauges read the others only when scraped.
  await app.register(opsPlugin, {
    checkDatabase: () => database.prisma.$queryRaw`SELECT 1`,
    runtimeStats: () => app.runtime.stats(),
    socketCount: () => app.phoenix.sockets.size
  })
  await app.register(runtimePlugin, {
    onRoomEvent: app.metrics.roomEvent,
    ...opts.runtime,
    persistence: { onWritten: app.metrics.persistLag, avatarWriteIntervalMs: config.avatarWriteIntervalMs, ...opts.runtime?.persistence },
    rooms: app.rooms,
    redis: redis && { ...redis, leaseTtlMs: config.roomLeaseMs, presentUsers: (roomId) => presentUsers(app.presence, roomId) }
  })
  await app.register(roomChannels, {
    maxSocketsPerIp: config.maxSocketsPerIp,
    maxChannelsPerSocket: config.maxChannelsPerSocket,
    onFrame: (event, bytes) => { if (event === 'entities_diff') app.metrics.diffEmitted(bytes) },
    ...opts.channels,
    voice: {
      ...opts.channels?.voice,
      ice: { iceServers: config.iceServers, turnSecret: config.turnSecret, turnTtlSeconds: config.turnTtlSeconds, ...opts.channels?.voice?.ice },
      limits: { maxPeers: config.voiceMaxPeers, ...opts.channels?.voice?.limits }
    },
    redis: redis && { ...redis, processTimeoutMs: config.processTimeoutMs },
    secretKeyBase: config.secretKeyBase,
    onOccupancy: (roomId, count) => app.roomDirectory.setOccupancy(roomId, count)
  })
  await app.register(webPlugin, {
    directoryPubsub: redis && app.runtime.pubsub,
    ...opts.web,
    rateLimits: { redis, ...opts.web?.rateLimits },
    lifecycle: opts.web?.lifecycle ?? runtimeLifecycle(app.runtime.supervisor, app.rooms)
  })

  await app.ready()
  return app
}

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
  }
}
