/**
 * The webhook receiver behind `pdhooks listen`.
 *
 * - Recognises Pipedrive v1 / v2 deliveries, Cloud Elements / Open Connectors notifications and Pipeliner arrays from
 *   the body (see recognition.ts) and checks each with its own source's method, in constant time: basic auth for
 *   Pipedrive, `Elements-Webhook-Signature` for Cloud Elements, `WebHook-Signature` (hex or base64) for Pipeliner.
 * - No check configured: everything is accepted (`verified: null`). Any check configured: a delivery whose source has
 *   no configured check (or an unrecognised body) is refused with 401.
 * - Answers: 200 `{"ok":true}` accepted; 400 empty or malformed JSON; 401 failed / missing / unconfigured check;
 *   404 other path; 405 not POST (with `Allow: POST`); 408 headers or body too slow; 413 body over the limit (stops
 *   buffering, closes the connection); 503 (with `Retry-After`) when the delivery cannot be kept: the journal cannot be
 *   written, the relay queue is full, the listener is stopping, or `maxEvents` were accepted.
 * - **Nothing is acknowledged that is not kept.** With a journal, the 200 is sent only once the delivery's line is
 *   written (group commit: one write and one fdatasync per batch of deliveries, see JournalWriter); a write error
 *   answers 503, so the service sends it again. With `forwardTo`, the delivery must also find a place in the bounded
 *   relay queue (see Forwarder), else 503.
 * - The 200 does not wait for the relay: a slow or dead forward target never slows the sender down or makes it retry
 *   (Pipedrive allows 10 s, and bans failing webhooks). The 'event' events of a forwarded delivery are emitted once the
 *   relay has answered (or failed), carrying its status and time.
 * - Slow clients: the headers must arrive within `headersTimeoutMs`, the whole request within `requestTimeoutMs` (408
 *   and the connection is closed).
 */
import type {AddressInfo, Socket} from 'node:net'

import {randomUUID} from 'node:crypto'
import {EventEmitter} from 'node:events'
import http, {
  type IncomingHttpHeaders, type IncomingMessage, type ServerResponse, STATUS_CODES,
} from 'node:http'

import type {DeliverySource, DetectedEvent} from './recognition.js'

import {ExitCode, PdhooksError, usageError} from '../core/errors.js'
import {Forwarder, NOT_FORWARDED} from './forwarder.js'
import {journalLine, JournalWriter, redactQuery} from './journal.js'
import {PRINT_LIMIT, printable} from './printable.js'
import {detectDelivery} from './recognition.js'
import {displayUrl, endToEndHeaders, parseTargetUrl} from './send.js'
import {
  basicAuthHeader, safeEqual, verifyElements, verifyPipeliner,
} from './signatures.js'

export {NOT_FORWARDED} from './forwarder.js'
export type {DeliverySource, DetectedDelivery, DetectedEvent} from './recognition.js'
export {detectDelivery} from './recognition.js'

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
  /** Time allowed to the forward target for one delivery, answer included, in ms. Default 10,000. */
  forwardTimeoutMs?: number
  /** Deliveries waiting for (or in) the relay at most; beyond, new deliveries are answered 503. Default 1000. */
  forwardQueue?: number
  /** NDJSON file to append each accepted delivery to. */
  journal?: string
  /** Also fdatasync each journal batch before answering its deliveries (default false: answered once written to the OS). */
  journalSync?: boolean
  /** More header names to redact in the journal (besides authorization, cookies and x-api-token). */
  redactHeaders?: string[]
  /** Time a client has to send the request headers, in ms. Default 10,000. */
  headersTimeoutMs?: number
  /** Time a client has to send the whole request, body included, in ms. Default 30,000. */
  requestTimeoutMs?: number
  /** On close(), time given to relays in progress before they are abandoned, in ms. Default 5,000. */
  closeGraceMs?: number
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
  /**
   * Why, as a stable word: not_found, method_not_allowed, timeout, too_large, bad_request, empty_body, malformed_json,
   * unauthorized, max_events, stopping, forward_queue_full, journal_unwritable, journal_behind, internal.
   */
  code: string
  /** Why, for people (sender-supplied parts escaped and cut). */
  reason: string
  remoteAddress: null | string
}

export interface ListenerStats {
  accepted: number
  rejected: number
  events: number
  /** Accepted deliveries whose relay was abandoned when the listener stopped. */
  unforwarded: number
}

