import { Redis } from 'ioredis'
import type { Clock } from './clock.ts'
import { silentLogger, type Logger } from './logger.ts'

/** The right to run a room, held by one process until it expires or is released. */
export interface Lease {
  readonly roomId: string
  /**
   * Fencing token: greater than the token of every earlier lease of the room. Writes carry it,
   * and the database refuses writes of a token older than the newest it has seen.
   */
  readonly token: number
}

/**
 * Who runs which room when several processes serve the same rooms: a lease per room that
 * its holder renews well before it expires (`ttlMs`); a holder that stops renewing (dead,
 * stalled, cut off) loses it, and another process may acquire it.
 */
export interface RoomLeases {
  /** How long a lease lasts without renewal. */
  readonly ttlMs: number
  /** The room's lease if it is free (with a new token), else null. */
  acquire: (roomId: string) => Promise<Lease | null>
  /** Extends the lease; false when it is no longer held (expired, taken by another). */
  renew: (lease: Lease) => Promise<boolean>
  /** Gives the lease up now, if still held, so another process need not wait for it to expire. */
  release: (lease: Lease) => Promise<void>
  /**
   * Makes the next token greater than `token` (the database saw that one: the counter must have
   * been lost, e.g. Redis was emptied).
   */
  raiseTokenAbove: (roomId: string, token: number) => Promise<void>
}

interface HeldLease { holder: string, token: number, expiresAt: number }

/** What the processes sharing MemoryRoomLeases share: Redis's keys, in memory. */
interface LeaseTable {
  leases: Map<string, HeldLease>
  /** Per room, the newest token handed out (never expires, like the INCR counter). */
  tokens: Map<string, number>
}

/**
 * Leases in memory, with the outcomes of RedisRoomLeases, for several "processes" in one process
 * (tests): `as(holder)` is another process's view of the same leases. Expiry follows `clock`
 * and, as in Redis, a lease is held until the clock has gone past its expiry.
 */
export class MemoryRoomLeases implements RoomLeases {
  readonly ttlMs: number
  readonly #clock: Clock
  readonly #holder: string
  #table: LeaseTable = { leases: new Map(), tokens: new Map() }

  constructor ({ clock, holder, ttlMs }: { clock: Clock, holder: string, ttlMs: number }) {
    this.ttlMs = ttlMs
    this.#clock = clock
    this.#holder = holder
  }

  /** The same leases, held as `holder`. */
  as (holder: string): MemoryRoomLeases {
    const other = new MemoryRoomLeases({ clock: this.#clock, holder, ttlMs: this.ttlMs })
    other.#table = this.#table
    return other
  }

  async acquire (roomId: string): Promise<Lease | null> {
    if (this.#live(roomId)) return null
    const token = (this.#table.tokens.get(roomId) ?? 0) + 1
    this.#table.tokens.set(roomId, token)
    this.#table.leases.set(roomId, { holder: this.#holder, token, expiresAt: this.#clock.now() + this.ttlMs })
    return { roomId, token }
  }

  async renew (lease: Lease): Promise<boolean> {
    const held = this.#mine(lease)
    if (held) held.expiresAt = this.#clock.now() + this.ttlMs
    return held !== undefined
  }

  async release (lease: Lease): Promise<void> {
    if (this.#mine(lease)) this.#table.leases.delete(lease.roomId)
  }

  async raiseTokenAbove (roomId: string, token: number): Promise<void> {
    if ((this.#table.tokens.get(roomId) ?? 0) < token) this.#table.tokens.set(roomId, token)
  }

  /** Who holds the room's lease now. */
  holder (roomId: string): string | undefined {
    return this.#live(roomId)?.holder
  }

  /** Ends the room's lease now, as if its holder had stopped renewing it for `ttlMs`. */
  expire (roomId: string): void {
    this.#table.leases.delete(roomId)
  }

  #live (roomId: string): HeldLease | undefined {
    const held = this.#table.leases.get(roomId)
    return held && held.expiresAt >= this.#clock.now() ? held : undefined
  }

  #mine (lease: Lease): HeldLease | undefined {
    const held = this.#live(lease.roomId)
    return held?.holder === this.#holder && held.token === lease.token ? held : undefined
  }
}

// KEYS: lease, token counter. ARGV: holder, ttl. The token comes from INCR, only when the lease is won.
const ACQUIRE = `
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. token, 'PX', ARGV[2])
return token`

// KEYS: lease. ARGV: holder:token, ttl.
const RENEW = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0`

const RAISE = `
if tonumber(redis.call('GET', KEYS[1]) or '0') < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return 0`

type Script = (...args: Array<string | number>) => Promise<unknown>

/**
 * Leases in Redis: `<prefix>room_lease:<id>` holds `<holder>:<token>` with a PX expiry (SET NX
 * PX), `<prefix>room_token:<id>` the INCR counter of fencing tokens. Each change is one Lua
 * script, so checking the holder and acting on it cannot interleave with another process.
 */
export class RedisRoomLeases implements RoomLeases {
  readonly ttlMs: number
  readonly #redis: Redis
  readonly #prefix: string
  readonly #holder: string
  readonly #scripts: Record<'acquire' | 'renew' | 'release' | 'raise', Script>

  /** `holder` names this process (it must differ between processes). */
  constructor ({ url, prefix = 'xr:', holder, ttlMs, logger = silentLogger }: { url: string, prefix?: string, holder: string, ttlMs: number, logger?: Logger }) {
    this.ttlMs = ttlMs
    this.#prefix = prefix
    this.#holder = holder
    this.#redis = new Redis(url, { maxRetriesPerRequest: 2 })
    this.#redis.on('error', (err: unknown) => logger.warn({ err }, 'redis lease connection error'))
    const define = (name: string, numberOfKeys: number, lua: string): Script => {
      this.#redis.defineCommand(name, { numberOfKeys, lua })
      return (this.#redis as unknown as Record<string, Script>)[name]!.bind(this.#redis)
    }
    this.#scripts = {
      acquire: define('roomLeaseAcquire', 2, ACQUIRE),
      renew: define('roomLeaseRenew', 1, RENEW),
      release: define('roomLeaseRelease', 1, RELEASE),
      raise: define('roomLeaseRaise', 1, RAISE)
    }
  }

  async acquire (roomId: string): Promise<Lease | null> {
    const token = await this.#scripts.acquire(this.#key('room_lease', roomId), this.#key('room_token', roomId), this.#holder, this.ttlMs)
    return typeof token === 'number' ? { roomId, token } : null
  }

  async renew (lease: Lease): Promise<boolean> {
    return await this.#scripts.renew(this.#key('room_lease', lease.roomId), this.#value(lease), this.ttlMs) === 1
  }

  async release (lease: Lease): Promise<void> {
    await this.#scripts.release(this.#key('room_lease', lease.roomId), this.#value(lease))
  }

  async raiseTokenAbove (roomId: string, token: number): Promise<void> {
    await this.#scripts.raise(this.#key('room_token', roomId), token)
  }

  async close (): Promise<void> {
    await this.#redis.quit().catch(() => {})
  }

  #key (kind: string, roomId: string): string {
    return `${this.#prefix}${kind}:${roomId}`
  }

  #value (lease: Lease): string {
    return `${this.#holder}:${lease.token}`
  }
}
