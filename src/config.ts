import path from 'node:path'
import { Errors } from './errors.ts'
import { assertTurnConfigured, parseIceServers, type IceServer } from './channels/voice/ice-servers.ts'

/** Everything the server reads from its environment, parsed once. */
export interface Config {
  readonly port: number
  readonly host: string
  /** Where the embedded PGlite database lives when DATABASE_URL is unset. */
  readonly dataDir: string
  /** PostgreSQL connection string; unset means the embedded database. */
  readonly databaseUrl: string | undefined
  /** Redis shared by several server processes; unset keeps pubsub and presence in-process. */
  readonly redisUrl: string | undefined
  /** Prefix of every Redis key and channel (REDIS_PREFIX), for several deployments on one Redis. */
  readonly redisPrefix: string
  /**
   * With Redis: how long a room's lease lasts unrenewed (ROOM_LEASE_MS), so about how long the
   * rooms of a process that died wait before another process runs them.
   */
  readonly roomLeaseMs: number
  /**
   * With Redis: how long a process may miss its heartbeat before the others count it dead and
   * remove its people from presence (PROCESS_TIMEOUT_MS).
   */
  readonly processTimeoutMs: number
  /** Open realtime connections one client address may hold (MAX_SOCKETS_PER_IP); more get HTTP 429. */
  readonly maxSocketsPerIp: number
  /** Topics one connection may join at once (MAX_CHANNELS_PER_SOCKET). */
  readonly maxChannelsPerSocket: number
  /** Least time between two writes of a room's avatar poses (AVATAR_WRITE_INTERVAL_MS); see EntitiesStateServer. */
  readonly avatarWriteIntervalMs: number
  /** Most people in a room's voice chat at once (VOICE_MAX_PEERS); a peer-to-peer mesh. */
  readonly voiceMaxPeers: number
  /** STUN/TURN servers for the browsers' RTCPeerConnection (ICE_SERVERS, JSON). */
  readonly iceServers: readonly IceServer[]
  /** coturn's static-auth-secret (TURN_SECRET): TURN credentials are minted per user instead of shared. */
  readonly turnSecret: string | undefined
  /** How long minted TURN credentials last (TURN_TTL_SECONDS). */
  readonly turnTtlSeconds: number
  readonly secretKeyBase: string
  /**
   * Signs a visitor in as an admin at /admin, who manages every room (ADMIN_TOKEN, at least 32
   * characters); unset: nobody is an admin.
   */
  readonly adminToken: string | undefined
  /**
   * Which proxies' X-Forwarded-For to believe (TRUST_PROXY, in Fastify's `trustProxy` forms: a
   * hop count, addresses/CIDRs, or true); false by default, so a client cannot pick its address.
   */
  readonly trustProxy: boolean | number | string[]
  /** Rooms one client address may create per 10 minutes (ROOM_CREATE_LIMIT). */
  readonly roomCreateLimit: number
  /** Form posts one client address may send per minute (POST_RATE_LIMIT). */
  readonly postRateLimit: number
  /** Chat messages kept per room, the newest ones (CHAT_HISTORY_LIMIT). */
  readonly chatHistoryLimit: number
  readonly logLevel: string
  readonly prettyLogs: boolean
}

type Env = Record<string, string | undefined>

function parsePort (value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be an integer between 0 and 65535, got "${value}"`)
  }
  return port
}

function parseMs (name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 100) throw new Error(`${name} must be a whole number of milliseconds >= 100, got "${value}"`)
  return n
}

function parseCount (name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} must be a whole number >= 1, got "${value}"`)
  return n
}

function parseDatabaseUrl (value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined
  if (!/^postgres(ql)?:\/\//.test(value)) {
    throw new Error('DATABASE_URL must be a postgres:// or postgresql:// URL')
  }
  return value
}

const ADMIN_TOKEN_MIN = 32

function parseAdminToken (value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined
  if (value.length < ADMIN_TOKEN_MIN) throw new Error(`ADMIN_TOKEN must be at least ${ADMIN_TOKEN_MIN} characters (or unset for no admin), got ${value.length}`)
  return value
}