export type ListenerEventMap = {
  done: []
  error: [Error]
  event: [ListenerEvent]
  /** Something worth saying that is not an error (the journal can be written again). */
  notice: [string]
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
  code: string
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

/** What close() reports. */
export interface CloseSummary {
  /** Accepted deliveries whose relay was abandoned (they are in the journal, when there is one). */
  unforwarded: number
}

const RETRY_AFTER = '5'

/**
 * A running receiver: an EventEmitter of 'event' (one per reported event), 'rejected' (one per error answer),
 * 'error' (journal failure, once per failing period; standard EventEmitter semantics: attach a handler), 'notice'
 * (the journal can be written again) and 'done' (maxEvents reached).
 */
export class Listener extends EventEmitter<ListenerEventMap> {
  readonly checks: ListenerChecks
  readonly host: string
  readonly path: string
  readonly port: number
  readonly server: http.Server
  readonly stats: ListenerStats = {
    accepted: 0, events: 0, rejected: 0, unforwarded: 0,
  }
  readonly url: string
  /** Deliveries whose journal line is being written (they count towards maxEvents). */
  private accepting = 0
  /** Requests whose body is still being received (to tell a header timeout from a body timeout). */
  private readonly bodyPending = new WeakSet<Socket>()
  private closing: null | Promise<CloseSummary> = null
  private completed = 0
  private expectedAuth: string | undefined
  private readonly forwarder: Forwarder | null
  private readonly forwardUrl: null | URL
  private idleWaiters: Array<() => void> = []
  private inflight = 0
  private readonly journal: JournalWriter | null
  private readonly opts: ListenerOptions
  private readonly redact: ReadonlySet<string> | undefined
  private stopNow: (() => void) | null = null
  private stopping = false

  /** Made by startListener(). */
  constructor(server: http.Server, opts: ListenerOptions, journal: JournalWriter | null, forwardUrl: null | URL) {
    super()
    this.server = server
    this.opts = opts
    this.journal = journal
    this.forwardUrl = forwardUrl
    this.forwarder = forwardUrl
      ? new Forwarder(forwardUrl, {capacity: opts.forwardQueue ?? 1000, timeoutMs: opts.forwardTimeoutMs ?? 10_000})
      : null
    this.redact = opts.redactHeaders?.length ? new Set(opts.redactHeaders.map(h => h.trim().toLowerCase())) : undefined
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

  /** Deliveries accepted or being journaled (they passed every check and found a place). */
  get admitted(): number {
    return this.stats.accepted + this.accepting
  }

  /** Deliveries waiting for (or in) the relay. */
  get unrelayed(): number {
    return this.forwarder?.pending ?? 0
  }

  /** Answers a request the HTTP parser gave up on: 408 for a slow client, 400 / 431 for a malformed request. */
  clientError(error: NodeJS.ErrnoException, socket: Socket): void {
    const pending = (socket as Socket & {_httpMessage?: ServerResponse})._httpMessage
    if (error.code === 'ECONNRESET' || error.code === 'EPIPE' || !socket.writable || pending?.headersSent) {
      socket.destroy()
      return
    }

    let status = 400
    let code = 'bad_request'
    let reason = `malformed HTTP request (${printable(error.code ?? error.message, 60)})`
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      status = 408
      code = 'timeout'
      reason = this.bodyPending.has(socket)
        ? `body not received within ${(this.server.requestTimeout / 1000).toFixed(0)} s of the request's start`
        : `headers not received within ${(this.server.headersTimeout / 1000).toFixed(0)} s`
    } else if (error.code === 'HPE_HEADER_OVERFLOW') {
      status = 431
      code = 'headers_too_large'
      reason = 'request headers too large'
    }

    const body = errorBody(status, reason)
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body.toString()}`)
    socket.destroySoon()
    this.stats.rejected++
    this.emit('rejected', {
      code,
      id: randomUUID(),
      method: '',
      path: '',
      reason,
      remoteAddress: socket.remoteAddress ?? null,
      source: null,
      status,
      time: new Date().toISOString(),
    })
  }

  /**
   * Stops accepting (new requests get 503 and their connections are closed), lets the deliveries being received and
   * journaled finish, gives relays in progress `closeGraceMs` (or until interrupt()), abandons the rest, closes every
   * connection and the journal. Resolves with how many accepted deliveries were not relayed. Safe to call more than once.
   */
  close(): Promise<CloseSummary> {
    this.closing ??= (async () => {
      this.stopping = true
      const closed = new Promise<void>(resolve => {
        this.server.close(() => resolve())
      })
      this.server.closeIdleConnections()
      const grace = this.opts.closeGraceMs ?? 5000
      const start = Date.now()
      let timer: NodeJS.Timeout | undefined
      const cutShort = new Promise<void>(resolve => {
        this.stopNow = resolve
        timer = setTimeout(resolve, grace)
      })
      // requests being received or journaled finish (answered 503 if not yet accepted), within the grace
      if (this.inflight > 0) {
        await Promise.race([
          new Promise<void>(resolve => {
            this.idleWaiters.push(resolve)
          }),
          cutShort,
        ])
      }

      clearTimeout(timer)
      if (this.forwarder) {
        const stop = this.forwarder.stop(Math.max(0, grace - (Date.now() - start)))
        this.stopNow = stop.now
        cutShort.then(stop.now, () => {})
        await stop.done
      }

      this.server.closeAllConnections()
      await closed
      if (this.journal) {
        try {
          await this.journal.close()
        } catch {
          // already reported through 'error'
        }
      }

      return {unforwarded: this.stats.unforwarded}
    })()
    return this.closing
  }

  /** The request handler (called by the server). */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/'
    if (url !== this.path && !this.pathMatches(url)) {
      this.reject(req, res, {code: 'not_found', reason: `nothing here: deliveries are accepted on ${this.path}`, status: 404})
      return
    }

    if (req.method !== 'POST') {
      this.reject(req, res, {
        code: 'method_not_allowed', headers: {allow: 'POST'}, reason: `method ${printable(req.method, 20)} not allowed: deliveries are POSTed`, status: 405,
      })
      return
    }

    if (this.stopping) {
      this.reject(req, res, {
        code: 'stopping', headers: {connection: 'close', 'retry-after': RETRY_AFTER}, reason: 'the listener is stopping', status: 503,
      })
      return
    }

    const max = this.opts.maxBodyBytes ?? DEFAULT_MAX_BODY
    const declared = Number(req.headers['content-length'])
    if (declared > max) {
      this.tooLarge(req, res, max)
      return
    }

    if (this.limitReached()) {
      this.reject(req, res, {
        code: 'max_events', headers: {connection: 'close'}, reason: 'max events reached: the listener is stopping', status: 503,
      })
      return
    }

    const {socket} = req
    this.bodyPending.add(socket)
    // in progress from now until answered (close() waits for it)
    this.inflight++
    let counted = true
    const settled = (): void => {
      if (!counted) return
      counted = false
      this.settle()
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
        this.bodyPending.delete(socket)
        this.tooLarge(req, res, max)
        settled()
        return
      }

      chunks.push(chunk)
    })
    req.on('end', () => {
      this.bodyPending.delete(socket)
      if (over) return
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)
      this.run(req, res, body, settled)
    })
    req.on('error', () => {
      // aborted by the client: nothing to answer
      settled()
    })
    req.on('close', () => {
      if (!req.complete) settled()
    })
  }

  /** Ends the grace close() gives to relays in progress (a second Ctrl-C). */
  interrupt(): void {
    this.stopNow?.()
  }

  /** Reports a journal write failure (called by the journal, once per failing period). */
  journalFailed(error: Error): void {
    const wrapped = new PdhooksError(
      `Cannot write journal ${this.journal?.file}: ${error.message}. Deliveries are answered 503 (the sender will retry) until it can be written again.`,
      {cause: error},
    )
    this.emit('error', wrapped)
  }

  /** Reports that the journal can be written again (called by the journal). */
  journalRecovered(): void {
    this.emit('notice', `Journal ${this.journal?.file} is written again: deliveries are accepted.`)
  }

  /** Answers the sender 200 (the delivery is kept), relays, then reports the delivery's events. */
  private deliver(d: Accepted): void {
    d.res.writeHead(200, OK_HEADERS)
    d.res.end(OK_BODY)
    if (!this.forwarder) {
      this.finish(d)
      return
    }

    this.forwarder.push({
      body: d.body,
      done: ({dropped, ...forward}) => {
        if (dropped) this.stats.unforwarded++
        try {
          this.finish(d, forward)
        } catch (error) {
          this.emit('error', error as Error)
        }
      },
      headers: {...endToEndHeaders(d.req.headers), 'x-pdhooks-delivery-id': d.id},
      method: d.req.method ?? 'POST',
    })
  }

  /** A bug, or an 'event' handler that threw: answered 500 if still possible, else reported through 'error'. */
  private failed(req: IncomingMessage, res: ServerResponse, error: Error): void {
    if (res.headersSent) this.emit('error', error)
    else this.reject(req, res, {code: 'internal', reason: `internal error: ${printable(error.message)}`, status: 500})
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

  /** Keeps an accepted delivery: journals it (answering once its line is written), then delivers it. */
  private keep(d: Accepted, text: string): Promise<void> | void {
    const {forwarder, journal} = this
    if (forwarder && !forwarder.reserve(d.body.length)) {
      this.reject(d.req, d.res, {
        code: 'forward_queue_full',
        headers: {'retry-after': RETRY_AFTER},
        id: d.id,
        reason: `the relay queue is full (${forwarder.capacity} deliveries wait for ${this.forwardTarget})`,
        source: d.source,
        status: 503,
        time: d.time,
      })
      return
    }

    if (!journal) {
      this.stats.accepted++
      this.deliver(d)
      return
    }

    const line = journalLine({
      body: d.body, headers: d.req.headers, id: d.id, method: d.req.method ?? 'POST', path: d.req.url ?? '/', redact: this.redact, source: d.source, text, time: d.time,
    })
    return new Promise<void>(resolve => {
      this.accepting++
      const queued = journal.append(line, error => {
        this.accepting--
        if (error) this.notKept(d, 'journal_unwritable', `the journal cannot be written (${printable((error as NodeJS.ErrnoException).code ?? error.message, 60)})`)
        else {
          this.stats.accepted++
          this.deliver(d)
        }

        resolve()
      })
      if (!queued) {
        this.accepting--
        this.notKept(d, 'journal_behind', 'the journal is behind: too many deliveries wait to be written')
        resolve()
      }
    })
  }

  private limitReached(): boolean {
    const max = this.opts.maxEvents
    return max !== undefined && max > 0 && this.stats.accepted + this.accepting >= max
  }

  /** Answers 503 to a delivery that could not be kept, and gives back its place in the relay queue. */
  private notKept(d: Accepted, code: string, reason: string): void {
    this.forwarder?.release(d.body.length)
    this.reject(d.req, d.res, {
      code, headers: {'retry-after': RETRY_AFTER}, id: d.id, reason, source: d.source, status: 503, time: d.time,
    })
  }

  private pathMatches(url: string): boolean {
    const q = url.indexOf('?')
    return normalizePath(q === -1 ? url : url.slice(0, q)) === this.path
  }

  /** Checks one complete delivery and keeps it. Returns a promise only when something asynchronous remains. */
  private process(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> | void {
    const time = isoNow()
    const id = randomUUID()
    if (body.length === 0) {
      this.reject(req, res, {
        code: 'empty_body', id, reason: 'empty body: a JSON delivery was expected', status: 400, time,
      })
      return
    }

    const text = body.toString('utf8')
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (error) {
      // V8's message quotes the body: escaped and cut
      const detail = printable((error as Error).message, 120)
      this.reject(req, res, {
        code: 'malformed_json', id, reason: `malformed JSON (${detail})`, status: 400, time,
      })
      return
    }

    const {events, source} = detectDelivery(parsed, req.headers)
    const verdict = this.verify(source, req.headers, body)
    if (verdict.ok === false) {
      const headers = verdict.challenge ? {'www-authenticate': 'Basic realm="pdhooks", charset="UTF-8"'} : undefined
      this.reject(req, res, {
        code: 'unauthorized', headers, id, reason: verdict.reason ?? 'check failed', source, status: 401, time,
      })
      return
    }

    if (this.stopping) {
      this.reject(req, res, {
        code: 'stopping', headers: {connection: 'close', 'retry-after': RETRY_AFTER}, id, reason: 'the listener is stopping', source, status: 503, time,
      })
      return
    }

    if (this.limitReached()) {
      const reason = 'max events reached: the listener is stopping'
      this.reject(req, res, {
        code: 'max_events', headers: {connection: 'close'}, id, reason, source, status: 503, time,
      })
      return
    }

    return this.keep({
      body, events, id, req, res, source, time, verified: verdict.ok,
    }, text)
  }

  private reject(req: IncomingMessage, res: ServerResponse, r: RejectInfo): void {
    const {code, reason, status} = r
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
      code,
      id,
      method: printable(req.method ?? '', 20),
      path: printable(redactQuery(req.url ?? '/'), PRINT_LIMIT),
      reason,
      remoteAddress: req.socket.remoteAddress ?? null,
      source: r.source ?? null,
      status,
      time,
    })
  }

  /** Processes a complete body; `settled` ends its count of deliveries in progress (for close()). */
  private run(req: IncomingMessage, res: ServerResponse, body: Buffer, settled: () => void): void {
    let pending: Promise<void> | void
    try {
      pending = this.process(req, res, body)
    } catch (error) {
      this.failed(req, res, error as Error)
      settled()
      return
    }

    if (pending) {
      pending.catch((error: Error) => this.failed(req, res, error)).finally(settled)
    } else {
      settled()
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
    this.reject(req, res, {
      code: 'too_large', headers: {connection: 'close'}, reason: `body larger than ${max} bytes`, status: 413,
    })
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
 * Starts a receiver and resolves once it is listening. Configuration problems are usage errors (exit 2): a bad forward
 * URL or journal path, bad timeouts, a port in use or not allowed.
 */
export async function startListener(opts: ListenerOptions = {}): Promise<Listener> {
  const forwardUrl = opts.forwardTo ? parseTargetUrl(opts.forwardTo, '--forward-to') : null
  if (opts.maxBodyBytes !== undefined && !(opts.maxBodyBytes > 0)) throw usageError('The body limit must be positive.')
  if (opts.basicAuth && (!opts.basicAuth.user || opts.basicAuth.password === undefined)) {
    throw usageError('--basic-auth must be user:password.')
  }

  const headersTimeout = opts.headersTimeoutMs ?? 10_000
  const requestTimeout = opts.requestTimeoutMs ?? 30_000
  if (!(headersTimeout > 0) || !(requestTimeout > 0)) throw usageError('Timeouts must be positive.')
  if (headersTimeout > requestTimeout) {
    throw usageError('--headers-timeout cannot be longer than --request-timeout (the whole request, headers included).')
  }

  for (const name of opts.redactHeaders ?? []) {
    if (!/^[!#$%&'*+.^`|~\w-]+$/.test(name.trim())) throw usageError(`--redact-header ${printable(name, 60)} is not a header name.`, 'Give a name like X-Signature.')
  }

  let listener: Listener | null = null
  // a failing journal is reported once per failing period through 'error'; its deliveries are answered 503
  const journal = opts.journal
    ? await JournalWriter.open(opts.journal, {
      onError: error => listener?.journalFailed(error),
      onRecover: () => listener?.journalRecovered(),
      sync: opts.journalSync ?? false,
    })
    : null
  const server = http.createServer({
    // how often the header and request timeouts are checked (Node's default, 30 s, would let a slow client stay 30 s longer)
    connectionsCheckingInterval: Math.min(1000, headersTimeout),
    headersTimeout,
    keepAlive: true,
    keepAliveInitialDelay: 1000,
    requestTimeout,
  }, (req, res) => {
    if (listener) listener.handle(req, res)
    else {
      res.writeHead(503)
      res.end()
    }
  })
  server.keepAliveTimeout = 30_000
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (listener) listener.clientError(error, socket)
    else socket.destroy()
  })
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
    throw new PdhooksError(what, {
      cause: e,
      code: e.code === 'EADDRINUSE' ? 'port_in_use' : 'usage',
      exit: ExitCode.usage,
      hint: 'Choose another port with --port (0 picks a free one).',
    })
  }

  listener = new Listener(server, opts, journal, forwardUrl)
  server.on('error', error => listener?.emit('error', error))
  return listener
}

