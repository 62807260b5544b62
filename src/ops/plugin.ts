import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { NotReadyReasons, readinessCheck } from './health.ts'
import { createMetrics, type MetricSources, type OpsMetrics } from './metrics.ts'

export interface OpsPluginOptions extends MetricSources {
  /**
   * Resolves when the database answers; /readyz fails when it rejects or takes longer than
   * readinessTimeoutMs. The app passes `() => prisma.$queryRaw\`SELECT 1\``.
   */
  checkDatabase: () => Promise<unknown>
  /** How long /readyz waits for checkDatabase. Default 2000 ms. */
  readinessTimeoutMs?: number
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The app's Prometheus metrics: recorders for the rest of the app (see src/ops/metrics.ts). */
    metrics: OpsMetrics
  }
}

const Healthy = Type.Object({ status: Type.Literal('ok') })
const Ready = Type.Object({ status: Type.Literal('ready') })
const Unavailable = Type.Object({
  status: Type.Literal('unavailable'),
  reason: Type.Union(NotReadyReasons.map((reason) => Type.Literal(reason)))
})

function validate (opts: OpsPluginOptions): Required<Pick<OpsPluginOptions, 'checkDatabase' | 'readinessTimeoutMs'>> {
  const { checkDatabase, readinessTimeoutMs = 2000, runtimeStats, socketCount } = opts
  if (typeof checkDatabase !== 'function') throw new TypeError('ops: checkDatabase must be a function returning a promise')
  if (!Number.isFinite(readinessTimeoutMs) || readinessTimeoutMs <= 0) {
    throw new TypeError(`ops: readinessTimeoutMs must be a positive number, got ${String(readinessTimeoutMs)}`)
  }
  if (runtimeStats !== undefined && typeof runtimeStats !== 'function') throw new TypeError('ops: runtimeStats must be a function')
  if (socketCount !== undefined && typeof socketCount !== 'function') throw new TypeError('ops: socketCount must be a function')
  return { checkDatabase, readinessTimeoutMs }
}

async function ops (fastify: FastifyInstance, opts: OpsPluginOptions): Promise<void> {
  const { checkDatabase, readinessTimeoutMs } = validate(opts)
  const metrics = createMetrics(opts)
  fastify.decorate('metrics', metrics)

  // Probes must fail from the start of shutdown, before connections close (when Fastify's own
  // 503 on closing is off, requests still reach this route).
  let closing = false
  fastify.addHook('preClose', async () => { closing = true })
  const readiness = readinessCheck({
    checkDatabase,
    timeoutMs: readinessTimeoutMs,
    closing: () => closing || opts.runtimeStats?.().closing === true
  })

  // Probes and scrapes come every few seconds: their request logs would drown the rest.
  const logLevel = 'warn'

  fastify.get('/healthz', { logLevel, schema: { response: { 200: Healthy } } }, async () => ({ status: 'ok' as const }))

  fastify.get('/readyz', { logLevel, schema: { response: { 200: Ready, 503: Unavailable } } }, async (request, reply) => {
    const result = await readiness()
    if (result.ready) return { status: 'ready' as const }
    if (result.reason !== 'closing') request.log.warn({ err: result.error, reason: result.reason }, 'not ready')
    reply.code(503)
    return { status: 'unavailable' as const, reason: result.reason }
  })

  fastify.get('/metrics', { logLevel }, async (_request, reply) => {
    reply.type(metrics.registry.contentType)
    return await metrics.registry.metrics()
  })
}

/**
 * Operations endpoints at the root of the app: `GET /healthz` (liveness: the process answers),
 * `GET /readyz` (the database answers and the app is not shutting down; 503 otherwise) and
 * `GET /metrics` (Prometheus text). Decorates `fastify.metrics`. Every app gets a registry of
 * its own, so apps in one process never share values.
 */
export default fp(ops, { name: 'ops', fastify: '5.x' })
