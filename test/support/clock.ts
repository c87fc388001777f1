// A clock the test moves forward itself, for the sandbox (`startSandbox({clock})`): its deliveries, retries, bans,
// auto-deletion, polling and fault delays then happen when the test ticks, not after real sleeps. Only the sandbox
// runs on it: the test's own HTTP, the receivers and mocha keep real time.
import type {Clock, TimerHandle} from '../../src/lib/sandbox/clock.js'

import {waitFor} from './wait.js'

interface Timer {
  due: number
  fn: () => void
  id: number
}

/** One turn of the event loop: what a fired timer started synchronously, and its promise callbacks, run. */
const turn = (): Promise<void> => new Promise(resolve => {
  setImmediate(resolve)
})

export class TestClock implements Clock {
  private current: number
  private nextId = 1
  private readonly timers = new Map<number, Timer>()

  /** Starts at `start` (default 2026-01-01T00:00:00Z: timestamps the sandbox writes are predictable). */
  constructor(start = Date.UTC(2026, 0, 1)) {
    this.current = start
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as number)
  }

  /** The current time as the sandbox writes it (ISO 8601). */
  iso(offsetMs = 0): string {
    return new Date(this.current + offsetMs).toISOString()
  }

  now(): number {
    return this.current
  }

  /** In how many ms each pending timer fires, soonest first. */
  pending(): number[] {
    return [...this.timers.values()].map(t => t.due - this.current).sort((a, b) => a - b)
  }

  /**
   * Waits (in real time, at most `timeoutMs`) until a timer is pending that fires exactly `inMs` from now: what the
   * sandbox schedules once the HTTP exchange it is in has ended (the next retry after a failed attempt, say).
   */
  async scheduled(inMs: number, timeoutMs = 5000): Promise<void> {
    await waitFor(() => `a timer due in ${inMs} ms (pending: ${this.pending().join(', ') || 'none'})`, () => this.pending().includes(inMs), {timeoutMs})
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++
    this.timers.set(id, {due: this.current + Math.max(0, ms), fn, id})
    return id
  }

  /**
   * Moves time forward by `ms`, firing every timer due on the way, each at its own time and in order (a turn of the
   * event loop after each, so what it started synchronously has run). Work a timer starts over real I/O (an HTTP
   * delivery) goes on in real time: wait for its outcome (a receiver's `waitFor`, this clock's `scheduled()`) before the next tick.
   */
  async tick(ms: number): Promise<void> {
    const end = this.current + ms
    for (;;) {
      let next: Timer | undefined
      for (const t of this.timers.values()) {
        if (t.due <= end && (!next || t.due < next.due || (t.due === next.due && t.id < next.id))) next = t
      }

      if (!next) break
      this.timers.delete(next.id)
      this.current = Math.max(this.current, next.due)
      next.fn()
      await turn()
    }

    this.current = end
    await turn()
  }
}
