import type { FastifyBaseLogger } from 'fastify'
import { encodeBroadcast } from '../phoenix/serializer.ts'
import type { PubSub } from '../runtime/pubsub.ts'

/** Anything that can take an already encoded frame: a channel's context. */
export interface FanoutMember {
  pushEncoded: (frame: string) => void
}

export interface FanoutSubscription {
  /**
   * Until this is called, frames for the member are held back (in order), so that a joining
   * socket gets its `entities_state` before any diff it could otherwise see first.
   */
  ready: () => void
  /** Stops delivery to the member; idempotent. */
  remove: () => void
}

interface Entry { held: string[] | null }

interface Topic<M> {
  members: Map<M, Entry>
  unsubscribe: () => void
}

/**
 * Relays what the room runtime broadcasts on `room:<id>` ({event, payload}) to the sockets in
 * this process that joined that topic: one pubsub subscription per topic, and each message
 * serialized once for all of them (Phoenix's fastlane) rather than once per recipient.
 */
export class RoomFanout<M extends FanoutMember> {
  readonly #topics = new Map<string, Topic<M>>()

  constructor (
    private readonly pubsub: PubSub,
    private readonly log: FastifyBaseLogger,
    /** Told of every frame relayed (event name, encoded size, local recipients), e.g. for metrics. */
    private readonly onFrame?: (event: string, bytes: number, recipients: number) => void
  ) {}

  add (topic: string, member: M): FanoutSubscription {
    let entry = this.#topics.get(topic)
    if (!entry) {
      const members = new Map<M, Entry>()
      entry = { members, unsubscribe: this.pubsub.subscribe(topic, (message) => this.#deliver(topic, members, message)) }
      this.#topics.set(topic, entry)
    }
    const state: Entry = { held: [] }
    entry.members.set(member, state)
    return {
      ready: () => {
        const held = state.held ?? []
        state.held = null
        for (const frame of held) member.pushEncoded(frame)
      },
      remove: () => this.#remove(topic, member, state)
    }
  }

  /** The members of a topic in this process, e.g. to end their channels when the room crashes. */
  members (topic: string): M[] {
    return [...(this.#topics.get(topic)?.members.keys() ?? [])]
  }

  #remove (topic: string, member: M, state: Entry): void {
    const entry = this.#topics.get(topic)
    if (entry?.members.get(member) !== state) return
    entry.members.delete(member)
    if (entry.members.size === 0) {
      entry.unsubscribe()
      this.#topics.delete(topic)
    }
  }

  #deliver (topic: string, members: Map<M, Entry>, message: unknown): void {
    const { event, payload } = (message ?? {}) as { event?: unknown, payload?: unknown }
    if (typeof event !== 'string' || typeof payload !== 'object' || payload === null) {
      this.log.warn({ topic }, 'dropping a malformed room broadcast')
      return
    }
    const frame = encodeBroadcast(topic, event, payload)
    this.onFrame?.(event, Buffer.byteLength(frame), members.size)
    for (const [member, state] of members) {
      if (state.held) state.held.push(frame)
      else member.pushEncoded(frame)
    }
  }
}