/** TRUST_PROXY: unset or "false" → false, "true" → true, a whole number → hops, else addresses. */
export function parseTrustProxy (value: string | undefined): boolean | number | string[] {
  const text = value?.trim() ?? ''
  if (text === '' || text === 'false') return false
  if (text === 'true') return true
  if (/^\d+$/.test(text)) return Number(text)
  const addresses = text.split(',').map((part) => part.trim()).filter((part) => part !== '')
  if (addresses.some((part) => !/^[0-9a-f.:/]+$/i.test(part) && !['loopback', 'linklocal', 'uniquelocal'].includes(part))) {
    throw new Error(`TRUST_PROXY must be true, a hop count, or comma-separated proxy addresses/CIDRs, got "${value}"`)
  }
  return addresses
}

export function loadConfig (env: Env = process.env): Config {
  const production = env.NODE_ENV === 'production'
  const secretKeyBase = env.SECRET_KEY_BASE ?? ''
  if (production && secretKeyBase.length < 32) {
    throw new Error('SECRET_KEY_BASE must be set to at least 32 characters in production')
  }
  const iceServers = parseIceServers(env.ICE_SERVERS)
  const turnSecret = env.TURN_SECRET || undefined
  assertTurnConfigured({ iceServers, turnSecret })
  return Object.freeze({
    port: parsePort(env.PORT, 4000),
    host: env.HOST || '0.0.0.0',
    dataDir: path.resolve(env.DATA_DIR || 'data'),
    databaseUrl: parseDatabaseUrl(env.DATABASE_URL),
    redisUrl: env.REDIS_URL || undefined,
    redisPrefix: env.REDIS_PREFIX || 'xr:',
    roomLeaseMs: parseMs('ROOM_LEASE_MS', env.ROOM_LEASE_MS, 2000),
    processTimeoutMs: parseMs('PROCESS_TIMEOUT_MS', env.PROCESS_TIMEOUT_MS, 5000),
    maxSocketsPerIp: parseCount('MAX_SOCKETS_PER_IP', env.MAX_SOCKETS_PER_IP, 100),
    maxChannelsPerSocket: parseCount('MAX_CHANNELS_PER_SOCKET', env.MAX_CHANNELS_PER_SOCKET, 10),
    avatarWriteIntervalMs: parseMs('AVATAR_WRITE_INTERVAL_MS', env.AVATAR_WRITE_INTERVAL_MS, 5000),
    voiceMaxPeers: parseCount('VOICE_MAX_PEERS', env.VOICE_MAX_PEERS, 8),
    iceServers,
    turnSecret,
    turnTtlSeconds: parseCount('TURN_TTL_SECONDS', env.TURN_TTL_SECONDS, 3600),
    // A development default keeps `npm start` zero-config; production refuses it above.
    secretKeyBase: secretKeyBase || 'development-secret-key-base-change-me-in-production!',
    adminToken: parseAdminToken(env.ADMIN_TOKEN),
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    roomCreateLimit: parseCount('ROOM_CREATE_LIMIT', env.ROOM_CREATE_LIMIT, 10),
    postRateLimit: parseCount('POST_RATE_LIMIT', env.POST_RATE_LIMIT, 120),
    chatHistoryLimit: parseCount('CHAT_HISTORY_LIMIT', env.CHAT_HISTORY_LIMIT, 1000),
    logLevel: env.LOG_LEVEL || 'info',
    prettyLogs: !production && env.LOG_FORMAT !== 'json'
  })
}

/**
 * With REDIS_URL this is one of several processes serving the same rooms, which can share
 * PostgreSQL but not the embedded database: refuses that with XR_ERR_EMBEDDED_DATABASE_SHARED.
 */
export function assertDatabaseShareable (config: Pick<Config, 'redisUrl' | 'databaseUrl'>): void {
  if (config.redisUrl && !config.databaseUrl) throw new Errors.EmbeddedDatabaseShared()
}
