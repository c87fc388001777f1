/**
 * `pdhooks listen --register / --pipeliner`: one run's temporary webhooks, from the checks before anything listens to
 * the cleanup on every way out.
 *
 * prepareSession (before the listener starts): flags checked, events parsed (exit 2), credentials found (exit 3), the
 * path token and the secrets made. start(listener): the tunnel, the sweep of earlier runs' leftovers, the quota, the
 * registrations; any failure or signal there deletes what was made, stops the tunnel, closes the listener and throws.
 * serve(listener): until Ctrl-C, SIGTERM, SIGHUP, --max-events or the tunnel's end. finish(): the cleanup (or --keep),
 * the tunnel stopped, the exit lines.
 *
 * Signals: the first one stops what runs (registering, serving); one during the listener's close ends the relays'
 * grace; one during the cleanup stops starting deletions, and after a short wait says what was not deleted and how to
 * delete it. A signal within REPEAT_MS of the previous one is the same signal (npx forwards Ctrl-C to its child).
 */
import {randomBytes, randomUUID} from 'node:crypto'

import type {Settings} from '../core/config.js'
import type {Listener} from './listener.js'

import {pipedriveClient, pipelinerClient} from '../core/clients.js'
import {ExitCode, PdhooksError, usageError} from '../core/errors.js'
import {
  InterruptedError, REPEAT_MS, SIGNAL_EXIT, type StopSignal,
} from '../core/interrupt.js'
import {registerSecret} from '../core/mask.js'
import {checkTargetUrl} from '../core/urls.js'
import {type ParsedEvent, parseEvent, targetOf} from '../pipedrive/events.js'
import {parsePipelinerEvents} from '../pipeliner/events.js'
import {
  cleanupLines, type CleanupResult, deleteCommand, TemporaryWebhooks,
} from './register.js'
import {ownMarker} from './temporary.js'
import {startTunnel, type Tunnel, type TunnelProgram} from './tunnel.js'

export interface SessionOptions {
  basicAuth?: {password: string; user: string}
  keep?: boolean
  notify: (line: string) => void
  /** --path given on the command line (the token is added under it); else the public URL's path. */
  path?: string
  pipeliner?: string[]
  pipelinerKey?: string
  publicUrl?: string
  register?: string[]
  settings: Settings
  timeoutMs: number
  tunnel?: TunnelProgram
  tunnelTimeoutMs: number
  userAgent: string
  userId?: number
  version?: string
}

/** How long a cleanup stopped by a signal may still wait for the deletions in flight. */
const CLEANUP_STOP_MS = 3000

type Signal = StopSignal | 'SIGHUP'
const SIGNALS: Signal[] = ['SIGINT', 'SIGTERM', 'SIGHUP']
const exitFor = (s: Signal) => (s === 'SIGHUP' ? 129 : SIGNAL_EXIT[s])

const joinPath = (base: string, token: string) => `${base.replace(/\/+$/, '')}/${token}`

