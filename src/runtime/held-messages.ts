import type { PubSub } from './pubsub.ts'

export interface HeldMessages {
  /** Holds a message that came by another way than the topic (an event of this process). */
  hold: (message: unknown) => void
  /** Stops holding and hands over what was held, oldest first. */
  take: () => unknown[]
}

/**
 * Keeps a topic's messages while nobody handles them (a room between its crash and its
 * restart), for whoever takes over: events sent meanwhile are late, never lost.
 */
export function holdMessages (pubsub: PubSub, topic: string): HeldMessages {
  const held: unknown[] = []
  const unsubscribe = pubsub.subscribe(topic, (message) => { held.push(message) })
  return {
    hold: (message) => { held.push(message) },
    take: () => {
      unsubscribe()
      return held.splice(0)
    }
  }
}
