// Child processes that serve until stopped (listen, sandboxes): a test that fails before its child ends must not leave
// it running, or mocha waits for it forever. Each is registered here and killed after every test.
import {type ChildProcess} from 'node:child_process'

const live = new Set<ChildProcess>()

/** Keeps `child` until it exits; `killStrays()` ends it if a test left it running. */
export function track<T extends ChildProcess>(child: T): T {
  live.add(child)
  child.once('exit', () => live.delete(child))
  return child
}

/** Kills every tracked child still running (after each test). */
export function killStrays(): number {
  let n = 0
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      n++
    }

    live.delete(child)
  }

  return n
}
