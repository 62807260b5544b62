import type { MovePayload } from '../shared/world.ts'
import { samePose } from './pose.ts'

/** At most 20 `i_moved` per second. */
export const DEFAULT_MOVE_INTERVAL_MS = 50

/**
 * Decides, once per frame, whether the current pose goes out as `i_moved`:
 * only when it differs from the last one sent and at least `intervalMs`
 * has passed since then. A pose held back by the interval is sent on a
 * later frame if it is still different, so the final resting pose always
 * reaches the server. Pure: the caller passes the clock.
 */
export class MoveThrottle {
  readonly intervalMs: number
  #lastSent: MovePayload | null = null
  #lastSentAt = -Infinity

  constructor (intervalMs = DEFAULT_MOVE_INTERVAL_MS) {
    this.intervalMs = intervalMs
  }

  /** Returns the payload to send now, or null. Records it as sent. */
  offer (payload: MovePayload, now: number): MovePayload | null {
    if (now - this.#lastSentAt < this.intervalMs) return null
    if (this.#lastSent !== null && samePose(this.#lastSent, payload)) return null
    this.#lastSent = payload
    this.#lastSentAt = now
    return payload
  }

  /** Forget what was sent (after a rejoin the server should hear the pose again). */
  reset (): void {
    this.#lastSent = null
    this.#lastSentAt = -Infinity
  }
}
