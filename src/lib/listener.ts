/**
 * The webhook receiver behind `pdhooks listen`.
 *
 * - Recognises Pipedrive v1 / v2 deliveries, Cloud Elements / Open Connectors notifications and Pipeliner arrays from
 *   the body (see listener-detect.ts) and checks each with its own source's method, in constant time: basic auth for
 *   Pipedrive, `Elements-Webhook-Signature` for Cloud Elements, `WebHook-Signature` (hex or base64) for Pipeliner.
 * - No check configured: everything is accepted (`verified: null`). Any check configured: a delivery whose source has
 *   no configured check (or an unrecognised body) is refused with 401.
 * - Answers: 200 `{"ok":true}` accepted; 400 empty or malformed JSON; 401 failed / missing / unconfigured check;
 *   404 other path; 405 not POST (with `Allow: POST`); 413 body over the limit (stops buffering, closes the connection);
 *   503 after `maxEvents` accepted deliveries.
 * - The sender gets its 200 as soon as the delivery is checked and queued for the journal, **before** the
 *   `forwardTo` relay completes: a slow or dead forward target never slows the sender down or makes it retry (Pipedrive
 *   allows 10 s, and bans failing webhooks). The 'event' events of a forwarded delivery are emitted once the relay has
 *   answered (or failed), carrying its status and time.
 * - Journal lines go through one append stream; when it falls behind, answers wait for it to drain (backpressure
 *   on the senders rather than unbounded memory).
 */
import type {AddressInfo} from 'node:net'

import {randomUUID} from 'node:crypto'
import {EventEmitter} from 'node:events'
import http, {type IncomingHttpHeaders, type IncomingMessage, type ServerResponse} from 'node:http'
import https from 'node:https'

import type {DeliverySource, DetectedEvent} from './listener-detect.js'

import {PdhooksError, usageError} from './errors.js'
import {journalLine, JournalWriter} from './journal.js'
import {detectDelivery} from './listener-detect.js'
import {
  displayUrl, endToEndHeaders, parseTargetUrl, sendRaw,
} from './listener-send.js'
import {redactUrl} from './mask.js'
import {
  basicAuthHeader, safeEqual, verifyElements, verifyPipeliner,
} from './signatures.js'

export type {DeliverySource, DetectedDelivery, DetectedEvent} from './listener-detect.js'
export {detectDelivery} from './listener-detect.js'

export interface ListenerOptions {
  /** Port to listen on (0 = any free port). Default 4000. */
  port?: number
  /** Address to bind. Default 127.0.0.1. */
  host?: string
  /** The one path deliveries are accepted on (query strings ignored; a trailing slash is tolerated). Default `/`. */
  path?: string
  /** Checks Pipedrive deliveries (v1 and v2). */
  basicAuth?: {password: string; user: string}
  /** Checks Cloud Elements notifications (`Elements-Webhook-Signature`). */
  elementsKey?: string
  /** Checks Pipeliner deliveries (`WebHook-Signature`, hex or base64). */
  pipelinerKey?: string
  /** Relays each accepted delivery here (same method, body bytes and end-to-end headers). */
  forwardTo?: string
  /** Time allowed to the forward target, in ms. Default 10,000. */
  forwardTimeoutMs?: number
  /** NDJSON file to append each accepted delivery to. */
  journal?: string
  /** Largest accepted body, in bytes. Default 1 MiB. */
  maxBodyBytes?: number
  /** After this many accepted deliveries, emit 'done' (and answer 503 to any later one). */
  maxEvents?: number
}

export interface ForwardResult {
  /** The forward target's status, null when it did not answer. */
  status: null | number
  ms: number
  error?: string
}

/** One event reported by an accepted delivery (a Cloud Elements notification or a Pipeliner array may report several). */
export interface ListenerEvent {
  /** The delivery's id: the same as its journal line's id (what `replay --id` takes). */
  id: string
  /** Position of this event within its delivery (0 for single-event deliveries). */
  index: number
  /** Number of events the delivery reported. */
  count: number
  /** When the delivery arrived (ISO 8601). */
  time: string
  source: DeliverySource
  action: string
  object: string
  objectId: null | string
  attempt: null | number
  webhookId: null | string
  /** The source's own event id when it sends one (Pipedrive v2 meta.id, Cloud Elements eventId). */
  eventId: null | string
  /** true = checked and valid; null = no check configured (everything accepted). */
  verified: boolean | null
  /** Status answered to the sender. */
  status: number
  forward?: ForwardResult
}

