import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { silentLogger, type Logger } from '../runtime/logger.ts'
import type { PresenceBroadcast, PresenceFields, PresenceMeta, PresenceState, PresenceTracker, TrackResult, UntrackResult } from './presence.ts'

export interface RedisPresenceOptions {
  url: string
  /** Prepended to every key; processes sharing presence share the prefix. Default `xr:`. */
  prefix?: string
  broadcast: PresenceBroadcast
  /**
   * Told of each connection removed because its process was counted dead (its heartbeat
   * expired), after its leave was broadcast: `lastForKey` when it was the key's last one.
   */
  onReaped?: (topic: string, key: string, lastForKey: boolean) => void
  /**
   * Told when this process was counted dead (it stalled longer than the timeout) and others
   * removed its connections from these topics: they should join again.
   */
  onLost?: (topics: string[]) => void
  /** How long a process may miss heartbeats before the others remove its connections. Default 5000 ms. */
  timeoutMs?: number
  /** How often this process renews its heartbeat and looks for dead ones. Default timeoutMs / 5. */
  heartbeatIntervalMs?: number
  logger?: Logger
  now?: () => number
}

// Keys (after the prefix):
//   presence:<topic>            hash  `<key>\n<ref>` -> JSON { meta, pid }: every connection
//   presence_keys:<topic>       hash  <key> -> number of its connections (HLEN: distinct keys)
//   process:<pid>               heartbeat, expires after the timeout
//   processes                   set of pids that may have connections
//   process_entries:<pid>       set of `<topic>\n<key>\n<ref>`, what to remove when pid dies

// KEYS: presence, presence_keys, process_entries, processes. ARGV: field, stored, key, entry, pid,
// capacity (-1: none). Returns the key's number of connections, or -1 when the topic is full:
// `capacity` other keys are in it already.
const TRACK = `
local capacity = tonumber(ARGV[6])
if capacity >= 0 and redis.call('HEXISTS', KEYS[2], ARGV[3]) == 0 and redis.call('HLEN', KEYS[2]) >= capacity then return -1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[4])
redis.call('SADD', KEYS[4], ARGV[5])
return redis.call('HINCRBY', KEYS[2], ARGV[3], 1)`

// KEYS: presence, presence_keys, process_entries. ARGV: field, key, entry.
// Returns false when not tracked, else { stored, connections left }.
const UNTRACK = `
local stored = redis.call('HGET', KEYS[1], ARGV[1])
if not stored then return false end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[3], ARGV[3])
local n = redis.call('HINCRBY', KEYS[2], ARGV[2], -1)
if n <= 0 then redis.call('HDEL', KEYS[2], ARGV[2]) end
return { stored, n }`

// Moves a connection to a new ref with a new meta. KEYS: presence, process_entries.
// ARGV: field, new field, stored, entry, new entry. Returns the previous value, or false when not tracked.
const UPDATE = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then return false end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('SREM', KEYS[2], ARGV[4])
redis.call('SADD', KEYS[2], ARGV[5])
return current`

// Removes every connection of a dead process, once: whoever runs it first gets them.
// ARGV: prefix, pid. Returns { topic, key, stored, connections left } flattened.
const REAP = `
local prefix = ARGV[1]
local entriesKey = prefix .. 'process_entries:' .. ARGV[2]
local out = {}
for _, entry in ipairs(redis.call('SMEMBERS', entriesKey)) do
  local topic, key, ref = string.match(entry, '^(.-)\\n(.-)\\n(.*)$')
  if topic then
    local hash = prefix .. 'presence:' .. topic
    local keys = prefix .. 'presence_keys:' .. topic
    local stored = redis.call('HGET', hash, key .. '\\n' .. ref)
    if stored then
      redis.call('HDEL', hash, key .. '\\n' .. ref)
      local n = redis.call('HINCRBY', keys, key, -1)
      if n <= 0 then redis.call('HDEL', keys, key) end
      for _, v in ipairs({ topic, key, stored, tostring(n) }) do table.insert(out, v) end
    end
  end