/** Sender-supplied parts of a line, escaped and cut. */
const field = (v: null | string, max = 80): string => (v === null ? '-' : printable(v, max))

/** One human line per event: time, source, action.object, object id, attempt, verification and relay status. */
export function formatEvent(e: ListenerEvent): string {
  const parts = [e.time, e.source.padEnd(12), `${field(e.action, 40)}.${field(e.object, 40)}`, field(e.objectId)]
  if (e.attempt !== null) parts.push(`attempt ${e.attempt}`)
  parts.push(e.verified === null ? 'unverified' : (e.verified ? 'verified' : 'NOT verified'))
  if (e.forward) {
    if (e.forward.status === null) {
      parts.push(e.forward.error === NOT_FORWARDED ? `→ ${NOT_FORWARDED}` : `→ failed (${field(e.forward.error ?? 'no answer', 120)})`)
    } else {
      parts.push(`→ ${e.forward.status} ${e.forward.ms}ms`)
    }
  }

  return parts.join('  ')
}

/** One human line per rejected request. */
export function formatRejection(r: ListenerRejection): string {
  const what = r.method ? `${r.method} ${r.path}` : `request from ${r.remoteAddress ?? 'unknown'}`
  return `${r.time}  rejected ${what}: ${r.status} ${r.reason}`
}
