/**
 * Interrupted runs say what they did. A command that changes things in steps registers, through the base command,
 * what to report when interrupted; on the first SIGINT / SIGTERM the work is asked to stop (an AbortSignal: start
 * nothing new, let what is in flight finish), and the command then throws the InterruptedError, which the base command
 * prints (one JSON document under --json) before exiting 130 (SIGINT) or 143 (SIGTERM). If the work has not stopped
 * after a grace period, or at a second signal, the report is printed at once and the process exits.
 */
import {PdhooksError} from '../core/errors.js'

export type StopSignal = 'SIGINT' | 'SIGTERM'

/** 128 + the signal number, as shells report a process ended by the signal. */
export const SIGNAL_EXIT: Record<StopSignal, number> = {SIGINT: 130, SIGTERM: 143}

/** How long the work may take to stop after the first signal before the report is printed anyway. */
const GRACE_MS = 5000

/**
 * A signal this soon after the first is the same interruption, not a second Ctrl-C: `npx` forwards the terminal's
 * SIGINT to its child (which got it already), and `conf`'s write library (when-exit) re-raises every signal it sees.
 */
export const REPEAT_MS = 500

/** What a command says when it is interrupted. */
export interface InterruptReport {
  /** Merged into the `--json` error document (`{"error": {"code": "interrupted", "signal": …, …details}}`). */
  details?: Record<string, unknown>
  /** Further lines for people (stderr): what was not done, how to finish. */
  lines?: string[]
  /** One line: what was done so far, e.g. "deleted 2 of 5 webhook(s)". */
  message: string
}

/** Thrown where interrupted work stops; printed by the base command (exit 130 / 143). */
export class InterruptedError extends PdhooksError {
  readonly lines: string[]
  readonly signal: StopSignal

  constructor(signal: StopSignal, report: InterruptReport) {
    super(`Interrupted (${signal}): ${report.message.replace(/\.$/, '')}.`, {
      code: 'interrupted',
      details: {report: {signal, ...report.details}},
      exit: SIGNAL_EXIT[signal],
    })
    this.signal = signal
    this.lines = report.lines ?? []
  }
}

export interface InterruptionOptions {
  /** Default GRACE_MS. */
  graceMs?: number
  /** Prints the error and ends the process: after the grace period, or at a second signal. */
  onForce: (error: InterruptedError) => void
}

/**
 * One command run's signal handling: installed when the command registers a report, removed when the run ends.
 * Commands that never register one keep Node's default behaviour (and `listen`/`sandbox` their own).
 */
export class Interruption {
  /** The first signal received, if any. */
  received?: StopSignal
  private readonly controller = new AbortController()
  private readonly handlers: Record<StopSignal, () => void> = {
    SIGINT: () => this.onSignal('SIGINT'),
    SIGTERM: () => this.onSignal('SIGTERM'),
  }
  private installed = false
  private receivedAt = 0
  private readonly opts: InterruptionOptions
  private reporter?: () => InterruptReport
  private timer?: NodeJS.Timeout

  constructor(opts: InterruptionOptions) {
    this.opts = opts
  }

  /** Aborted at the first signal: loops stop starting new work. */
  get signal(): AbortSignal {
    return this.controller.signal
  }

  /** The error to throw once the work has stopped (undefined when no signal came). */
  error(): InterruptedError | undefined {
    if (!this.received) return undefined
    return new InterruptedError(this.received, this.reporter?.() ?? {message: 'stopped'})
  }

  install(): void {
    if (this.installed) return
    this.installed = true
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, this.handlers[sig])
  }

  /** Sets what to report when interrupted (replacing an earlier report) and installs the handlers. */
  report(fn: () => InterruptReport): this {
    this.reporter = fn
    this.install()
    return this
  }

  /** Throws the InterruptedError when a signal came. */
  throwIfInterrupted(): void {
    const e = this.error()
    if (e) throw e
  }

  uninstall(): void {
    if (this.timer) clearTimeout(this.timer)
    if (!this.installed) return
    this.installed = false
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.off(sig, this.handlers[sig])
  }

  private force(): void {
    const e = this.error()
    if (e) this.opts.onForce(e)
  }

  private onSignal(sig: StopSignal): void {
    if (this.received) {
      if (Date.now() - this.receivedAt >= REPEAT_MS) this.force()
      return
    }

    this.received = sig
    this.receivedAt = Date.now()
    this.controller.abort()
    this.timer = setTimeout(() => this.force(), this.opts.graceMs ?? GRACE_MS)
    this.timer.unref()
  }
}