/** A request that was answered with an error status. */
export interface ListenerRejection {
  id: string
  time: string
  method: string
  /** Request path (secret query parameters masked). */
  path: string
  /** The recognised source, when the body got that far. */
  source: DeliverySource | null
  status: number
  reason: string
  remoteAddress: null | string
}

export interface ListenerStats {
  accepted: number
  rejected: number
  events: number
}

export type ListenerEventMap = {
  done: []
  error: [Error]
  event: [ListenerEvent]
  rejected: [ListenerRejection]
}

/** Which sources are checked: with none, everything is accepted. */
export interface ListenerChecks {
  elements: boolean
  pipedrive: boolean
  pipeliner: boolean
}

const DEFAULT_MAX_BODY = 1024 * 1024
// a string body lets node:http send head and body in one write
const OK_BODY = '{"ok":true}'
const OK_HEADERS = {'content-length': String(OK_BODY.length), 'content-type': 'application/json'}
/** How much of an oversized body is read and discarded before the connection is cut. */
const DISCARD_LIMIT = 4 * 1024 * 1024

function errorBody(status: number, message: string): Buffer {
  return Buffer.from(JSON.stringify({error: {message, status}}))
}

let lastMs = 0
let lastIso = ''

/** The current time in ISO 8601, computed at most once per millisecond. */
function isoNow(): string {
  const now = Date.now()
  if (now !== lastMs) {
    lastMs = now
    lastIso = new Date(now).toISOString()
  }

  return lastIso
}

function normalizePath(p: string): string {
  let path = p.startsWith('/') ? p : `/${p}`
  while (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1)
  return path
}

function firstHeader(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name]
  return Array.isArray(v) ? v[0] : v
}

interface Accepted {
  body: Buffer
  events: DetectedEvent[]
  id: string
  req: IncomingMessage
  res: ServerResponse
  source: DeliverySource
  time: string
  verified: boolean | null
}

interface RejectInfo {
  status: number
  reason: string
  source?: DeliverySource | null
  headers?: Record<string, string>
  id?: string
  time?: string
}

interface Verdict {
  ok: boolean | null
  reason?: string
  challenge?: boolean
}

/**
 * A running receiver: an EventEmitter of 'event' (one per reported event), 'rejected' (one per error answer),
 * 'error' (journal failure; standard EventEmitter semantics: attach a handler) and 'done' (maxEvents reached).
 */
export class Listener extends EventEmitter<ListenerEventMap> {
  readonly checks: ListenerChecks
  readonly host: string
  readonly path: string
  readonly port: number
  readonly server: http.Server
  readonly stats: ListenerStats = {accepted: 0, events: 0, rejected: 0}
  readonly url: string
  private closing: null | Promise<void> = null
  private expectedAuth: string | undefined
  private completed = 0
  private readonly forwardAgent: http.Agent | null
  private readonly forwardUrl: null | URL
  private idleWaiters: Array<() => void> = []
  private inflight = 0
  private readonly journal: JournalWriter | null
  private readonly opts: ListenerOptions

  /** Made by startListener(). */
  constructor(server: http.Server, opts: ListenerOptions, journal: JournalWriter | null, forwardUrl: null | URL) {
    super()
    this.server = server
    this.opts = opts
    this.journal = journal
    this.forwardUrl = forwardUrl
    this.forwardAgent = forwardUrl
      ? new (forwardUrl.protocol === 'https:' ? https.Agent : http.Agent)({keepAlive: true, maxSockets: 64})
      : null
    this.path = normalizePath(opts.path ?? '/')
    this.checks = {
      elements: Boolean(opts.elementsKey),
      pipedrive: Boolean(opts.basicAuth),
      pipeliner: Boolean(opts.pipelinerKey),
    }
    const addr = server.address() as AddressInfo
    this.port = addr.port
    this.host = opts.host ?? '127.0.0.1'
    const shownHost = this.host.includes(':') ? `[${this.host}]` : this.host
    this.url = `http://${shownHost}:${this.port}${this.path}`
  }

  /** True when no check is configured: every delivery is accepted unverified. */
  get acceptsAll(): boolean {
    return !this.checks.elements && !this.checks.pipedrive && !this.checks.pipeliner
  }