end
redis.call('DEL', entriesKey)
redis.call('SREM', prefix .. 'processes', ARGV[2])
return out`

interface Stored { meta: PresenceMeta, pid: string }

type Script = (...args: Array<string | number>) => Promise<unknown>

/**
 * Presence shared by every process through Redis, with the in-memory Presence's data shape
 * and diffs. Each process tracks its own connections; whether a connection is its key's first
 * or last is decided atomically in Redis, so a user with tabs on two processes is one presence
 * with two metas. Every process renews a heartbeat; when one's expires, the first other process
 * to notice removes that one's connections and broadcasts their leaves.
 */
export class RedisPresence implements PresenceTracker {
  readonly pid = randomBytes(8).toString('hex')
  readonly #redis: Redis
  readonly #o: Required<Omit<RedisPresenceOptions, 'onReaped' | 'onLost'>> & RedisPresenceOptions
  readonly #scripts: Record<'track' | 'untrack' | 'update' | 'reap', Script>
  /** This process's connections, `<topic>\n<key>\n<ref>`: what to check after a stall. */
  readonly #mine = new Set<string>()
  readonly #timer: NodeJS.Timeout
  #beating: Promise<void>
  #started = false
  #closed = false

  constructor (options: RedisPresenceOptions) {
    const timeoutMs = options.timeoutMs ?? 5000
    this.#o = { prefix: 'xr:', heartbeatIntervalMs: Math.max(20, Math.floor(timeoutMs / 5)), logger: silentLogger, now: Date.now, ...options, timeoutMs }
    this.#redis = new Redis(options.url, { maxRetriesPerRequest: 3 })
    this.#redis.on('error', (err: unknown) => this.#o.logger.warn({ err }, 'redis presence connection error'))
    const define = (name: string, numberOfKeys: number, lua: string): Script => {
      this.#redis.defineCommand(name, { numberOfKeys, lua })
      return (this.#redis as unknown as Record<string, Script>)[name]!.bind(this.#redis)
    }
    this.#scripts = {
      track: define('presenceTrack', 4, TRACK),
      untrack: define('presenceUntrack', 3, UNTRACK),
      update: define('presenceUpdate', 2, UPDATE),
      reap: define('presenceReap', 0, REAP)
    }
    this.#beating = this.#heartbeat()
    this.#timer = setInterval(() => { this.#beating = this.#beating.then(() => this.#heartbeat()) }, this.#o.heartbeatIntervalMs)
    this.#timer.unref()
  }

  /** Resolves once the first heartbeat was written (and dead processes looked for). */
  async started (): Promise<void> {
    await this.#beating
  }

  async track (topic: string, key: string, meta: PresenceFields): Promise<TrackResult> {
    return (await this.#track(topic, key, meta, -1))!
  }

  /** Counted and added in one script, so processes racing for a topic's last place cannot both get it. */
  async trackWithin (topic: string, key: string, meta: PresenceFields, capacity: number): Promise<TrackResult | null> {
    return await this.#track(topic, key, meta, Math.max(0, capacity))
  }

  async #track (topic: string, key: string, meta: PresenceFields, capacity: number): Promise<TrackResult | null> {
    const full: PresenceMeta = { ...meta, phx_ref: randomBytes(8).toString('base64url'), online_at: this.#o.now() }
    const entry = `${topic}\n${key}\n${full.phx_ref}`
    const connections = await this.#scripts.track(
      this.#key('presence', topic), this.#key('presence_keys', topic), this.#key('process_entries', this.pid), this.#key('processes'),
      `${key}\n${full.phx_ref}`, JSON.stringify({ meta: full, pid: this.pid } satisfies Stored), key, entry, this.pid, capacity
    )
    if (connections === -1) return null
    this.#mine.add(entry)
    this.#o.broadcast(topic, { joins: { [key]: { metas: [full] } }, leaves: {} })
    return { ref: full.phx_ref, firstForKey: connections === 1 }
  }

  async untrack (topic: string, key: string, ref: string): Promise<UntrackResult> {
    const entry = `${topic}\n${key}\n${ref}`
    this.#mine.delete(entry)
    const result = await this.#scripts.untrack(
      this.#key('presence', topic), this.#key('presence_keys', topic), this.#key('process_entries', this.pid), `${key}\n${ref}`, key, entry
    ) as [string, number] | null
    if (!result) return { lastForKey: false }
    const [stored, left] = result
    this.#o.broadcast(topic, { joins: {}, leaves: { [key]: { metas: [(JSON.parse(stored) as Stored).meta] } } })
    return { lastForKey: left <= 0 }
  }

  /** Changes a connection's meta (a display name, a role) as a leave plus a join, under a new ref. Only for this process's connections. */
  async update (topic: string, key: string, ref: string, meta: Partial<PresenceFields>): Promise<string | null> {
    const field = `${key}\n${ref}`
    const current = await this.#redis.hget(this.#key('presence', topic), field)
    if (current === null) return null
    const stored = JSON.parse(current) as Stored
    const nextRef = randomBytes(8).toString('base64url')
    const next: Stored = { ...stored, meta: { ...stored.meta, ...meta, phx_ref: nextRef, phx_ref_prev: ref } }
    const entry = `${topic}\n${key}\n${ref}`
    const nextEntry = `${topic}\n${key}\n${nextRef}`
    const previous = await this.#scripts.update(
      this.#key('presence', topic), this.#key('process_entries', this.pid), field, `${key}\n${nextRef}`, JSON.stringify(next), entry, nextEntry
    ) as string | null
    if (previous === null) return null
    this.#mine.delete(entry)
    this.#mine.add(nextEntry)
    this.#o.broadcast(topic, { joins: { [key]: { metas: [next.meta] } }, leaves: { [key]: { metas: [(JSON.parse(previous) as Stored).meta] } } })
    return nextRef
  }

  async list (topic: string): Promise<PresenceState> {
    const state: PresenceState = {}
    for (const [field, value] of Object.entries(await this.#redis.hgetall(this.#key('presence', topic)))) {
      const key = field.slice(0, field.lastIndexOf('\n'))
      ;(state[key] ??= { metas: [] }).metas.push((JSON.parse(value) as Stored).meta)
    }
    for (const entry of Object.values(state)) entry.metas.sort((a, b) => a.online_at - b.online_at)
    return state
  }

  /** Distinct keys in the topic, in every process. */
  async count (topic: string): Promise<number> {
    return await this.#redis.hlen(this.#key('presence_keys', topic))
  }

  /**
   * Stops the heartbeat and removes this process's remaining connections at once (their leaves
   * are broadcast) rather than leaving them to the timeout.
   */
  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#timer)
    await this.#beating
    try {
      await this.#reap(this.pid, false)
      await this.#redis.del(this.#key('process', this.pid))
    } catch (err) {
      this.#o.logger.warn({ err }, 'could not remove this process\'s presence; the others will after the timeout')
    }
    await this.#redis.quit().catch(() => {})
  }

  async #heartbeat (): Promise<void> {
    if (this.#closed) return
    try {
      const previous = await this.#redis.set(this.#key('process', this.pid), String(this.#o.now()), 'PX', this.#o.timeoutMs, 'GET')
      if (previous === null && this.#started) await this.#survivedTimeout()
      this.#started = true
      await this.#redis.sadd(this.#key('processes'), this.pid)
      for (const pid of await this.#redis.smembers(this.#key('processes'))) {
        if (pid === this.pid || this.#closed) continue
        if (await this.#redis.exists(this.#key('process', pid)) === 1) continue
        this.#o.logger.info({ pid }, 'a process missed its heartbeats: removing its connections from presence')
        await this.#reap(pid, true)
      }
    } catch (err) {
      this.#o.logger.warn({ err }, 'presence heartbeat failed')
    }
  }

  // Our heartbeat had expired: the connections someone removed meanwhile must be tracked anew.
  async #survivedTimeout (): Promise<void> {
    const kept = new Set(await this.#redis.smembers(this.#key('process_entries', this.pid)))
    const lost = [...this.#mine].filter((entry) => !kept.has(entry))
    this.#o.logger.error({ lost: lost.length }, 'this process missed its presence heartbeats and was counted dead')
    for (const entry of lost) this.#mine.delete(entry)
    if (lost.length > 0) this.#o.onLost?.([...new Set(lost.map((entry) => entry.slice(0, entry.indexOf('\n'))))])
  }

  async #reap (pid: string, notify: boolean): Promise<void> {
    const flat = await this.#scripts.reap(this.#o.prefix, pid) as string[]
    for (let i = 0; i + 3 < flat.length; i += 4) {
      const [topic, key, stored, left] = flat.slice(i, i + 4) as [string, string, string, string]
      this.#o.broadcast(topic, { joins: {}, leaves: { [key]: { metas: [(JSON.parse(stored) as Stored).meta] } } })
      if (!notify) continue
      try {
        this.#o.onReaped?.(topic, key, Number(left) <= 0)
      } catch (err) {
        this.#o.logger.error({ err, topic }, 'presence onReaped failed')
      }
    }
  }

  #key (...parts: string[]): string {
    return this.#o.prefix + parts.join(':')
  }
}
