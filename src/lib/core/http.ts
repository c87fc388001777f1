import {ExitCode, exitForStatus, PdhooksError} from './errors.js'
import {
  redactHeaders, redactUrl, registerSecret, scrub,
} from './mask.js'
import {exchange} from './transport.js'

export type Method = 'DELETE' | 'GET' | 'PATCH' | 'POST' | 'PUT'

export interface HttpResponse<T = unknown> {
  body: T
  headers: Record<string, string | string[] | undefined>
  ms: number
  status: number
  text: string
}

/** What a service client says about its own error bodies and credentials. */
export interface ServiceDescription {
  /** Hint for 401/403: what to run or set. */
  authHint: string
  /** Extracts the human message from an error body (JSON already parsed when it was JSON). */
  errorMessage?: (body: unknown, status: number) => string | undefined
  /** Display name: "Pipedrive", "Cloud Elements", "Pipeliner". */
  name: string
  /** What a 401 means, e.g. "rejected the API token". */
  rejected: string
}

export interface HttpClientOptions {
  baseUrl: string
  /** Share another client's pacing (one burst limit per token, e.g. Pipedrive's API v1 and v2). */
  gate?: RateGate
  headers?: Record<string, string>
  /** Base of the exponential backoff in ms (default 500; PDHOOKS_RETRY_BASE_MS overrides, for tests). */
  retryBaseMs?: number
  /** Retries after the first attempt (default 3). */
  retries?: number
  /** Secrets carried by this client: never printed. */
  secrets?: Array<string | undefined>
  service: ServiceDescription
  timeoutMs?: number
  userAgent: string
}

export interface RequestOptions {
  json?: unknown
  /**
   * Override: is it safe to resend this request after an ambiguous failure (timeout, reset, 429/502/503/504)? Default:
   * not for POST, whose error then carries `details.ambiguous` (and `details.answered` plus `details.waitMs` when the
   * service answered with a status).
   */
  idempotent?: boolean
  searchParams?: Record<string, number | string | undefined>
}

const RETRY_STATUSES = new Set([429, 502, 503, 504])
const SAFE_CONNECT_ERRORS = new Set(['EAI_AGAIN', 'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND'])
const AMBIGUOUS_ERRORS = new Set(['ECONNABORTED', 'ECONNRESET', 'EPIPE', 'ESOCKETTIMEDOUT', 'ETIMEDOUT'])
const MAX_WAIT_MS = 60_000

const debugEnabled = (): boolean => {
  const d = process.env.DEBUG
  if (!d) return false
  return d.split(/[\s,]+/).some(p => p === '*' || p.startsWith('pdhooks') || p === 'pdhooks*')
}

function debugLog(line: string): void {
  if (debugEnabled()) process.stderr.write(scrub(`pdhooks:http ${line}`) + '\n')
}

const sleep = (ms: number) =>
  new Promise<void>(resolve => {
    setTimeout(resolve, ms)
  })

function header(headers: HttpResponse['headers'], name: string): string | undefined {
  const v = headers[name]
  return Array.isArray(v) ? v[0] : v
}

/** Seconds to wait from `Retry-After` (seconds or HTTP date) or `x-ratelimit-reset` (seconds), or undefined. */
export function waitFromHeaders(headers: HttpResponse['headers'], now = Date.now()): number | undefined {
  const ra = header(headers, 'retry-after')
  if (ra !== undefined) {
    const n = Number(ra)
    if (Number.isFinite(n)) return Math.max(0, n * 1000)
    const t = Date.parse(ra)
    if (!Number.isNaN(t)) return Math.max(0, t - now)
  }

  const reset = header(headers, 'x-ratelimit-reset')
  if (reset !== undefined) {
    const n = Number(reset)
    if (Number.isFinite(n)) return Math.max(0, n > 1e9 ? (n * 1000) - now : n * 1000)
  }

  return undefined
}

