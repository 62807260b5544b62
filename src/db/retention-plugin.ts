import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { Retention, type RetentionReport } from './retention.ts'

export interface RetentionPluginOptions {
  /** Chat messages kept per room (CHAT_HISTORY_LIMIT). */
  chatHistoryLimit: number
  /** How long a departed user's avatar is kept: the socket token lifetime (14 days). */
  avatarRetentionMs?: number
  /** How often a pass runs (default 10 minutes); the first runs one interval after start. */
  intervalMs?: number
  /** Wall-clock time in ms since the epoch (injectable for tests). */
  now?: () => number
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Runs one retention pass now (the interval runs them too). */
    retention: { runOnce: () => Promise<RetentionReport> }
  }
}

const DAY_MS = 24 * 60 * 60 * 1000
export const AVATAR_RETENTION_MS = 14 * DAY_MS
const DEFAULT_INTERVAL_MS = 10 * 60 * 1000

/**
 * A periodic pass that purges departed users' avatars and caps each room's chat. Every process
 * may run it: both deletes are idempotent. A failed pass is logged and tried at the next interval.
 */
async function retentionPlugin (fastify: FastifyInstance, opts: RetentionPluginOptions): Promise<void> {
  const { chatHistoryLimit, avatarRetentionMs = AVATAR_RETENTION_MS, intervalMs = DEFAULT_INTERVAL_MS, now = Date.now } = opts
  if (!Number.isSafeInteger(chatHistoryLimit) || chatHistoryLimit < 1) throw new TypeError(`retention: "chatHistoryLimit" must be a whole number >= 1, got ${String(chatHistoryLimit)}`)
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) throw new TypeError(`retention: "intervalMs" must be a positive number, got ${String(intervalMs)}`)
  const retention = new Retention(fastify.db.prisma)
  let running: Promise<RetentionReport> | null = null

  async function pass (): Promise<RetentionReport> {
    const avatarRows = await retention.purgeDepartedAvatars(new Date(now() - avatarRetentionMs))
    const chatMessages = await retention.capChatHistory(chatHistoryLimit)
    if (avatarRows + chatMessages > 0) fastify.log.info({ avatarRows, chatMessages }, 'retention pass removed old rows')
    return { avatarRows, chatMessages }
  }
  // One pass at a time, however slow the database.
  const runOnce = async (): Promise<RetentionReport> => {
    running ??= pass().finally(() => { running = null })
    return await running
  }

  const timer = setInterval(() => {
    runOnce().catch((err: unknown) => { fastify.log.warn({ err }, 'retention pass failed') })
  }, intervalMs)
  timer.unref()
  fastify.addHook('onClose', async () => {
    clearInterval(timer)
    await running?.catch(() => {})
  })
  fastify.decorate('retention', { runOnce })
}

export default fp(retentionPlugin, { name: 'retention', fastify: '5.x', dependencies: ['database'] })
