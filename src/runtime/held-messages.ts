import type { PubSub } from './pubsub.ts'

export interface HeldMessages {
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
    take: () => {
      unsubscribe()
      return held.splice(0)
    }
  }
}
