import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { deepFreeze } from './deep-freeze.ts'
import { freezeJsonData } from './json-data.ts'
import { silentLogger, type Logger } from './logger.ts'
import { deliver, type MessageHandler, type PubSub, type Subscription } from './pubsub.ts'

export interface RedisPubSubOptions {
  /** redis:// URL of the server every process shares. */
  url: string
  /** Prepended to every channel name, so several deployments (or tests) can share one Redis. Default `xr:`. */
  prefix?: string
  /** How long a broadcast waits for its own message to come back before resolving anyway. Default 5000 ms. */
  echoTimeoutMs?: number
  logger?: Logger
}


/**
 * PubSub over Redis pub/sub, for several server processes sharing one Redis: one subscriber
 * connection and one publisher connection per process, each topic one Redis channel. Redis
 * hands one channel's messages to every subscriber in one order, so per-topic order holds
 * across processes; within a process they are handed to local subscribers in arrival order,
 * parsed once and frozen: every subscriber here gets the same value.
 *
 * Wire format: `<origin> <seq>\n<JSON>`, where origin/seq identify the publishing process and
 * its message, so that `broadcast` can resolve when its own message came back (the local
 * subscribers then have it, as with MemoryPubSub).
 *
 * Ordering across topics: a broadcast is published only after every subscribe this process
 * asked for before it took effect in Redis. So a process that subscribes to `a` and then
 * broadcasts a request on `b` gets every message published on `a` in reply to that request.
 *
 * Like Redis pub/sub itself this is at-most-once: while a connection is down, messages are
 * lost (ioredis reconnects and subscribes again on its own).
 */
export class RedisPubSub implements PubSub {
  readonly #pub: Redis
  readonly #sub: Redis
  readonly #prefix: string
  readonly #log: Logger
  readonly #topics = new Map<string, Set<Subscription>>()
  /** Per topic: our own broadcasts waiting to come back, by sequence number. */
  readonly #echoes = new Map<string, Map<number, { resolve: () => void, at: number }>>()
  readonly #echoTimeoutMs: number
  readonly #sweeper: NodeJS.Timeout
  readonly #origin = randomBytes(6).toString('hex')
  #seq = 0
  /** The last SUBSCRIBE / UNSUBSCRIBE sent: publishing waits for it (see above). */
  #subscribed: Promise<unknown> = Promise.resolve()
  #closed = false

  constructor ({ url, prefix = 'xr:', echoTimeoutMs = 5000, logger = silentLogger }: RedisPubSubOptions) {
    this.#prefix = prefix
    this.#log = logger
    this.#echoTimeoutMs = echoTimeoutMs
    // Named, to be found in CLIENT LIST.
    this.#pub = new Redis(url, { maxRetriesPerRequest: 3, connectionName: `${prefix}pubsub-pub` })
    this.#sub = new Redis(url, { maxRetriesPerRequest: 3, connectionName: `${prefix}pubsub-sub` })
    for (const connection of [this.#pub, this.#sub]) {
      connection.on('error', (err: unknown) => this.#log.warn({ err }, 'redis pubsub connection error'))
    }
    this.#sub.on('message', (channel: string, data: string) => this.#receive(channel, data))
    // Messages in flight while the subscriber connection is down never come back: stop waiting.
    this.#sub.on('close', () => this.#releaseEchoes(Infinity))
    this.#sweeper = setInterval(() => this.#releaseEchoes(this.#echoTimeoutMs), Math.max(10, Math.floor(echoTimeoutMs / 4)))
    this.#sweeper.unref()
  }

  subscribe (topic: string, handler: MessageHandler): () => void {
    if (this.#closed) return () => {}
    let subscriptions = this.#topics.get(topic)
    if (!subscriptions) {
      this.#topics.set(topic, subscriptions = new Set())
      this.#subscribed = this.#sub.subscribe(this.#prefix + topic)
        .catch((err: unknown) => this.#log.error({ err, topic }, 'redis subscribe failed'))
    }
    const subscription: Subscription = { handler }
    const current = subscriptions
    current.add(subscription)
    return () => {
      if (!current.delete(subscription) || current.size > 0 || this.#topics.get(topic) !== current) return
      this.#topics.delete(topic)
      // Our own messages will not come back now: release whoever waits for them.
      for (const { resolve } of this.#echoes.get(topic)?.values() ?? []) resolve()
      this.#echoes.delete(topic)
      if (this.#closed) return
      this.#subscribed = this.#sub.unsubscribe(this.#prefix + topic)
        .catch((err: unknown) => this.#log.warn({ err, topic }, 'redis unsubscribe failed'))
    }
  }

  async broadcast (topic: string, message: unknown): Promise<void> {
    const json = JSON.stringify(freezeJsonData(message))
    if (this.#closed) throw new Error('the Redis pubsub is closed')
    const seq = ++this.#seq
    const data = `${this.#origin} ${seq}\n${json}`
    // Subscribers here get the message when it comes back from Redis; wait for that.
    let echo: Promise<void> | undefined
    if (this.#topics.has(topic)) {
      let waiting = this.#echoes.get(topic)
      if (!waiting) this.#echoes.set(topic, waiting = new Map())
      const pending = waiting
      echo = new Promise((resolve) => pending.set(seq, { resolve, at: performance.now() }))
    }
    try {
      await this.#subscribed
      await this.#pub.publish(this.#prefix + topic, data)
    } catch (err) {
      this.#echoes.get(topic)?.delete(seq)
      throw err
    }
    await echo
  }

  subscriberCount (topic: string): number {
    return this.#topics.get(topic)?.size ?? 0
  }

  /** Closes both connections; later broadcasts reject. Broadcasts still waiting are released. */
  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#sweeper)
    this.#releaseEchoes(Infinity)
    this.#topics.clear()
    await Promise.all([this.#pub.quit().catch(() => {}), this.#sub.quit().catch(() => {})])
  }

  /** Stops waiting for our messages sent at least `age` ms ago (Infinity: all of them). */
  #releaseEchoes (age: number): void {
    const before = age === Infinity ? Infinity : performance.now() - age
    for (const [topic, waiting] of this.#echoes) {
      for (const [seq, echo] of waiting) {
        if (echo.at > before) continue
        waiting.delete(seq)
        echo.resolve()
        if (age !== Infinity) this.#log.warn({ topic }, 'a broadcast did not come back from Redis in time')
      }
      if (waiting.size === 0) this.#echoes.delete(topic)
    }
  }

  #receive (channel: string, data: string): void {
    if (!channel.startsWith(this.#prefix)) return
    const topic = channel.slice(this.#prefix.length)
    const newline = data.indexOf('\n')
    if (newline < 0) {
      this.#log.warn({ topic }, 'ignoring a pubsub message without a header')
      return
    }
    let message: unknown
    try {
      message = deepFreeze(JSON.parse(data.slice(newline + 1)))
    } catch (err) {
      this.#log.warn({ err, topic }, 'ignoring a pubsub message that is not JSON')
      return
    }
    this.#deliver(topic, message)
    const [origin, seq] = data.slice(0, newline).split(' ')
    if (origin !== this.#origin) return
    const waiting = this.#echoes.get(topic)
    const echo = waiting?.get(Number(seq))
    if (!waiting || !echo) return
    waiting.delete(Number(seq))
    if (waiting.size === 0) this.#echoes.delete(topic)
    echo.resolve()
  }

  #deliver (topic: string, message: unknown): void {
    const subscriptions = this.#topics.get(topic)
    if (subscriptions) deliver(subscriptions, message, this.#log, topic)
  }
}