/**
 * Paces requests from the `x-ratelimit-*` headers so that bulk work waits for the window instead of collecting 429s.
 * Pipedrive's burst window is rolling: when it resets, only the oldest requests have left it, so after a wait a single
 * request goes first and the others wait for the headers of its answer; until then the count of what is left only goes
 * down, whatever order the answers arrive in.
 */
export class RateGate {
  private inflight = 0
  /** Settles when the request sent after a reset has its answer. */
  private probe: Promise<void> | undefined
  private probeDone: (() => void) | undefined
  private remaining: number | undefined
  private resetAt = 0

  async acquire(): Promise<void> {
    for (;;) {
      const now = Date.now()
      if (this.remaining !== undefined && this.remaining <= 0 && now < this.resetAt) {
        await sleep(Math.min(this.resetAt - now + 5, MAX_WAIT_MS))
        continue
      }

      if (this.probe) {
        await this.probe
        continue
      }

      if (this.remaining !== undefined && this.remaining <= 0) {
        // the window has reset: this request finds out how much of it is free
        this.remaining = undefined
        this.probe = new Promise(resolve => {
          this.probeDone = resolve
        })
      }

      break
    }

    if (this.remaining !== undefined) this.remaining--
    this.inflight++
  }

  release(headers?: HttpResponse['headers']): void {
    this.inflight = Math.max(0, this.inflight - 1)
    if (headers) {
      const rem = Number(header(headers, 'x-ratelimit-remaining'))
      const wait = waitFromHeaders({'x-ratelimit-reset': header(headers, 'x-ratelimit-reset')})
      if (Number.isFinite(rem) && header(headers, 'x-ratelimit-remaining') !== undefined) {
        // answers can arrive out of order: within a window the count only goes down (a late answer's higher figure is stale)
        const left = rem - this.inflight
        this.remaining = this.remaining === undefined ? left : Math.min(this.remaining, left)
        if (wait !== undefined) this.resetAt = Math.max(this.resetAt, Date.now() + wait)
      }
    }

    const done = this.probeDone
    this.probe = undefined
    this.probeDone = undefined
    done?.()
  }

  /** After a 429: nobody sends before `ms` from now (the latest instruction wins over an older reset). */
  block(ms: number): void {
    this.remaining = 0
    this.resetAt = Date.now() + ms
  }
}

function describeBody(text: string, contentType: string | undefined): string {
  const trimmed = text.trim()
  if (!trimmed) return 'an empty body'
  if (/html/i.test(contentType ?? '') || /^<(!doctype|html)/i.test(trimmed)) {
    const title = /<title[^>]*>([^<]*)<\/title>/i.exec(trimmed)?.[1]?.trim()
    return `an HTML page${title ? ` ("${title.slice(0, 80)}")` : ''} instead of JSON`
  }

  return `a non-JSON body ("${trimmed.slice(0, 80).replaceAll(/\s+/g, ' ')}")`
}

function parseBody(text: string, contentType: string | undefined): {json: boolean; value: unknown} {
  const t = text.trim()
  if (t === '') return {json: false, value: undefined}
  if (/json/i.test(contentType ?? '') || t.startsWith('{') || t.startsWith('[')) {
    try {
      return {json: true, value: JSON.parse(t)}
    } catch {
      return {json: false, value: undefined}
    }
  }

  return {json: false, value: undefined}
}

/**
 * The one HTTP client every service client uses (on Node's http, lib/core/transport.ts): timeout, retries with backoff and jitter on
 * 429/502/503/504 and connection errors (at most 3) honouring Retry-After / x-ratelimit-reset, no blind resend of a
 * POST after a timeout or a 429/5xx answer (the caller looks the object up first), a User-Agent, a redacted debug log,
 * and errors mapped to exit codes.
 */
export class HttpClient {
  readonly baseUrl: string
  readonly gate: RateGate
  readonly host: string
  private readonly opts: HttpClientOptions

