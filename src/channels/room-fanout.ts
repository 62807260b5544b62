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

interface Topic<M extends FanoutMember> {
  members: Map<M, Membership<M>>
  /** Unsubscribes and forgets the topic: its last member in this process left. */
  close: () => void
}

/** One member of a topic, and the subscription handed out for it (one object, no closures per member). */
class Membership<M extends FanoutMember> implements FanoutSubscription {
  /** Frames held back until ready(); null once they are delivered as they come. */
  held: string[] | null = []

  constructor (private readonly topic: Topic<M>, private readonly member: M) {}

  ready (): void {
    const held = this.held ?? []
    this.held = null
    for (const frame of held) this.member.pushEncoded(frame)
  }

  remove (): void {
    const { members, close } = this.topic
    if (members.get(this.member) !== this) return
    members.delete(this.member)
    if (members.size === 0) close()
  }
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
      const members = new Map<M, Membership<M>>()
      const unsubscribe = this.pubsub.subscribe(topic, (message) => this.#deliver(topic, members, message))
      const created: Topic<M> = {
        members,
        close: () => {
          unsubscribe()
          if (this.#topics.get(topic) === created) this.#topics.delete(topic)
        }
      }
      entry = created
      this.#topics.set(topic, entry)
    }
    const membership = new Membership(entry, member)
    entry.members.set(member, membership)
    return membership
  }

  /** The members of a topic in this process, e.g. to end their channels when the room crashes. */
  members (topic: string): M[] {
    return [...(this.#topics.get(topic)?.members.keys() ?? [])]
  }

  #deliver (topic: string, members: Map<M, Membership<M>>, message: unknown): void {
    const { event, payload } = (message ?? {}) as { event?: unknown, payload?: unknown }
    if (typeof event !== 'string' || typeof payload !== 'object' || payload === null) {
      this.log.warn({ topic }, 'dropping a malformed room broadcast')
      return
    }
    const frame = encodeBroadcast(topic, event, payload)
    this.onFrame?.(event, Buffer.byteLength(frame), members.size)
    for (const [member, membership] of members) {
      if (membership.held) membership.held.push(frame)
      else member.pushEncoded(frame)
    }
  }
}
