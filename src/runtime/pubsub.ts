import { freezeJsonData } from './json-data.ts'
import { silentLogger, type Logger } from './logger.ts'

/** Called with each message broadcast on a subscribed topic. A returned promise is not awaited. */
export type MessageHandler = (message: unknown) => void | Promise<void>

/**
 * Topic-based publish/subscribe between the parts of the runtime and the sockets.
 * The in-memory implementation is the default; a Redis one can take its place, so
 * callers rely only on this contract.
 */
export interface PubSub {
  /**
   * Delivers every message later broadcast on `topic` to `handler`, in broadcast order. Every
   * handler in a process gets the same frozen value. Returns the function that unsubscribes.
   */
  subscribe: (topic: string, handler: MessageHandler) => () => void
  /**
   * Sends a message to every subscriber of `topic`. The message must be JSON data (see
   * freezeJsonData) and is frozen by this call: the publisher cannot change it afterwards either.
   * The returned promise resolves once the subscribers in this process have been handed the
   * message (their own async work is not awaited); it rejects with a TypeError when the message
   * is not JSON data.
   */
  broadcast: (topic: string, message: unknown) => void | Promise<void>
  /** Subscribers of `topic` in this process. */
  subscriberCount: (topic: string) => number
}

export interface Subscription { readonly handler: MessageHandler }

/**
 * Hands one frozen message to a topic's subscribers. Over a copy of the set, so that a handler
 * subscribing during delivery only gets later messages; one unsubscribed by an earlier handler
 * is skipped. A failing handler is logged, never rethrown.
 */
export function deliver (subscriptions: Set<Subscription>, message: unknown, log: Logger, topic: string): void {
  for (const subscription of [...subscriptions]) {
    if (!subscriptions.has(subscription)) continue
    try {
      const result = subscription.handler(message)
      if (result instanceof Promise) result.catch((err: unknown) => log.error({ err, topic }, 'pubsub subscriber failed'))
    } catch (err) {
      log.error({ err, topic }, 'pubsub subscriber failed')
    }
  }
}

/**
 * PubSub inside one process: the frozen message itself goes to every subscriber, never
 * serialized. Checking that it is JSON data keeps code from depending on what a Redis pubsub
 * could not carry. Delivery is asynchronous (a microtask per message), as it has to be over
 * Redis, which keeps per-topic order even when a handler broadcasts. A throwing handler is
 * logged and does not stop delivery to the others.
 */
export class MemoryPubSub implements PubSub {
  readonly #topics = new Map<string, Set<Subscription>>()
  readonly #log: Logger

  constructor ({ logger = silentLogger }: { logger?: Logger } = {}) {
    this.#log = logger
  }

  subscribe (topic: string, handler: MessageHandler): () => void {
    let subscriptions = this.#topics.get(topic)
    if (!subscriptions) this.#topics.set(topic, subscriptions = new Set())
    const subscription: Subscription = { handler }
    subscriptions.add(subscription)
    return () => {
      subscriptions.delete(subscription)
      if (subscriptions.size === 0 && this.#topics.get(topic) === subscriptions) this.#topics.delete(topic)
    }
  }

  broadcast (topic: string, message: unknown): Promise<void> {
    try {
      freezeJsonData(message)
    } catch (err) {
      return Promise.reject(err)
    }
    return new Promise((resolve) => queueMicrotask(() => {
      this.#deliver(topic, message)
      resolve()
    }))
  }

  subscriberCount (topic: string): number {
    return this.#topics.get(topic)?.size ?? 0
  }

  #deliver (topic: string, message: unknown): void {
    const subscriptions = this.#topics.get(topic)
    if (subscriptions) deliver(subscriptions, message, this.#log, topic)
  }
}