/** Checks the flags, parses the events, finds the credentials and makes the secrets: nothing is sent yet. */
export async function prepareSession(o: SessionOptions): Promise<TemporarySession> {
  const registering = (o.register?.length ?? 0) > 0 || (o.pipeliner?.length ?? 0) > 0
  if (!registering) {
    const given = [o.publicUrl !== undefined && '--public-url', o.tunnel && '--tunnel', o.keep && '--keep'].filter(Boolean).join(', ')
    throw usageError(`${given} only make sense with --register or --pipeliner.`, "E.g. pdhooks listen --register '*.deal' --tunnel cloudflared.", 'missing_value')
  }

  if (o.publicUrl === undefined && !o.tunnel) {
    throw usageError('--register and --pipeliner need a public URL that reaches this listener.', 'Pass --tunnel cloudflared (or ngrok) to start one, or --public-url URL.', 'missing_value')
  }

  const publicUrl = o.publicUrl === undefined ? undefined : new URL(checkTargetUrl(o.publicUrl, '--public-url'))
  const pdEvents: ParsedEvent[] = []
  for (const e of o.register ?? []) {
    const parsed = parseEvent(e, {target: targetOf(publicUrl?.toString()), version: o.version})
    if (!pdEvents.some(p => p.action === parsed.action && p.object === parsed.object && p.version === parsed.version)) pdEvents.push(parsed)
  }

  const pl = (o.pipeliner?.length ?? 0) > 0 ? parsePipelinerEvents(o.pipeliner!) : undefined
  for (const w of [...pdEvents.flatMap(e => e.warnings), ...(pl?.warnings ?? [])]) o.notify(`Warning: ${w}`)
  // credentials: exit 3 before anything listens
  const clientOpts = {timeoutMs: o.timeoutMs, userAgent: o.userAgent}
  const pdClient = pdEvents.length > 0 ? await pipedriveClient(o.settings, clientOpts) : undefined
  const plClient = pl ? await pipelinerClient(o.settings, clientOpts) : undefined

  const token = randomBytes(12).toString('hex')
  const base = o.path ?? publicUrl?.pathname ?? '/'
  const basicAuth = pdClient ? (o.basicAuth ?? {password: randomBytes(18).toString('base64url'), user: 'pdhooks'}) : o.basicAuth
  const pipelinerKey = plClient ? (o.pipelinerKey ?? randomUUID()) : o.pipelinerKey
  registerSecret(basicAuth?.password)
  registerSecret(pipelinerKey)
  return new TemporarySession({
    basicAuth,
    generated: {basicAuth: Boolean(pdClient && !o.basicAuth), pipelinerKey: Boolean(plClient && !o.pipelinerKey)},
    keep: Boolean(o.keep),
    notify: o.notify,
    path: joinPath(base, token),
    pd: pdClient ? {client: pdClient, events: pdEvents} : undefined,
    pipelinerKey,
    pl: plClient && pl ? {client: plClient, events: pl.events} : undefined,
    publicUrl,
    token,
    tunnel: o.tunnel,
    tunnelTimeoutMs: o.tunnelTimeoutMs,
    userId: o.userId,
  })
}

interface SessionParts {
  basicAuth?: {password: string; user: string}
  generated: {basicAuth: boolean; pipelinerKey: boolean}
  keep: boolean
  notify: (line: string) => void
  path: string
  pd?: {client: Awaited<ReturnType<typeof pipedriveClient>>; events: ParsedEvent[]}
  pipelinerKey?: string
  pl?: {client: Awaited<ReturnType<typeof pipelinerClient>>; events: string[]}
  publicUrl?: URL
  token: string
  tunnel?: TunnelProgram
  tunnelTimeoutMs: number
  userId?: number
}

export class TemporarySession {
  readonly basicAuth?: {password: string; user: string}
  /** The listener's path: the public URL's path (or --path) and the token. */
  readonly path: string
  readonly pipelinerKey?: string
  private cleanAbort = new AbortController()
  private finished?: Promise<PdhooksError | undefined>
  private hooks?: TemporaryWebhooks
  private lastSignalAt = 0
  private maxReached = false
  private listener?: Listener
  private readonly p: SessionParts
  private phase: 'cleaning' | 'done' | 'serving' | 'starting' | 'stopping' = 'starting'
  private readonly handlers = new Map<Signal, () => void>()
  private received?: Signal
  private startAbort = new AbortController()
  private startFailed = false
  private stopServing?: () => void
  private tunnelEnded?: string
  private tunnelProc?: Tunnel
  private publicBase?: URL

  constructor(p: SessionParts) {
    this.p = p
    this.basicAuth = p.basicAuth
    this.path = p.path
    this.pipelinerKey = p.pipelinerKey
    for (const s of SIGNALS) this.handlers.set(s, () => this.onSignal(s))
  }

  /** The registered URL (public URL and token). */
  get url(): string {
    const u = new URL(this.publicBase ?? this.p.publicUrl!)
    u.pathname = joinPath(u.pathname, this.p.token)
    return u.toString()
  }

