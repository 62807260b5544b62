import type { Clock } from '../runtime/clock.ts'
import { TokenBucket } from './token-bucket.ts'

export interface MoveCoalescerOptions<T> {
  /** Moves sent per second at most, after a burst of `burst` (default: one second's worth). */
  perSecond: number
  burst?: number
  clock: Clock
  /** Sends one move on; called in the order the moves were offered. */
  send: (move: T) => Promise<void>
  /** Told when a move sent by the timer fails (the offer that brought it has long returned). */
  onError: (err: unknown) => void
}

/** What `offer` did with a move. */
export type MoveOutcome = 'sent' | 'coalesced'

/**
 * One connection's moves, rate-limited without losing the last one. Within the limit a move is
 * sent at once; above it the move waits, a newer one replaces it, and the one waiting is sent as
 * soon as the limit allows. So a burst costs at most `perSecond` sends a second, and its last
 * pose always arrives (a headset sending every frame at 72–120 Hz ends where it stopped).
 */
export class MoveCoalescer<T> {
  readonly #o: MoveCoalescerOptions<T>
  readonly #bucket: TokenBucket
  #waiting: { move: T } | null = null
  #timer: unknown = null
  #closed = false

  constructor (options: MoveCoalescerOptions<T>) {
    this.#o = options
    this.#bucket = new TokenBucket(options.perSecond, options.burst ?? options.perSecond, () => options.clock.now())
  }

  /** Sends `move` now when the limit allows and nothing waits, else keeps it as the one waiting. */
  async offer (move: T): Promise<MoveOutcome> {
    if (this.#closed) return 'coalesced'
    // While a move waits, sending this one now would overtake it: it replaces it instead.
    if (this.#waiting === null && this.#bucket.take()) {
      await this.#o.send(move)
      return 'sent'
    }
    this.#waiting = { move }
    this.#arm()
    return 'coalesced'
  }

  /** Sends the waiting move now, over the limit (the user leaves: their last pose counts), and stops. */
  async close (): Promise<void> {
    this.#closed = true
    if (this.#timer !== null) this.#o.clock.clearTimeout(this.#timer)
    this.#timer = null
    const waiting = this.#waiting
    this.#waiting = null
    if (waiting) await this.#o.send(waiting.move)
  }

  #arm (): void {
    if (this.#timer !== null) return
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = null
      this.#release()
    }, Math.ceil(this.#bucket.msUntilToken()))
  }

  #release (): void {
    if (this.#waiting === null || this.#closed) return
    if (!this.#bucket.take()) {
      // A timer that fired early (clocks round differently): wait for the token.
      this.#arm()
      return
    }
    const { move } = this.#waiting
    this.#waiting = null
    this.#o.send(move).catch(this.#o.onError)
  }
}
