/**
 * Counts a connection's protocol errors (bad frames, invalid payloads, refused events) over a
 * sliding window; a connection past the budget is misbehaving and gets closed.
 */
export class ErrorBudget {
  readonly #times: number[] = []

  constructor (readonly max: number, readonly windowMs: number, private readonly now: () => number = Date.now) {}

  /** Records one error; true when the window now holds more than `max`. */
  spend (): boolean {
    const now = this.now()
    this.#times.push(now)
    while (this.#times.length > 0 && this.#times[0]! <= now - this.windowMs) this.#times.shift()
    return this.#times.length > this.max
  }
}
