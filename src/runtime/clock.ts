/**
 * Time as the runtime sees it. Everything that waits (sync interval, retry backoff,
 * idle timeout, restart window) goes through a Clock, so tests can move time by hand.
 */
export interface Clock {
  /** Milliseconds, monotonic enough for intervals and ages. */
  now: () => number
  /** Calls `callback` once after `ms`; the handle is only good for `clearTimeout`. */
  setTimeout: (callback: () => void, ms: number) => unknown
  clearTimeout: (handle: unknown) => void
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout)
}
