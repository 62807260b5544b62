import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { ChannelContext } from '../phoenix/channel.ts'
import phoenixTransport from '../phoenix/transport.ts'
import type { PresentUser } from '../runtime/cluster-ownership.ts'
import { topics } from '../runtime/topics.ts'
import { Presence, type PresenceDiff, type PresenceTracker } from './presence.ts'
import { RedisPresence } from './redis-presence.ts'
import { RoomChannel, type RoomChannelDeps, type RoomChannelLimits } from './room-channel.ts'
import { RoomFanout } from './room-fanout.ts'
import type { IceSettings } from './voice/ice-servers.ts'
import { DatabaseVoicePolicy, type VoicePolicy } from './voice/policy.ts'
import { Voice, type VoiceLimits } from './voice/voice.ts'
import { DEFAULT_BAN_MS } from './member-session.ts'
import { RoomPolicies } from './room-policy.ts'

export interface RoomChannelsOptions {
  /** Verifies the sockets' user tokens. */
  secretKeyBase: string
  /** Told the number of people in a room whenever it changes. */
  onOccupancy?: (roomId: string, count: number) => void
  limits?: Partial<RoomChannelLimits>
  /** Passed to the transport (see src/phoenix/transport.ts). */
  maxFrameBytes?: number
  heartbeatTimeoutMs?: number
  maxSocketsPerIp?: number
  maxChannelsPerSocket?: number
  longPollWindowMs?: number
  protocolErrors?: { max: number, windowMs: number }
  /** Told of every broadcast frame relayed to this process's sockets (for metrics). */
  onFrame?: (event: string, bytes: number, recipients: number) => void
  /**
   * Presence shared through Redis with the other processes serving the rooms (they share
   * `prefix`); unset keeps it in this process. `processTimeoutMs`: see RedisPresence.
   */
  redis?: { url: string, prefix: string, processTimeoutMs: number }
  /** Voice chat: ICE servers, limits, and who may moderate (default: read from the database). */
  voice?: { ice?: Partial<IceSettings>, limits?: Partial<VoiceLimits>, policy?: VoicePolicy, now?: () => number }
  /** Moderation: how long a kick keeps someone out (default 10 minutes), and the wall clock bans are read with. */
  moderation?: { banMs?: number, now?: () => number }
  /** How long a room's policy stays cached after its last connection here left (RoomPolicies keepMs). */
  policyKeepMs?: number
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Who is online in each `room:<id>` topic: of this process, or of every process with Redis. */
    presence: PresenceTracker
    /** Each room's rules as this process knows them (see room-policy.ts). */
    roomPolicies: RoomPolicies
  }
}

/** Told that a room's occupancy may have changed, in any process: each reads the count itself. */
const OCCUPANCY_TOPIC = 'room_occupancy'

/** Who is in the room, one entry per user (for the runtime, which must not depend on sockets). */
export async function presentUsers (presence: PresenceTracker, roomId: string): Promise<PresentUser[]> {
  return Object.entries(await presence.list(topics.room(roomId)))
    .map(([userId, { metas }]) => ({ userId, username: metas[0]?.username ?? userId }))
}

/**
 * The realtime endpoint: `/socket/websocket` and `/socket/longpoll` speaking Phoenix Channels v2, with `room:<id>`
 * served by RoomChannel over the room runtime (`fastify.runtime`).
 */
