import fp from 'fastify-plugin'
import fastifyRateLimit from '@fastify/rate-limit'
import { Redis } from 'ioredis'
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import { Errors } from '../errors.ts'

export interface RateLimitsOptions {
  /** Room creations per address per `roomCreateWindowMs`. */
  roomCreateLimit: number
  /** Form posts of any kind per address per minute. */
  postLimit: number
  /** Admin sign-in attempts per address per minute. */
  adminSignInLimit?: number
  roomCreateWindowMs?: number
  /** Counts shared by every process (cluster mode); unset: counted in this process. */
  redis?: { url: string, prefix: string }
}

/** A limit to put in a route's onRequest: it refuses with 429 and Retry-After once exceeded. */
export type Limiter = onRequestAsyncHookHandler

declare module 'fastify' {
  interface FastifyInstance {
    rateLimits: { roomCreate: Limiter, adminSignIn: Limiter }
  }
}

const MINUTE_MS = 60_000

/**
 * Per-address request limits (@fastify/rate-limit's counters, in Redis when shared). Every POST
 * of the scope counts against `postLimit`; routes add their own limits from `rateLimits`.
 * Several limits may apply to one request, so each is a counter of its own (createRateLimit),
 * keyed by its name and `request.ip`, which TRUST_PROXY decides.
 */
async function rateLimitsPlugin (fastify: FastifyInstance, opts: RateLimitsOptions): Promise<void> {
  for (const name of ['roomCreateLimit', 'postLimit'] as const) {
    if (!Number.isSafeInteger(opts[name]) || opts[name] < 1) throw new TypeError(`rate limits: "${name}" must be a whole number >= 1, got ${String(opts[name])}`)
  }
  const redis = opts.redis && new Redis(opts.redis.url, { maxRetriesPerRequest: 3, connectionName: `${opts.redis.prefix}rate-limit` })
  if (redis) fastify.addHook('onClose', async () => { await redis.quit() })
  await fastify.register(fastifyRateLimit, {
    global: false,
    // A Redis outage lets requests through rather than taking the pages down with it.
    skipOnError: true,
    ...(redis ? { redis, nameSpace: `${opts.redis!.prefix}rate:` } : {})
  })

  function limiter (name: string, max: number, timeWindow: number): Limiter {
    const check = fastify.createRateLimit({ max, timeWindow, keyGenerator: (request: FastifyRequest) => `${name}:${request.ip}` })
    return async (request: FastifyRequest, reply: FastifyReply) => {
      const result = await check(request)
      if (result.isAllowed || !result.isExceeded) return
      reply.header('retry-after', String(result.ttlInSeconds))
      throw new Errors.RateLimited(waitText(result.ttlInSeconds))
    }
  }

  const posts = limiter('post', opts.postLimit, MINUTE_MS)
  fastify.addHook('onRequest', async (request, reply) => {
    if (request.method === 'POST') await posts.call(fastify, request, reply)
  })
  fastify.decorate('rateLimits', {
    roomCreate: limiter('room-create', opts.roomCreateLimit, opts.roomCreateWindowMs ?? 10 * MINUTE_MS),
    adminSignIn: limiter('admin-sign-in', opts.adminSignInLimit ?? 5, MINUTE_MS)
  })
}

function waitText (seconds: number): string {
  if (seconds < 90) return `${seconds} second${seconds === 1 ? '' : 's'}`
  const minutes = Math.ceil(seconds / 60)
  return `${minutes} minutes`
}

export default fp(rateLimitsPlugin, { name: 'web-rate-limits', fastify: '5.x' })
