import { randomBytes } from 'node:crypto'
import os from 'node:os'
import fp from 'fastify-plugin'
import { RedisPubSub } from './redis-pubsub.ts'
import { RedisRoomLeases } from './room-leases.ts'
import type { PresentUser } from './cluster-ownership.ts'
import { RoomRuntime, type RoomRuntimeOptions } from './runtime.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** Rooms, their event streams and persistence (see src/runtime/runtime.ts). */
    runtime: RoomRuntime
  }
}

/** Serving rooms together with the other processes that share one Redis and one PostgreSQL. */
export interface RedisRuntimeOptions {
  url: string
  /** Prefix of every key and channel; processes serving the same rooms share it. */
  prefix: string
  /** How long a room's lease lasts without renewal: roughly how long a dead process's rooms wait. */
  leaseTtlMs: number
  /** Who is in a room now, in every process (the shared presence). */
  presentUsers: (roomId: string) => Promise<PresentUser[]>
}

/** `rooms` is required; the rest default as in RoomRuntime. Logs go to `fastify.log`. */
export interface RoomRuntimePluginOptions extends Omit<RoomRuntimeOptions, 'logger' | 'cluster'> {
  /** Opens a RedisPubSub and Redis room leases for the runtime, closed with the app. */
  redis?: RedisRuntimeOptions
}

/**
 * Decorates `fastify.runtime`. Invalid options stop registration with a TypeError naming the
 * option. On close every room's pending changes are written (and, with Redis, its lease given
 * up so another process takes over at once) before the app finishes closing.
 */
export default fp<RoomRuntimePluginOptions>(async (fastify, { redis, ...options }) => {
  const logger = fastify.log.child({ module: 'room-runtime' })
  if (!redis) {
    const runtime = new RoomRuntime({ ...options, logger })
    fastify.decorate('runtime', runtime)
    fastify.addHook('onClose', async () => { await runtime.close() })
    return
  }
  if (typeof redis.url !== 'string' || typeof redis.presentUsers !== 'function') {
    throw new TypeError('room runtime: redis needs a url and presentUsers')
  }
  const processId = `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`
  const pubsub = new RedisPubSub({ url: redis.url, prefix: redis.prefix, logger: fastify.log.child({ module: 'redis-pubsub' }) })
  const leases = new RedisRoomLeases({ url: redis.url, prefix: redis.prefix, holder: processId, ttlMs: redis.leaseTtlMs, logger })
  let runtime: RoomRuntime
  try {
    runtime = new RoomRuntime({ ...options, logger, pubsub, cluster: { leases, processId, presentUsers: redis.presentUsers } })
  } catch (err) {
    await Promise.all([pubsub.close(), leases.close()])
    throw err
  }
  fastify.decorate('runtime', runtime)
  fastify.addHook('onClose', async () => {
    await runtime.close()
    await Promise.all([pubsub.close(), leases.close()])
  })
  logger.info({ processId }, 'serving rooms with the processes sharing Redis')
}, { name: 'room-runtime', fastify: '5.x' })