  /**
   * After serve(): deletes the temporary webhooks (or keeps them with --keep), stops the tunnel, prints the exit lines.
   * Returns the error the run must end with (webhooks not deleted, the tunnel ended, a signal during the cleanup), if any.
   */
  async finish(): Promise<PdhooksError | undefined> {
    // after a failed start everything was already cleaned up
    if (this.startFailed) return
    this.finished ??= (async () => {
      let error: PdhooksError | undefined
      if (this.p.keep && this.hooks && this.hooks.made.length > 0) {
        for (const service of ['pipedrive', 'pipeliner'] as const) {
          const ids = this.hooks.made.filter(m => m.service === service).map(m => m.id)
          if (ids.length > 0) this.p.notify(`Kept ${ids.length} temporary ${service === 'pipedrive' ? 'Pipedrive' : 'Pipeliner'} ${ids.length === 1 ? 'webhook' : 'webhooks'} (--keep): ${ids.join(', ')}. They are never swept; delete them with: ${deleteCommand(service, ids)}`)
        }

        if (this.tunnelProc) {
          this.p.notify(`Warning: the kept webhooks aim at ${this.url}, which stops working with this ${this.p.tunnel} tunnel (a failing Pipedrive webhook is deleted by Pipedrive after 3 days).`)
        }
      } else {
        error = await this.cleanup()
      }

      await this.tunnelProc?.stop()
      this.phase = 'done'
      this.uninstall()
      if (!error && this.tunnelEnded) {
        error = new PdhooksError(`The tunnel ended while listening: ${this.tunnelEnded}.`, {code: 'tunnel_ended', exit: ExitCode.unavailable, hint: 'Start listen again (a new tunnel gets a new URL).'})
      }

      return error
    })()
    return this.finished
  }

  /** Until Ctrl-C, SIGTERM, SIGHUP, --max-events or the tunnel's end. */
  async serve(): Promise<void> {
    if (this.received) return
    this.phase = 'serving'
    await new Promise<void>(resolve => {
      this.stopServing = resolve
      // --max-events may have been reached by deliveries that came while registering
      if (this.tunnelEnded || this.maxReached) resolve()
    })
    this.phase = 'stopping'
  }

  /**
   * Starts the tunnel (if any), sweeps earlier runs' leftovers, checks the quota and registers. Any failure or signal:
   * what was made is deleted, the tunnel stopped, the listener closed, and the error (or the interruption) thrown.
   */
  async start(listener: Listener): Promise<void> {
    this.listener = listener
    listener.once('done', () => {
      this.maxReached = true
      this.stopServing?.()
    })
    this.install()
    try {
      if (this.p.tunnel) {
        this.p.notify(`Starting ${this.p.tunnel} for http://127.0.0.1:${listener.port} …`)
        this.tunnelProc = await startTunnel(this.p.tunnel, {
          host: listener.host,
          onExit: why => {
            this.tunnelEnded = why
            this.p.notify(`Warning: the tunnel ended: ${why}. Deliveries cannot reach this machine any more: stopping.`)
            this.stopServing?.()
          },
          port: listener.port,
          signal: this.startAbort.signal,
          timeoutMs: this.p.tunnelTimeoutMs,
        })
        this.publicBase = new URL(this.tunnelProc.url)
        this.p.notify(`Tunnel: ${this.tunnelProc.url} (${this.p.tunnel}, pid ${this.tunnelProc.pid})`)
      }

      this.hooks = new TemporaryWebhooks({
        marker: ownMarker({kept: this.p.keep}),
        notify: this.p.notify,
        pipedrive: this.p.pd
          ? {
            auth: this.p.basicAuth!, client: this.p.pd.client, events: this.p.pd.events, userId: this.p.userId,
          }
          : undefined,
        pipeliner: this.p.pl ? {client: this.p.pl.client, events: this.p.pl.events, signature: this.p.pipelinerKey!} : undefined,
        url: this.url,
      })
      if (!this.startAbort.signal.aborted) await this.hooks.sweep()
      if (!this.startAbort.signal.aborted) await this.hooks.register(this.startAbort.signal)
      this.throwIfInterrupted()
    } catch (error) {
      const e = this.received ? this.interrupted() : error
      await this.failStart()
      throw e
    }

    if (this.p.generated.basicAuth) this.p.notify(`Pipedrive deliveries must carry the generated basic auth (user ${this.p.basicAuth!.user}, password ${this.p.basicAuth!.password}): it is checked.`)
    if (this.p.generated.pipelinerKey) this.p.notify(`Pipeliner deliveries must carry a WebHook-Signature made with the generated key (${this.p.pipelinerKey}): it is checked.`)
    this.p.notify(`The temporary webhooks are deleted when listen ends${this.p.keep ? ' … except with --keep: they stay' : ' (Ctrl-C, SIGTERM, --max-events, an error)'}.`)
  }

