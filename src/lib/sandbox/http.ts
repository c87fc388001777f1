/**
 * Small HTTP helpers of the sandbox: the request/reply types its handlers use, JSON body parsing, an outgoing
 * POST with a timeout (deliveries), a timer registry that `close()` can clear, and header redaction.
 */
import type {IncomingHttpHeaders} from 'node:http'

import {request as httpRequest} from 'node:http'
import {request as httpsRequest} from 'node:https'

import {type Clock, realClock, type TimerHandle} from './clock.js'

/** An incoming API request, already read. */
export interface ApiRequest {
  method: string
  /** URL path without the query string. */
  path: string
  query: URLSearchParams
  headers: IncomingHttpHeaders
  rawBody: Buffer
  /** `http://host:port` the sandbox is reachable at. */
  baseUrl: string
}

/** What a handler answers. `text` is sent as-is; otherwise `body` (when defined) is sent as JSON. */
export interface Reply {
  status: number
  headers?: Record<string, string>
  body?: unknown
  text?: string
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return {status, body, headers}
}

/** Header value as one string ('' when absent). */
export function header(headers: IncomingHttpHeaders, name: string): string {
  const v = headers[name.toLowerCase()]
  if (Array.isArray(v)) return v.join(', ')
  return v ?? ''
}

/** True when the request declares a JSON body (`application/json`, `…+json`). */
export function isJsonContentType(headers: IncomingHttpHeaders): boolean {
  const ct = header(headers, 'content-type').split(';')[0].trim().toLowerCase()
  return ct === 'application/json' || ct.endsWith('+json')
}

export type ParsedBody = {ok: false; reason: 'empty' | 'invalid'} | {ok: true; value: unknown}

/** Parses a request body as JSON. */
export function parseJson(raw: Buffer): ParsedBody {
  const text = raw.toString('utf8').trim()
  if (text === '') return {ok: false, reason: 'empty'}
  try {
    return {ok: true, value: JSON.parse(text)}
  } catch {
    return {ok: false, reason: 'invalid'}
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return Boolean(v) && typeof v === 'object' && !Array.isArray(v)
}

/** A valid absolute http(s) URL? */
export function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string' || value.trim() === '') return false
  try {
    const u = new URL(value)
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== ''
  } catch {
    return false
  }
}

/** Masks a secret for logs: its first 4 characters and `…`, or `****` when shorter than 8. */
function redactSecret(secret: string): string {
  return secret.length >= 8 ? `${secret.slice(0, 4)}…` : '****'
}

/** Redacts `Authorization` (every `Scheme secret` part) and `x-api-token` values; other headers unchanged. */
export function redactRequestHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue
    const value = Array.isArray(v) ? v.join(', ') : v
    const key = k.toLowerCase()
    if (key === 'authorization' || key === 'proxy-authorization') {
      out[k] = value
      .split(',')
      .map(part => {
        const m = /^(\s*)(\S+)\s+(\S.*?)\s*$/.exec(part)
        return m ? `${m[1]}${m[2]} ${redactSecret(m[3])}` : redactSecret(part.trim())
      })
      .join(',')
    } else if (key === 'x-api-token' || key === 'cookie') {
      out[k] = redactSecret(value)
    } else out[k] = value
  }

  return out
}

/** Query parameters as an object, with `api_token` and similar redacted. */
export function redactQuery(query: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of query) {
    out[k] = /^(api_token|token|access_token|password)$/i.test(k) ? redactSecret(v) : v
  }

  return out
}

/**
 * Every timer the sandbox starts goes through this registry, so that `close()` stops them all.
 */
export class Timers {
  private closed = false
  private readonly handles = new Set<TimerHandle>()
  private readonly sleepers = new Set<() => void>()

  constructor(private readonly clock: Clock = realClock) {}

  /** Clears every timer and resolves every pending sleep. No new timers start afterwards. */
  clearAll(): void {
    this.closed = true
    for (const h of this.handles) this.clock.clearTimeout(h)
    this.handles.clear()
    for (const wake of this.sleepers) wake()
    this.sleepers.clear()
  }

  clear(handle: TimerHandle | undefined): void {
    if (!handle) return
    this.clock.clearTimeout(handle)
    this.handles.delete(handle)
  }

