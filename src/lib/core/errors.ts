/** Exit codes: the public interface, listed in the README's "Exit codes". */
export const ExitCode = {
  ok: 0,
  unexpected: 1,
  usage: 2,
  auth: 3,
  notFound: 4,
  conflict: 5,
  unavailable: 6,
  changes: 7,
  /** `doctor` found problems of error severity. */
  findings: 8,
  /** Ctrl-C (SIGINT), like a shell: 128 + 2. */
  interrupted: 130,
} as const
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]

const CODE_NAMES: Record<number, string> = {
  1: 'unexpected',
  2: 'usage',
  3: 'auth',
  4: 'not_found',
  5: 'conflict',
  6: 'unavailable',
  7: 'changes_pending',
  8: 'findings',
  130: 'interrupted',
}

export interface PdhooksErrorOptions {
  /** Machine-readable code for `--json` (defaults from the exit code). */
  code?: string
  /** Exit code (ExitCode). */
  exit?: number
  /** What the user should do next: appended to the one-line message. */
  hint?: string
  /** HTTP status when the error comes from a service. */
  status?: null | number
  /** Extra data that is safe to show (already masked). */
  details?: Record<string, unknown>
  cause?: unknown
}

/**
 * The one error type pdhooks raises on purpose. Its message is a single line; `hint` says what to do.
 * It never carries request options or headers.
 */
export class PdhooksError extends Error {
  readonly code: string
  readonly details?: Record<string, unknown>
  readonly exit: number
  readonly hint?: string
  readonly status: null | number

  constructor(message: string, opts: PdhooksErrorOptions = {}) {
    super(message)
    this.name = 'PdhooksError'
    this.exit = opts.exit ?? ExitCode.unexpected
    this.code = opts.code ?? CODE_NAMES[this.exit] ?? 'error'
    this.hint = opts.hint
    this.status = opts.status ?? null
    this.details = opts.details
    if (opts.cause !== undefined) Object.defineProperty(this, 'cause', {enumerable: false, value: opts.cause})
  }

  /** The full one-line text: message and hint. */
  get line(): string {
    return this.hint ? `${this.message} ${this.hint}` : this.message
  }

  /** Anything thrown as a PdhooksError: itself, or one carrying its message (exit 1). */
  static from(error: unknown): PdhooksError {
    return error instanceof PdhooksError ? error : new PdhooksError(String((error as Error)?.message ?? error))
  }
}

/**
 * The exit code of a bulk operation some of whose items failed (deletes, deliveries, checks, applied objects): the
 * highest of the failures' exit codes, so the most significant cause wins (6 "try again later" over 3 "credentials",
 * over 1 "refused"); a failure without an exit code of its own counts as 1. Never 0.
 */
export function worstExit(exits: Iterable<number | undefined>): number {
  let worst: number = ExitCode.unexpected
  for (const e of exits) if (e !== undefined && e > worst) worst = e
  return worst
}

export const usageError = (message: string, hint?: string, code = 'usage'): PdhooksError =>
  new PdhooksError(message, {code, exit: ExitCode.usage, hint})

/** The user pressed Ctrl-C at a prompt (exit 130, like a shell): nothing alarming is printed. */
export const cancelled = (): PdhooksError => new PdhooksError('Cancelled.', {code: 'cancelled', exit: ExitCode.interrupted})

/**
 * A create answered 2xx without the created object: the service may have made it, so the caller looks it up
 * (`details.ambiguous`) before it reports anything.
 */
export const missingCreated = (service: string, status: number, host: string, what: string, hint?: string): PdhooksError =>
  new PdhooksError(`${service} answered ${status} from ${host} without the created ${what}.`, {
    code: 'bad_response', details: {ambiguous: true}, exit: ExitCode.unexpected, hint, status,
  })

export const notFoundError = (message: string, hint?: string): PdhooksError =>
  new PdhooksError(message, {
    code: 'not_found', exit: ExitCode.notFound, hint, status: 404,
  })

/** Exit code for an HTTP status. */
export function exitForStatus(status: number): number {
  if (status === 401 || status === 403) return ExitCode.auth
  if (status === 404) return ExitCode.notFound
  if (status === 409 || status === 422) return ExitCode.conflict
  if (status === 429 || status >= 500) return ExitCode.unavailable
  if (status >= 400) return ExitCode.usage
  return ExitCode.unexpected
}