  constructor(opts: HttpClientOptions) {
    this.opts = opts
    this.gate = opts.gate ?? new RateGate()
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '')
    this.host = new URL(this.baseUrl).host
    for (const s of opts.secrets ?? []) registerSecret(s)
    for (const [k, v] of Object.entries(opts.headers ?? {})) {
      if (/authorization|token/i.test(k)) registerSecret(v)
    }
  }

  get service(): ServiceDescription {
    return this.opts.service
  }

  async delete<T = unknown>(path: string, o: RequestOptions = {}) {
    return this.request<T>('DELETE', path, o)
  }

  async get<T = unknown>(path: string, o: RequestOptions = {}) {
    return this.request<T>('GET', path, o)
  }

  async patch<T = unknown>(path: string, o: RequestOptions = {}) {
    return this.request<T>('PATCH', path, o)
  }

  async post<T = unknown>(path: string, o: RequestOptions = {}) {
    return this.request<T>('POST', path, o)
  }

  async request<T = unknown>(method: Method, path: string, o: RequestOptions = {}): Promise<HttpResponse<T>> {
    const url = new URL(this.baseUrl + (path.startsWith('/') ? path : `/${path}`))
    for (const [k, v] of Object.entries(o.searchParams ?? {})) if (v !== undefined) url.searchParams.set(k, String(v))
    const retries = this.opts.retries ?? 3
    const baseMs = Number(process.env.PDHOOKS_RETRY_BASE_MS ?? this.opts.retryBaseMs ?? 500)
    const timeoutMs = this.opts.timeoutMs ?? 30_000
    const idempotent = o.idempotent ?? method !== 'POST'
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': this.opts.userAgent,
      ...this.opts.headers,
    }
    const display = redactUrl(url.toString())
    let last429 = false
    for (let attempt = 0; ; attempt++) {
      await this.gate.acquire()
      const started = Date.now()
      let res
      try {
        res = await exchange(url, {
          body: o.json === undefined ? undefined : JSON.stringify(o.json),
          headers: o.json === undefined ? headers : {...headers, 'content-type': 'application/json'},
          method,
          timeoutMs,
        })
      } catch (error: any) {
        this.gate.release()
        const ms = Date.now() - started
        const code: string = error?.code ?? error?.cause?.code ?? 'ERROR'
        const timedOut = error?.name === 'TimeoutError' || code === 'ETIMEDOUT'
        debugLog(`${method} ${display} ${JSON.stringify(redactHeaders(headers))} → ${timedOut ? 'timeout' : code} (${ms} ms)`)
        const safe = SAFE_CONNECT_ERRORS.has(code)
        const ambiguous = timedOut || AMBIGUOUS_ERRORS.has(code) || !safe
        const canRetry = attempt < retries && code !== 'ENOTFOUND' && (safe || (ambiguous && idempotent))
        if (canRetry) {
          await sleep(backoff(baseMs, attempt))
          continue
        }

        throw this.networkError(method, code, timedOut, timeoutMs, attempt + 1, !safe && !idempotent)
      }

      const ms = Date.now() - started
      this.gate.release(res.headers)
      debugLog(`${method} ${display} ${JSON.stringify(redactHeaders(headers))} → ${res.statusCode} (${ms} ms)`)
      const status = res.statusCode
      if (RETRY_STATUSES.has(status)) {
        const wait = waitFromHeaders(res.headers)
        if (status === 429) {
          last429 = true
          this.gate.block(wait ?? backoff(baseMs, attempt))
        }

        // any of these answers to a create may hide a created object (applied, then answered 503 or 429): a POST is
        // never resent here; the caller looks the object up first (see checked-create.ts)
        const ambiguous = !idempotent
        if (attempt < retries && !ambiguous && (wait === undefined || wait <= MAX_WAIT_MS)) {
          await sleep(wait ?? backoff(baseMs, attempt))
          continue
        }

        const err = this.statusError(method, res.statusCode, res.body, res.headers, attempt + 1, ambiguous)
        if (ambiguous) {
          // the service answered: a lookup now is conclusive, and the request may be sent again if nothing was made
          err.details!.answered = true
          err.details!.waitMs = wait ?? backoff(baseMs, attempt)
        }

        throw err
      }

      if (status >= 400 || (status >= 300 && status < 400)) {
        const err = this.statusError(method, status, res.body, res.headers, attempt + 1, false)
        if (status === 403 && last429) err.details!.afterRateLimit = true
        throw err
      }

      const ct = header(res.headers, 'content-type')
      const parsed = parseBody(res.body, ct)
      if (!parsed.json && res.body.trim() !== '') {
        throw new PdhooksError(
          `${this.opts.service.name} answered ${status} from ${this.host} with ${describeBody(res.body, ct)}.`,
          {
            code: 'bad_response', exit: ExitCode.unexpected, hint: 'Check the service URL (is it the API base?).', status,
          },
        )
      }

      return {
        body: parsed.value as T, headers: res.headers, ms, status, text: res.body,
      }
    }
  }

  private networkError(method: Method, code: string, timedOut: boolean, timeoutMs: number, attempts: number, ambiguous: boolean) {
    const what = timedOut
      ? `no answer from ${this.host} within ${Math.round(timeoutMs / 100) / 10} s`
      : (code === 'ENOTFOUND'
        ? `cannot resolve ${this.host}`
        : `cannot reach ${this.host} (${code})`)
    const tries = attempts > 1 ? ` after ${attempts} attempts` : ''
    return new PdhooksError(`${this.opts.service.name} is unavailable: ${what}${tries}.`, {
      code: timedOut ? 'timeout' : 'unreachable',
      details: {ambiguous, host: this.host, method},
      exit: ExitCode.unavailable,
      hint: timedOut ? 'Try again, or raise --timeout.' : 'Check the URL and your network, then try again.',
    })
  }

  private statusError(method: Method, status: number, text: string, headers: HttpResponse['headers'], attempts: number, ambiguous: boolean) {
    const svc = this.opts.service
    const ct = header(headers, 'content-type')
    const parsed = parseBody(text, ct)
    const detail = parsed.json ? svc.errorMessage?.(parsed.value, status) : describeBody(text, ct)
    const from = `${status} from ${this.host}`
    let message: string
    let hint: string | undefined
    let exit = exitForStatus(status)
    if (status === 401 || status === 403) {
      message = status === 401 ? `${svc.name} ${svc.rejected} (${from}).` : `${svc.name} refused access (${from}${detail ? `: ${detail}` : ''}).`
      hint = svc.authHint
    } else if (RETRY_STATUSES.has(status)) {
      const tries = attempts > 1 ? ` after ${attempts} attempts` : ''
      message = status === 429
        ? `${svc.name} rate limit reached (${from})${tries}.`
        : `${svc.name} is unavailable (${from}${detail ? `: ${detail}` : ''})${tries}.`
      const wait = waitFromHeaders(headers)
      hint = wait === undefined ? 'Try again later.' : `Try again in ${Math.ceil(wait / 1000)} s.`
      exit = ExitCode.unavailable
    } else if (status >= 300 && status < 400) {
      message = `${svc.name} answered with a redirect (${from}) to ${header(headers, 'location') ?? 'elsewhere'}.`
      hint = 'Use the final API URL.'
      exit = ExitCode.usage
    } else {
      message = `${svc.name} ${method === 'GET' ? 'could not answer' : 'rejected the request'} (${from})${detail ? `: ${detail}` : ''}.`
      if (status === 415) hint = 'The service expects JSON.'
    }

    return new PdhooksError(message, {
      details: {
        ambiguous, body: parsed.json ? parsed.value : undefined, host: this.host, method,
      },
      exit,
      hint,
      status,
    })
  }
}

function backoff(baseMs: number, attempt: number): number {
  const exp = baseMs * (2 ** attempt)
  const half = exp / 2
  return Math.min(MAX_WAIT_MS, Math.round(half + (Math.random() * half)))
}