  /** The forward target, without credentials (for display). */
  get forwardTarget(): null | string {
    return this.forwardUrl ? displayUrl(this.forwardUrl) : null
  }

  /**
   * Stops accepting, lets deliveries in progress finish (their events are emitted, their relays answer or time out),
   * closes every connection and flushes the journal. Safe to call more than once.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const closed = new Promise<void>(resolve => {
        this.server.close(() => resolve())
      })
      this.server.closeIdleConnections()
      if (this.inflight > 0) {
        await new Promise<void>(resolve => {
          this.idleWaiters.push(resolve)
        })
      }

      this.server.closeAllConnections()
      await closed
      this.forwardAgent?.destroy()
      if (this.journal) {
        try {
          await this.journal.close()
        } catch {
          // already reported through 'error'
        }
      }
    })()
    return this.closing
  }

  /** The request handler (called by the server). */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/'
    if (url !== this.path && !this.pathMatches(url)) {
      this.reject(req, res, {reason: `nothing here: deliveries are accepted on ${this.path}`, status: 404})
      return
    }

    if (req.method !== 'POST') {
      this.reject(req, res, {headers: {allow: 'POST'}, reason: `method ${req.method} not allowed: deliveries are POSTed`, status: 405})
      return
    }

    const max = this.opts.maxBodyBytes ?? DEFAULT_MAX_BODY
    const declared = Number(req.headers['content-length'])
    if (declared > max) {
      this.tooLarge(req, res, max)
      return
    }

    if (this.limitReached()) {
      this.reject(req, res, {headers: {connection: 'close'}, reason: 'max events reached: the listener is stopping', status: 503})
      return
    }

