/**
 * The sandbox's sense of time: what "now" is and how it waits. Every timestamp it writes and every timer it starts
 * (retries, bans, auto-deletion, polling, Pipeliner chunk delays, fault delays, the burst window) goes through one
 * clock, given at construction. The default is the real one; tests pass a clock they move forward themselves. Only the
 * delivery timeout keeps real time: it bounds a real HTTP exchange.
 */
export type TimerHandle = unknown

export interface Clock {
  /** Milliseconds since the epoch, like `Date.now()`. */
  now(): number
  /** Runs `fn` once after `ms`; returns a handle for {@link Clock.clearTimeout}. */
  setTimeout(fn: () => void, ms: number): TimerHandle
  clearTimeout(handle: TimerHandle): void
}

/** The real clock: `Date.now()` and Node's timers. */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout)
  },
}
