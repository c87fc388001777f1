/**
 * Creates that never duplicate: a create whose outcome is unknown (timeout, reset, or a 429/5xx answer the service may
 * have sent after applying it) is never sent again blindly. The object is looked up first; only when the lookup shows
 * nothing and the service did answer is the create sent again. When the lookup fails too, the error says the object
 * may exist and how to check: never "was not created".
 *
 * Used by `webhook add`, `instance create` and `pipeliner webhook add` (through addWebhook, createInstance and
 * addPipelinerWebhook), and meant for setup and apply.
 */
import {ExitCode, PdhooksError} from '../core/errors.js'

/** What became of an ambiguous create that is reported as failed (`details.outcome` of the error). */
export type CreateOutcome = 'not-created' | 'not-found-yet' | 'unknown'

export interface CheckedCreateOptions<T> {
  /** How a user checks by hand, e.g. `pdhooks webhook list`. */
  check: string
  /** Sends the create request once (the HTTP client never resends a POST itself). */
  create: () => Promise<T>
  /**
   * Looks for the object an earlier attempt may have made: undefined when it is not there. Must ignore what existed
   * before the first attempt. A thrown error means "could not look".
   */
  find: () => Promise<T | undefined>
  /** Called before each resend (e.g. progress on a terminal). */
  onRetry?: (attempt: number, waitMs: number, error: PdhooksError) => void
  /** Resends after a lookup found nothing (default 3). */
  retries?: number
  /** Base of the backoff when the answer gave no Retry-After (default PDHOOKS_RETRY_BASE_MS, else 500). */
  retryBaseMs?: number
  /** For messages: "webhook", "instance", "Pipeliner webhook". */
  what: string
}

export interface CheckedCreateResult<T> {
  /** Create requests sent. */
  attempts: number
  /** True when a create failed ambiguously and the object was found afterwards. */
  recovered: boolean
  value: T
}

const MAX_WAIT_MS = 60_000

const sleep = (ms: number) =>
  new Promise<void>(resolve => {
    setTimeout(resolve, ms)
  })

/** Is this error one after which the object may exist (timeout, reset, 429/5xx to a create, malformed success)? */
function isAmbiguous(error: unknown): error is PdhooksError {
  return error instanceof PdhooksError && error.details?.ambiguous === true
}

const stripDot = (s: string) => s.replace(/\.$/, '')

/**
 * Sends `create`; after an ambiguous failure looks the object up with `find` and returns it when found
 * (`recovered`), resends when the service answered and nothing was made (up to `retries` times, waiting for
 * Retry-After or a backoff), and otherwise fails saying exactly what is known.
 */
export async function createChecked<T>(o: CheckedCreateOptions<T>): Promise<CheckedCreateResult<T>> {
  const retries = o.retries ?? 3
  const baseMs = Number(process.env.PDHOOKS_RETRY_BASE_MS ?? o.retryBaseMs ?? 500)
  for (let attempt = 1; ; attempt++) {
    let error: PdhooksError
    try {
      return {attempts: attempt, recovered: false, value: await o.create()}
    } catch (error_) {
      if (!isAmbiguous(error_)) throw error_
      error = error_
    }

    let found: T | undefined
    try {
      found = await o.find()
    } catch (lookupError) {
      const why = PdhooksError.from(lookupError).message
      throw failed(error, attempt, 'unknown', `${stripDot(error.message)}${tries(attempt)}; it is unknown whether the ${o.what} was created (looking it up failed too: ${stripDot(why)}).`, `Check with "${o.check}" before trying again.`)
    }

    if (found !== undefined) return {attempts: attempt, recovered: true, value: found}
    const answered = error.details?.answered === true
    if (!answered) {
      // a timeout or a reset: the service may still be working on the request, so it is not sent again
      throw failed(error, attempt, 'not-found-yet', `${stripDot(error.message)}${tries(attempt)}; no ${o.what} was found afterwards, but the service may still be processing the request.`, `Check with "${o.check}" in a moment before trying again.`)
    }

    if (attempt > retries) {
      throw failed(error, attempt, 'not-created', `${stripDot(error.message)}${tries(attempt)}; the ${o.what} was not created.`, error.hint ?? 'Try again later.')
    }

    const hinted = Number(error.details?.waitMs)
    const wait = Math.min(MAX_WAIT_MS, Number.isFinite(hinted) && hinted >= 0 ? hinted : backoff(baseMs, attempt - 1))
    o.onRetry?.(attempt, wait, error)
    await sleep(wait)
  }
}

const tries = (attempts: number) => (attempts > 1 ? ` (${attempts} attempts, each looked up before the next)` : '')

function failed(error: PdhooksError, attempts: number, outcome: CreateOutcome, message: string, hint: string): PdhooksError {
  return new PdhooksError(message, {
    cause: error,
    code: outcome === 'unknown' ? 'outcome_unknown' : error.code,
    details: {...error.details, attempts, outcome},
    exit: error.exit ?? ExitCode.unavailable,
    hint,
    status: error.status,
  })
}

function backoff(baseMs: number, attempt: number): number {
  const exp = baseMs * (2 ** attempt)
  return Math.round((exp / 2) + (Math.random() * exp / 2))
}