    const chunks: Buffer[] = []
    let size = 0
    let over = false
    req.on('data', (chunk: Buffer) => {
      if (over) return
      size += chunk.length
      if (size > max) {
        over = true
        chunks.length = 0
        this.tooLarge(req, res, max)
        return
      }

      chunks.push(chunk)
    })
    req.on('end', () => {
      if (over) return
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)
      this.run(req, res, body)
    })
    req.on('error', () => {
      // aborted by the client: nothing to answer
    })
  }

  /** Answers the sender, relays, then reports the delivery's events. Async only when relaying. */
  private deliver(d: Accepted): Promise<void> | void {
    d.res.writeHead(200, OK_HEADERS)
    d.res.end(OK_BODY)
    if (!this.forwardUrl) {
      this.finish(d)
      return
    }

    return sendRaw(this.forwardUrl, {
      agent: this.forwardAgent ?? undefined,
      body: d.body,
      headers: {...endToEndHeaders(d.req.headers), 'x-pdhooks-delivery-id': d.id},
      method: d.req.method ?? 'POST',
      timeoutMs: this.opts.forwardTimeoutMs ?? 10_000,
    }).then(forward => this.finish(d, forward))
  }

  /** A bug, or an 'event' handler that threw: answered 500 if still possible, else reported through 'error'. */
  private failed(req: IncomingMessage, res: ServerResponse, error: Error): void {
    if (res.headersSent) this.emit('error', error)
    else this.reject(req, res, {reason: `internal error: ${error.message}`, status: 500})
  }

  private finish(d: Accepted, forward?: ForwardResult): void {
    const count = d.events.length
    for (let index = 0; index < count; index++) {
      const e = d.events[index]
      const event: ListenerEvent = {
        id: d.id,
        index,
        count,
        time: d.time,
        source: d.source,
        action: e.action,
        object: e.object,
        objectId: e.objectId,
        attempt: e.attempt,
        webhookId: e.webhookId,
        eventId: e.eventId,
        verified: d.verified,
        status: 200,
      }
      if (forward) event.forward = forward
      this.stats.events++
      this.emit('event', event)
    }

    this.completed++
    if (this.completed === this.opts.maxEvents) this.emit('done')
  }

  private pathMatches(url: string): boolean {
    const q = url.indexOf('?')
    return normalizePath(q === -1 ? url : url.slice(0, q)) === this.path
  }

  private limitReached(): boolean {
    const max = this.opts.maxEvents
    return max !== undefined && max > 0 && this.stats.accepted >= max
  }

  /** Checks and journals one complete delivery. Returns a promise only when something asynchronous remains. */
  private process(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> | void {
    const time = isoNow()
    const id = randomUUID()
    if (body.length === 0) {
      this.reject(req, res, {
        id, reason: 'empty body: a JSON delivery was expected', status: 400, time,
      })
      return
    }

    const text = body.toString('utf8')
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (error) {
      const detail = (error as Error).message.slice(0, 120)
      this.reject(req, res, {
        id, reason: `malformed JSON (${detail})`, status: 400, time,
      })
      return
    }

    const {events, source} = detectDelivery(parsed, req.headers)
    const verdict = this.verify(source, req.headers, body)
    if (verdict.ok === false) {
      const headers = verdict.challenge ? {'www-authenticate': 'Basic realm="pdhooks", charset="UTF-8"'} : undefined
      this.reject(req, res, {
        headers, id, reason: verdict.reason ?? 'check failed', source, status: 401, time,
      })
      return
    }

    if (this.limitReached()) {
      const reason = 'max events reached: the listener is stopping'
      this.reject(req, res, {
        headers: {connection: 'close'}, id, reason, source, status: 503, time,
      })
      return
    }

    if (this.journal?.error) {
      this.reject(req, res, {
        id, reason: 'the journal cannot be written', source, status: 500, time,
      })
      return
    }

    this.stats.accepted++
    const accepted: Accepted = {
      body, events, id, req, res, source, time, verified: verdict.ok,
    }
    if (this.journal) {
      const line = journalLine({
        body, headers: req.headers, id, method: req.method ?? 'POST', path: req.url ?? '/', source, text, time,
      })
      if (!this.journal.writeLine(line)) {
        // the disk is behind: answer once the journal has room (a failure is reported by the journal's onError)
        return this.journal.drain().then(
          () => this.deliver(accepted),
          () => this.deliver(accepted),
        )
      }
    }

    return this.deliver(accepted)
  }

  /** Reports a journal write failure (called by the journal). */
  journalFailed(error: Error): void {
    const wrapped = new PdhooksError(`Cannot write journal ${this.journal?.file}: ${error.message}`, {cause: error})
    this.emit('error', wrapped)
  }

  private reject(req: IncomingMessage, res: ServerResponse, r: RejectInfo): void {
    const {reason, status} = r
    const id = r.id ?? randomUUID()
    const time = r.time ?? new Date().toISOString()
    if (!res.headersSent) {
      const body = errorBody(status, reason)
      res.writeHead(status, {
        ...r.headers,
        'content-length': String(body.length),
        'content-type': 'application/json',
      })
      res.end(body)
    }

    this.stats.rejected++
    this.emit('rejected', {
      id,
      method: req.method ?? '',
      path: redactUrl(req.url ?? '/'),
      reason,
      remoteAddress: req.socket.remoteAddress ?? null,
      source: r.source ?? null,
      status,
      time,
    })
  }

  /** Processes a complete body, keeping count of deliveries in progress (for close()). */
  private run(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    this.inflight++
    let pending: Promise<void> | void
    try {
      pending = this.process(req, res, body)
    } catch (error) {
      this.failed(req, res, error as Error)
      this.settle()
      return
    }

    if (pending) {
      pending.catch((error: Error) => this.failed(req, res, error)).finally(() => this.settle())
    } else {
      this.settle()
    }
  }

  private settle(): void {
    this.inflight--
    if (this.inflight === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters
      this.idleWaiters = []
      for (const w of waiters) w()
    }
  }

  /** 413 at once; the rest of the body is read and dropped (not buffered), up to a bound, then the connection is cut. */
  private tooLarge(req: IncomingMessage, res: ServerResponse, max: number): void {
    this.reject(req, res, {headers: {connection: 'close'}, reason: `body larger than ${max} bytes`, status: 413})
    let discarded = 0
    req.on('data', (chunk: Buffer) => {
      discarded += chunk.length
      if (discarded > DISCARD_LIMIT) req.socket.destroy()
    })
    req.resume()
  }

  private verify(source: DeliverySource, headers: IncomingHttpHeaders, body: Buffer): Verdict {
    const {basicAuth, elementsKey, pipelinerKey} = this.opts
    switch (source) {
    case 'elements': {
      if (elementsKey) {
        const sig = firstHeader(headers, 'elements-webhook-signature')
        if (!sig) return {ok: false, reason: 'missing Elements-Webhook-Signature header'}
        return verifyElements(elementsKey, body, sig)
          ? {ok: true}
          : {ok: false, reason: 'Elements-Webhook-Signature does not match the body'}
      }

      break
    }

    case 'pipedrive-v1':
    case 'pipedrive-v2': {
      if (basicAuth) {
        const auth = firstHeader(headers, 'authorization')
        if (!auth) return {challenge: true, ok: false, reason: 'missing basic auth credentials'}
        this.expectedAuth ??= basicAuthHeader(basicAuth.user, basicAuth.password)
        return safeEqual(auth.trim(), this.expectedAuth)
          ? {ok: true}
          : {challenge: true, ok: false, reason: 'basic auth credentials do not match'}
      }

      break
    }

    case 'pipeliner': {
      if (pipelinerKey) {
        const sig = firstHeader(headers, 'webhook-signature')
        if (!sig) return {ok: false, reason: 'missing WebHook-Signature header'}
        return verifyPipeliner(pipelinerKey, body, sig)
          ? {ok: true}
          : {ok: false, reason: 'WebHook-Signature does not match the body'}
      }

      break
    }

    default: {
      break
    }
    }

    if (this.acceptsAll) return {ok: null}
    const flag: Record<DeliverySource, string> = {
      elements: '--elements-key',
      'pipedrive-v1': '--basic-auth',
      'pipedrive-v2': '--basic-auth',
      pipeliner: '--pipeliner-key',
      unknown: '',
    }
    return source === 'unknown'
      ? {ok: false, reason: 'unrecognised delivery format, refused because checks are configured'}
      : {ok: false, reason: `no check configured for ${source} deliveries (${flag[source]})`}
  }
}

