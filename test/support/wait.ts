// The one way tests wait for something that happens in real time (a child process, an HTTP peer, a file): poll a
// condition with a deadline. A test never sleeps a fixed time for work to finish; the sandbox's own time is a
// TestClock (./clock.ts) that the test moves forward.

export interface WaitOptions {
  /** Give up after this many ms (default 5000). */
  timeoutMs?: number
  /** Poll every this many ms (default 5). */
  everyMs?: number
}

/** Resolves after `ms` of real time. Only for pacing real peers (a server's Retry-After), never to let work finish. */
export const sleep = (ms: number): Promise<void> => new Promise(resolve => {
  setTimeout(resolve, ms)
})

/**
 * Polls `check` until it returns a truthy value, and resolves with it; rejects with "timed out waiting for <what>"
 * after `timeoutMs`. `what` may be a function, evaluated at the time out (to show the state then).
 */
export async function waitFor<T>(what: (() => string) | string, check: () => Promise<T> | T, opts: number | WaitOptions = {}): Promise<T> {
  const {everyMs = 5, timeoutMs = 5000} = typeof opts === 'number' ? {timeoutMs: opts} : opts
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = await check()
    if (v) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${typeof what === 'function' ? what() : what}`)
    await sleep(everyMs)
  }
}