  /** Deletes what was made (stopping early at a signal); prints the lines; the error when something was left. */
  private async cleanup(): Promise<PdhooksError | undefined> {
    if (!this.hooks) return undefined
    this.phase = 'cleaning'
    let result: CleanupResult | undefined
    const run = this.hooks.cleanup(this.cleanAbort.signal).then(r => {
      result = r
    })
    // at a signal, the deletions in flight get a few seconds, then what is left is reported
    const stopped = new Promise<void>(resolve => {
      const go = () => setTimeout(resolve, CLEANUP_STOP_MS).unref()
      if (this.cleanAbort.signal.aborted) go()
      else this.cleanAbort.signal.addEventListener('abort', go, {once: true})
    })
    try {
      await Promise.race([run, stopped])
    } catch (error) {
      result = {deleted: [], failed: this.hooks.made.map(m => ({...m, error: PdhooksError.from(error).message})), unchecked: []}
    }

    if (!result) {
      result = {deleted: [], failed: this.hooks.made.map(m => ({...m, error: 'not confirmed deleted: stopped'})), unchecked: []}
    }

    for (const line of cleanupLines(result)) this.p.notify(line)
    if (this.received && this.phase === 'cleaning' && this.cleanAbort.signal.aborted && result.failed.length > 0) {
      return new PdhooksError(`Stopped (${this.received}) before every temporary webhook was deleted.`, {code: 'interrupted', exit: exitFor(this.received)})
    }

    if (result.failed.length > 0) {
      const exit = Math.max(ExitCode.unexpected, ...result.failed.map(f => (/\b(429|5\d\d)\b|timed? ?out|unavailable/i.test(f.error) ? ExitCode.unavailable : ExitCode.unexpected)))
      return new PdhooksError(`${result.failed.length} temporary ${result.failed.length === 1 ? 'webhook was' : 'webhooks were'} not deleted (see above).`, {
        code: 'cleanup_failed', details: {report: {notDeleted: result.failed.map(f => ({id: f.id, service: f.service}))}}, exit,
      })
    }

    return undefined
  }

  /** A failed or interrupted start: deletes what was made, stops the tunnel, closes the listener. */
  private async failStart(): Promise<void> {
    this.startFailed = true
    await this.cleanup()
    await this.tunnelProc?.stop()
    await this.listener?.close()
    this.phase = 'done'
    this.uninstall()
  }

  private install(): void {
    for (const [s, h] of this.handlers) process.on(s, h)
  }

  private interrupted(): InterruptedError {
    const sig = this.received === 'SIGHUP' ? 'SIGTERM' : (this.received ?? 'SIGINT')
    const made = this.hooks?.made ?? []
    const e = new InterruptedError(sig, {
      message: made.length === 0 ? 'stopped while registering; no temporary webhook is left' : 'stopped while registering',
    })
    return e
  }

  private onSignal(sig: Signal): void {
    const now = Date.now()
    const repeat = now - this.lastSignalAt < REPEAT_MS
    this.lastSignalAt = now
    if (repeat) return
    this.received ??= sig
    switch (this.phase) {
    case 'starting': {
      this.startAbort.abort()
      break
    }

    case 'serving': {
      this.stopServing?.()
      break
    }

    case 'stopping': {
      // a second Ctrl-C ends the grace given to relays in progress
      this.listener?.interrupt()
      break
    }

    case 'cleaning': {
      this.p.notify('Stopping the cleanup: the deletions in flight get a few seconds (what is left is listed).')
      this.cleanAbort.abort()
      break
    }

    default: {
      break
    }
    }
  }

  private throwIfInterrupted(): void {
    if (this.received) throw this.interrupted()
  }

  private uninstall(): void {
    for (const [s, h] of this.handlers) process.off(s, h)
  }
}