/**
 * Starts a receiver and resolves once it is listening. Configuration problems are PdhooksErrors: a bad forward URL or
 * journal path (exit 2), a port in use (exit 1).
 */
export async function startListener(opts: ListenerOptions = {}): Promise<Listener> {
  const forwardUrl = opts.forwardTo ? parseTargetUrl(opts.forwardTo, '--forward-to') : null
  if (opts.maxBodyBytes !== undefined && !(opts.maxBodyBytes > 0)) throw usageError('The body limit must be positive.')
  if (opts.basicAuth && (!opts.basicAuth.user || opts.basicAuth.password === undefined)) {
    throw usageError('--basic-auth must be user:password.')
  }

  let listener: Listener | null = null
  // a failing journal is reported once through 'error'; later deliveries are answered 500
  const journal = opts.journal
    ? await JournalWriter.open(opts.journal, {onError: error => listener?.journalFailed(error)})
    : null
  const server = http.createServer({keepAlive: true, keepAliveInitialDelay: 1000}, (req, res) => {
    if (listener) listener.handle(req, res)
    else {
      res.writeHead(503)
      res.end()
    }
  })
  server.keepAliveTimeout = 30_000
  server.headersTimeout = 35_000
  const host = opts.host ?? '127.0.0.1'
  const port = opts.port ?? 4000
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => {
        server.off('error', reject)
        resolve()
      })
    })
  } catch (error) {
    await journal?.close().catch(() => {})
    const e = error as NodeJS.ErrnoException
    const what
      = e.code === 'EADDRINUSE'
        ? `Port ${port} is already in use on ${host}.`
        : (e.code === 'EACCES'
          ? `Not allowed to listen on ${host}:${port}.`
          : `Cannot listen on ${host}:${port}: ${e.message}.`)
    throw new PdhooksError(what, {cause: e, hint: 'Choose another port with --port (0 picks a free one).'})
  }

  listener = new Listener(server, opts, journal, forwardUrl)
  server.on('error', error => listener?.emit('error', error))
  return listener
}

/** One human line per event: time, source, action.object, object id, attempt, verification and relay status. */
export function formatEvent(e: ListenerEvent): string {
  const parts = [e.time, e.source.padEnd(12), `${e.action}.${e.object}`, e.objectId ?? '-']
  if (e.attempt !== null) parts.push(`attempt ${e.attempt}`)
  parts.push(e.verified === null ? 'unverified' : (e.verified ? 'verified' : 'NOT verified'))
  if (e.forward) {
    parts.push(e.forward.status === null ? `→ failed (${e.forward.error ?? 'no answer'})` : `→ ${e.forward.status} ${e.forward.ms}ms`)
  }

  return parts.join('  ')
}