async function roomChannels (fastify: FastifyInstance, opts: RoomChannelsOptions): Promise<void> {
  const { runtime, chat } = fastify
  const log = fastify.log.child({ module: 'room-channels' })
  const fanout = new RoomFanout<ChannelContext>(runtime.pubsub, log, opts.onFrame)
  const presence: PresenceTracker = opts.redis ? await sharedPresence(fastify, opts, opts.redis, fanout, log) : new Presence(broadcaster(fastify, log))
  fastify.decorate('presence', presence)
  const voice = new Voice({
    pubsub: runtime.pubsub,
    presence,
    policy: opts.voice?.policy ?? new DatabaseVoicePolicy(fastify.db.prisma),
    ice: { iceServers: [], turnTtlSeconds: 3600, ...opts.voice?.ice },
    limits: opts.voice?.limits,
    now: opts.voice?.now
  })
  const now = opts.moderation?.now ?? Date.now
  const policies = new RoomPolicies({
    loadSettings: async (roomId) => {
      const room = await fastify.rooms.getRoom(roomId)
      return room && { ownerId: room.ownerId, capacity: room.capacity, locked: room.locked, allowGrab: room.allowGrab, allowChat: room.allowChat }
    },
    loadMembers: async (roomId) => await fastify.roomMembers.list(roomId),
    loadBans: async (roomId) => await fastify.roomBans.activeIn(roomId, new Date(now())),
    pubsub: runtime.pubsub,
    logger: log,
    keepMs: opts.policyKeepMs
  })
  fastify.decorate('roomPolicies', policies)
  // The web side announces every change to a room's settings through the room directory (in every process).
  let stopHearing = (): void => {}
  fastify.addHook('onReady', async () => {
    if (!fastify.hasDecorator('roomDirectory')) return
    stopHearing = fastify.roomDirectory.subscribe((event) => {
      if (event.type === 'room_updated') policies.refresh(event.room.id)
      else if (event.type === 'room_deleted') policies.refresh(event.room_id)
    })
  })
  fastify.addHook('onClose', async () => {
    stopHearing()
    policies.close()
  })
  const banMs = opts.moderation?.banMs ?? DEFAULT_BAN_MS
  if (!Number.isSafeInteger(banMs) || banMs <= 0) throw new TypeError(`room channels: "moderation.banMs" must be a positive number of milliseconds, got ${String(banMs)}`)
  const trust = { policies, members: fastify.roomMembers, bans: fastify.roomBans, chat, now, banMs, pubsub: runtime.pubsub, presence }
  // One for every channel: a join's own state is in its RoomChannel alone.
  const deps: RoomChannelDeps = {
    rooms: runtime.supervisor,
    chat,
    presence,
    fanout,
    pubsub: runtime.pubsub,
    // With shared presence every process hears of every change (sharedPresence).
    onOccupancy: opts.redis ? undefined : opts.onOccupancy,
    limits: opts.limits,
    voice,
    trust
  }

  // A crashed room restarts: its clients get phx_error and the phoenix client rejoins by itself.
  runtime.supervisor.on('room_crashed', ({ roomId }) => {
    for (const member of fanout.members(topics.room(roomId))) member.crash(new Error(`room ${roomId} crashed`))
  })
  // A deleted or given-up room: phx_close, and the client does not come back. A room that now
  // runs in another process keeps its sockets here.
  runtime.supervisor.on('room_stopped', ({ roomId, reason }) => {
    if (reason === 'shutdown' || reason === 'lease_lost') return
    for (const member of fanout.members(topics.room(roomId))) member.close()
  })

  await fastify.register(phoenixTransport, {
    secretKeyBase: opts.secretKeyBase,
    maxFrameBytes: opts.maxFrameBytes,
    heartbeatTimeoutMs: opts.heartbeatTimeoutMs,
    maxSocketsPerIp: opts.maxSocketsPerIp,
    maxChannelsPerSocket: opts.maxChannelsPerSocket,
    longPollWindowMs: opts.longPollWindowMs,
    protocolErrors: opts.protocolErrors,
    channels: [{
      pattern: 'room:*',
      factory: (ctx) => new RoomChannel(ctx, deps)
    }]
  })
}

function broadcaster (fastify: FastifyInstance, log: FastifyBaseLogger, also?: (topic: string) => void): (topic: string, diff: PresenceDiff) => void {
  return (topic, diff) => {
    Promise.resolve(fastify.runtime.pubsub.broadcast(topic, { event: 'presence_diff', payload: diff }))
      .catch((err: unknown) => log.error({ err, topic }, 'could not broadcast presence_diff'))
    also?.(topic)
  }
}

/**
 * Presence in Redis: diffs reach the room's sockets in every process; so do occupancy changes
 * (for each process's room list); a dead process's users leave the room.
 */
async function sharedPresence (
  fastify: FastifyInstance,
  opts: RoomChannelsOptions,
  redis: NonNullable<RoomChannelsOptions['redis']>,
  fanout: RoomFanout<ChannelContext>,
  log: FastifyBaseLogger
): Promise<RedisPresence> {
  const { runtime } = fastify
  const roomOf = (topic: string): string => topic.slice(topics.room('').length)
  const presence: RedisPresence = new RedisPresence({
    url: redis.url,
    prefix: redis.prefix,
    timeoutMs: redis.processTimeoutMs,
    logger: log,
    broadcast: broadcaster(fastify, log, (topic) => {
      Promise.resolve(runtime.pubsub.broadcast(OCCUPANCY_TOPIC, { room_id: roomOf(topic) }))
        .catch((err: unknown) => log.warn({ err, topic }, 'could not announce an occupancy change'))
    }),
    onReaped: (topic, userId, lastForKey) => {
      if (!lastForKey) return
      runtime.supervisor.dispatch(roomOf(topic), { event: 'user_left', payload: { user_id: userId } })
        .catch((err: unknown) => log.error({ err, topic }, 'could not announce user_left of a dead process\'s user'))
    },
    // Counted dead after a stall: these sockets are gone from presence; their clients rejoin.
    onLost: (lost) => {
      for (const topic of lost) for (const member of fanout.members(topic)) member.crash(new Error('presence lost'))
    }
  })
  // Read in arrival order on one connection, so the last count set is the newest.
  const stopOccupancy = runtime.pubsub.subscribe(OCCUPANCY_TOPIC, async (message) => {
    const roomId = (message as { room_id?: unknown })?.room_id
    if (typeof roomId !== 'string' || !opts.onOccupancy) return
    opts.onOccupancy(roomId, await presence.count(topics.room(roomId)))
  })
  await presence.started()
  // After the sockets left (preClose), before the runtime closes the pubsub.
  fastify.addHook('onClose', async () => {
    stopOccupancy()
    await presence.close()
  })
  return presence
}

export default fp(roomChannels, { name: 'room-channels', fastify: '5.x', dependencies: ['database', 'room-runtime'] })
