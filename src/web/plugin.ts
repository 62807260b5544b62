import fp from 'fastify-plugin'
import fastifyFormbody from '@fastify/formbody'
import type { FastifyInstance } from 'fastify'
import { assertLifecycle, defaultLifecycle, type RoomLifecycle } from './lifecycle.ts'
import type { PubSub } from '../runtime/pubsub.ts'
import { RoomDirectory } from './room-directory.ts'
import { isDatabaseUnavailable } from '../db/unavailable.ts'
import sessionPlugin from './session.ts'
import securityPlugin from './security.ts'
import viewsPlugin from './views.ts'
import { setErrorPages } from './error-pages.ts'
import roomRoutes from './routes/rooms.ts'
import sessionRoutes from './routes/session.ts'
import eventRoutes from './routes/events.ts'
import adminRoutes from './routes/admin.ts'
import rateLimitsPlugin, { type RateLimitsOptions } from './rate-limits.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** Live occupancy and room changes, for the room list; the socket layer reports occupancy. */
    roomDirectory: RoomDirectory
  }
}

export interface WebPluginOptions {
  /**
   * The room runtime's hooks: showing a room starts it, deleting stops it first, the reset
   * button resets it. Default: start/stop do nothing, reset rewrites the stored world
   * (rooms.replaceEntitiesWithInitialSnapshot).
   */
  lifecycle?: RoomLifecycle
  /** Interval of the `/rooms/events` heartbeat comment, in ms (default 15 000). */
  sseHeartbeatMs?: number
  /** Carries room list changes to the other processes serving the rooms (see RoomDirectoryOptions.pubsub). */
  directoryPubsub?: PubSub
  /** Per-address limits; defaults from the config (ROOM_CREATE_LIMIT, POST_RATE_LIMIT). */
  rateLimits?: Partial<RateLimitsOptions>
}

const DEFAULT_SSE_HEARTBEAT_MS = 15_000

interface PagesOptions {
  lifecycle: RoomLifecycle
  heartbeatMs: number
  rateLimits: RateLimitsOptions
}

// Sessions, security headers, views and routes stay in this scope: the socket and any API
// routes registered elsewhere are not touched by them.
async function pages (fastify: FastifyInstance, opts: PagesOptions): Promise<void> {
  await fastify.register(fastifyFormbody)
  await fastify.register(sessionPlugin)
  await fastify.register(securityPlugin)
  await fastify.register(viewsPlugin)
  setErrorPages(fastify)
  await fastify.register(rateLimitsPlugin, opts.rateLimits)
  await fastify.register(roomRoutes, { lifecycle: opts.lifecycle })
  await fastify.register(sessionRoutes)
  await fastify.register(adminRoutes)
  await fastify.register(eventRoutes, { heartbeatMs: opts.heartbeatMs })
}

/**
 * The web front end: room list, room forms, the room page, the visitor's session and the
 * live room list stream. Decorates the root instance with `roomDirectory`, which is
 * visible to every plugin (including ones registered before this one, at request time).
 */
const UNLISTED_RETRY_MS = 5000

async function webPlugin (fastify: FastifyInstance, opts: WebPluginOptions): Promise<void> {
  if (opts.lifecycle !== undefined) assertLifecycle(opts.lifecycle)
  const heartbeatMs = opts.sseHeartbeatMs ?? DEFAULT_SSE_HEARTBEAT_MS
  if (!Number.isFinite(heartbeatMs) || heartbeatMs <= 0) {
    throw new TypeError(`web plugin: "sseHeartbeatMs" must be a positive number of milliseconds, got ${String(opts.sseHeartbeatMs)}`)
  }

  const directory = new RoomDirectory({
    pubsub: opts.directoryPubsub,
    onListenerError: (err, event) => { fastify.log.error({ err, event: event.type }, 'room directory listener failed') },
    onShareError: (err, event) => { fastify.log.warn({ err, event: event.type }, 'room change not shared with the other processes') }
  })
  fastify.decorate('roomDirectory', directory)
  // The server boots during a database outage too (pages answer 503 meanwhile): the unlisted
  // rooms are read when the database answers, retried until it does.
  let retry: NodeJS.Timeout | undefined
  const loadUnlisted = async (): Promise<void> => {
    try {
      directory.addUnlisted(await fastify.rooms.unlistedRoomIds())
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err
      fastify.log.warn({ err }, 'could not read the unlisted rooms yet; retrying')
      retry = setTimeout(() => { void loadUnlisted() }, UNLISTED_RETRY_MS)
      retry.unref()
    }
  }
  await loadUnlisted()
  fastify.addHook('onClose', async () => {
    clearTimeout(retry)
    directory.close()
  })
  await fastify.register(pages, {
    lifecycle: opts.lifecycle ?? defaultLifecycle(fastify.rooms),
    heartbeatMs,
    rateLimits: {
      roomCreateLimit: fastify.config.roomCreateLimit,
      postLimit: fastify.config.postRateLimit,
      ...opts.rateLimits
    }
  })
}

export default fp(webPlugin, { name: 'web', fastify: '5.x', dependencies: ['database'] })
