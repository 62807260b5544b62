/**
 * A token bucket: up to `burst` actions at once, refilled at `perSecond`. Per socket, so one
 * noisy client cannot flood a room; the clock is injectable for tests.
 */
export class TokenBucket {
  #tokens: number
  #last: number

  constructor (
    private readonly perSecond: number,
    private readonly burst: number = perSecond,
    private readonly now: () => number = Date.now
  ) {
    if (!(perSecond > 0) || !(burst >= 1)) throw new TypeError('token bucket: perSecond must be > 0 and burst >= 1')
    this.#tokens = burst
    this.#last = now()
  }

  /** Takes one token; false when the action is over the limit. */
  take (): boolean {
    this.#refill()
    if (this.#tokens < 1) return false
    this.#tokens -= 1
    return true
  }

  /** Milliseconds until `take` would succeed; 0 when it would now. */
  msUntilToken (): number {
    this.#refill()
    return this.#tokens >= 1 ? 0 : ((1 - this.#tokens) / this.perSecond) * 1000
  }

  #refill (): void {
    const now = this.now()
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) / 1000) * this.perSecond)
    this.#last = now
  }
}