  get isClosed(): boolean {
    return this.closed
  }

  /** Clears the timers and wakes pending sleeps, but keeps the registry usable (reset). */
  reset(): void {
    for (const h of this.handles) this.clock.clearTimeout(h)
    this.handles.clear()
    for (const wake of this.sleepers) wake()
    this.sleepers.clear()
  }

  /** setTimeout through the registry (delay clamped to 0..2^31-1 ms). Returns undefined after close. */
  set(fn: () => void, ms: number): TimerHandle | undefined {
    if (this.closed) return undefined
    const delay = Math.max(0, Math.min(2_147_483_647, Math.round(ms)))
    const h = this.clock.setTimeout(() => {
      this.handles.delete(h)
      fn()
    }, delay)
    this.handles.add(h)
    return h
  }

  /** Resolves after `ms`, or at once when the registry is cleared. */
  async sleep(ms: number): Promise<void> {
    if (this.closed || ms <= 0) return
    await new Promise<void>(resolve => {
      const wake = (): void => {
        this.sleepers.delete(wake)
        resolve()
      }

      this.sleepers.add(wake)
      const h = this.set(() => wake(), ms)
      if (!h) wake()
    })
  }
}

/** The result of one outgoing POST. `status` is 0 when no HTTP answer came (connection error, timeout). */
export interface PostResult {
  status: number
  ms: number
  ok: boolean
  error?: string
}

export interface PostOptions {
  headers?: Record<string, string>
  timeoutMs: number
  /** Accept any TLS certificate (Pipeliner `insecure_ssl`). */
  insecure?: boolean
  signal?: AbortSignal
}

const MAX_RESPONSE = 64 * 1024

/**
 * POSTs `body` to `url` (http or https, a fresh connection each time) and waits for the status and the end of the
 * response (at most `timeoutMs`). Never rejects.
 */
export async function postJson(url: string, body: string, opts: PostOptions): Promise<PostResult> {
  const started = performance.now()
  const done = (status: number, error?: string): PostResult => ({
    status,
    ms: Math.round(performance.now() - started),
    ok: status >= 200 && status < 300,
    ...(error ? {error} : {}),
  })
  let target: URL
  try {
    target = new URL(url)
  } catch {
    return done(0, 'invalid URL')
  }

  if (target.protocol !== 'http:' && target.protocol !== 'https:') return done(0, 'unsupported protocol')
  if (opts.signal?.aborted) return done(0, 'aborted')
  const payload = Buffer.from(body)
  const headers: Record<string, number | string> = {
    'content-type': 'application/json',
    'user-agent': 'pdhooks-sandbox',
    ...opts.headers,
    'content-length': payload.length,
  }
  return new Promise<PostResult>(resolve => {
    let settled = false
    const finish = (r: PostResult): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      opts.signal?.removeEventListener('abort', onAbort)
      resolve(r)
    }

    const make = target.protocol === 'https:' ? httpsRequest : httpRequest
    const req = make(
      target,
      {
        method: 'POST', headers, agent: false, ...(target.protocol === 'https:' ? {rejectUnauthorized: !opts.insecure} : {}),
      },
      res => {
        let size = 0
        res.on('data', (chunk: Buffer) => {
          size += chunk.length
          if (size > MAX_RESPONSE) res.destroy()
        })
        res.on('end', () => finish(done(res.statusCode ?? 0)))
        res.on('close', () => finish(done(res.statusCode ?? 0)))
        res.on('error', () => finish(done(res.statusCode ?? 0)))
      },
    )
    const onAbort = (): void => {
      req.destroy()
      finish(done(0, 'aborted'))
    }

    // real time: it bounds a real HTTP exchange (a test's clock moving on must not cut one short)
    const timer = setTimeout(() => {
      req.destroy()
      finish(done(0, `timeout after ${opts.timeoutMs} ms`))
    }, Math.max(1, opts.timeoutMs))
    opts.signal?.addEventListener('abort', onAbort, {once: true})
    req.on('error', (error: NodeJS.ErrnoException) => finish(done(0, error.code ?? error.message)))
    req.end(payload)
  })
}
