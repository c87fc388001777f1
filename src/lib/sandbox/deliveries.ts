/**
 * Outgoing deliveries of the sandbox: Pipedrive webhook deliveries (with the documented retry, ban and
 * auto-delete rules), Cloud Elements notifications (forwarded webhook events and polling) and Pipeliner deliveries.
 * The rule functions are pure; {@link DeliveryEngine} wires them to timers and HTTP.
 */
import {randomUUID} from 'node:crypto'

import type {
  CeEventRecord, CeInstance, ChangeRecord, PdHealth, PdWebhook, SandboxState,
} from './state.js'

import {type DeliveryContext, eventName, pipedriveBody} from '../deliveries/build.js'
import {
  elementsDate,
  type ElementsEvent,
  elementsNotification,
  elementsObjectType,
  pipelinerChunks,
  pipelinerDelivery,
} from '../deliveries/payloads.js'
import {
  pipedriveSample, type PipedriveVersion, type SampleEvent, sampleObjects,
} from '../deliveries/samples.js'
import {basicAuthHeader, signElements, signPipeliner} from '../deliveries/signatures.js'
import {type Clock, type TimerHandle} from './clock.js'
import {
  canForward, polledResources, recordEvent, refreshMinutes, vendorType,
} from './elements.js'
import {postJson, type PostResult, type Timers} from './http.js'
import {webhookMatches} from './pipedrive.js'
import {plEventMatches, plOptionsAllow, presentPlWebhook} from './pipeliner.js'
import {LIMITS} from './state.js'

/** Pipedrive's documented delivery timings at timeScale 1 (answer timeout, retry gaps, ban, auto-delete). */
export const PIPEDRIVE_TIMING = {
  timeoutMs: 10_000,
  retryGapsMs: [3000, 30_000, 150_000],
  banThreshold: 10,
  banMs: 30 * 60_000,
  autoDeleteMs: 3 * 24 * 3_600_000,
} as const
/** Cloud Elements notification retries: 9, with growing gaps (about 73 h in all). */
const ELEMENTS_RETRY_GAPS_MS = [60_000, 300_000, 900_000, 3_600_000, 3 * 3_600_000, 6 * 3_600_000, 12 * 3_600_000, 24 * 3_600_000, 26 * 3_600_000]
/** A delivery timeout never goes below this, whatever the time scale (loopback answers need a few ms). */
const MIN_TIMEOUT_MS = 100
/** Polling: at most this many events per notification. */
const POLL_EVENTS_PER_NOTIFICATION = 10
export const REMOVE_REASON = 'No successful deliveries for 3 days: deleted automatically'

/** Delivery timeout: 10 s × timeScale, at least {@link MIN_TIMEOUT_MS}. */
export function deliveryTimeoutMs(timeScale: number): number {
  return Math.max(MIN_TIMEOUT_MS, PIPEDRIVE_TIMING.timeoutMs * timeScale)
}

/** Poll interval: minutes × 60 s × timeScale, clamped to 10 ms .. 24 h. */
export function pollIntervalMs(minutes: number, timeScale: number): number {
  return Math.min(24 * 3_600_000, Math.max(10, minutes * 60_000 * timeScale))
}

export function newHealth(): PdHealth {
  return {
    banCounter: 0, bannedUntil: null, lastSuccess: null, failingSince: null,
  }
}

/** What the ban / retry rules decided after one attempt. */
export interface AttemptOutcome {
  /** The webhook was banned by this attempt. */
  banned: boolean
  /** Schedule the next attempt after this many ms, or null. */
  retryInMs: null | number
}

/**
 * Applies one delivery attempt's result to a webhook and its health (mutates both): `last_delivery_time`,
 * `last_http_status` (0 when no HTTP answer came: connection error or timeout), the ban counter (failed first
 * attempts only; at 10 the webhook is banned: `is_active` 0 for 30 min × timeScale) and the next retry
 * (after 3 s, 30 s, 150 s × timeScale; none after the fourth attempt or a success).
 */
export function applyAttempt(
  w: PdWebhook,
  h: PdHealth,
  {attempt, now, result, timeScale}: {attempt: number; now: number; result: Pick<PostResult, 'ok' | 'status'>; timeScale: number},
): AttemptOutcome {
  w.last_delivery_time = new Date(now).toISOString()
  w.last_http_status = result.status
  if (result.ok) {
    h.lastSuccess = now
    h.failingSince = null
    return {banned: false, retryInMs: null}
  }

  h.failingSince ??= now
  let banned = false
  if (attempt === 1) {
    h.banCounter++
    if (h.banCounter >= PIPEDRIVE_TIMING.banThreshold && h.bannedUntil === null) {
      h.bannedUntil = now + (PIPEDRIVE_TIMING.banMs * timeScale)
      w.is_active = 0
      banned = true
    }
  }

  const gap = PIPEDRIVE_TIMING.retryGapsMs[attempt - 1]
  return {banned, retryInMs: gap === undefined ? null : gap * timeScale}
}

/** Ends a ban: active again, counter reset. */
function liftBan(w: PdWebhook, h: PdHealth): void {
  w.is_active = 1
  h.banCounter = 0
  h.bannedUntil = null
}

/**
 * When a failing webhook is due for automatic deletion: 3 days × timeScale after the later of its `add_time` and its
 * last success. Null when it is not failing (no failed attempt since its last success): quiet webhooks are kept.
 */
export function autoDeleteDue(w: Pick<PdWebhook, 'add_time'>, h: PdHealth, timeScale: number): null | number {
  if (h.failingSince === null) return null
  const added = Date.parse(w.add_time)
  const base = Math.max(Number.isNaN(added) ? 0 : added, h.lastSuccess ?? 0)
  return base + (PIPEDRIVE_TIMING.autoDeleteMs * timeScale)
}

/** A Pipedrive-style change as /sandbox/events gives it. */
export interface SandboxChange extends ChangeRecord {
  userId?: number
  changeSource?: string
  host?: string
}

/**
 * What a change sends in one webhook version: the sample events (the builders `trigger` uses), with the change's own
 * `data`, `previous` and `--set`s on top. A merge (a `mergedFromId`) is two events. Throws a usage error for an object
 * the version has no sample of, or a bad `--set`.
 */
export function changeEvents(change: Omit<ChangeRecord, 'seq'>, version: PipedriveVersion): SampleEvent[] {
  return pipedriveSample(version, {
    action: change.mergedFromId === undefined ? change.action : 'merged',
    data: change.data,
    id: change.id,
    mergedFromId: change.mergedFromId,
    now: new Date(change.time),
    object: change.object,
    previous: change.previous,
    sets: change.sets,
  })
}

/** The object a poller querying the API (v1, the connector's base URL) finds after a change. */
function polledObject(change: ChangeRecord): Record<string, unknown> {
  const version: PipedriveVersion = sampleObjects('1.0').includes(change.object) ? '1.0' : '2.0'
  try {
    const events = changeEvents({...change, action: change.action === 'create' ? 'create' : 'change', mergedFromId: undefined}, version)
    return events.at(-1)?.data ?? {id: change.id}
  } catch {
    return change.data ?? {id: change.id}
  }
}

/** One line of the /sandbox/events answer. */
export interface DeliveryReport {
  webhook_id: number | string
  /** Pipedrive: what was delivered, in the webhook's words (`change.deal`, `merged.person`…). */
  event?: string
  url: string
  status: null | number
  ms: number
  attempt: number
  error?: string
  dropped?: boolean
  chunk?: number
  items?: number
  scheduled_in_ms?: number
}

/** What the engine needs from the sandbox. */
export interface EngineContext {
  /** Every "now" and every timer of the engine (the timers registry runs on the same clock). */
  readonly clock: Clock
  readonly state: SandboxState
  readonly timers: Timers
  readonly timeScale: number
  persist(): void
  log(line: string): void
}

/** One polled change set, ready to be notified. */
export interface PollBatch {
  events: ElementsEvent[]
  raw: Record<string, unknown[]>
}

/**
 * Turns the changes since the last poll into notification batches, as a poller querying `update_time` would see them:
 * one event per object (the latest state), CREATED when it was created in the window, else UPDATED; objects deleted in
 * the window are not seen (a query cannot return them). At most 10 events per batch.
 */
export function pollBatches(changes: ChangeRecord[], resources: string[], elementKey = 'pipedrive'): PollBatch[] {
  const latest = new Map<string, {created: boolean; last: ChangeRecord}>()
  for (const c of changes) {
    const type = elementsObjectType(c.object)
    if (!resources.includes(type)) continue
    const key = `${type}\u0000${c.id}`
    const prev = latest.get(key)
    latest.set(key, {created: (prev?.created ?? false) || c.action === 'create', last: c})
  }

  const items = [...latest.values()].filter(x => x.last.action !== 'delete')
  const batches: PollBatch[] = []
  for (let i = 0; i < items.length; i += POLL_EVENTS_PER_NOTIFICATION) {
    const slice = items.slice(i, i + POLL_EVENTS_PER_NOTIFICATION)
    const raw: Record<string, unknown[]> = {}
    const events = slice.map(({created, last}) => {
      const type = elementsObjectType(last.object)
      raw[type] = [...(raw[type] ?? []), polledObject(last)]
      return {
        objectId: String(last.id),
        objectType: type,
        eventType: created ? ('CREATED' as const) : ('UPDATED' as const),
        elementKey,
        date: elementsDate(new Date(last.time)),
      }
    })
    batches.push({events, raw})
  }

  return batches
}

/** Runs a promise in the background (its errors are ignored: deliveries never reject). */
function background(p: Promise<unknown>): void {
  p.catch(() => {})
}

/** Drives deliveries, retries, bans, auto-deletion and polling for one sandbox. */
export class DeliveryEngine {
  private readonly banTimers = new Map<number, TimerHandle>()
  private readonly controllers = new Set<AbortController>()
  private readonly deletionTimers = new Map<number, TimerHandle>()
  private generation = 0
  private readonly pollers = new Map<number, TimerHandle>()
  private stopped = false

  constructor(private readonly ctx: EngineContext) {}

  /**
   * Delivers a Pipedrive change to every matching webhook, in the webhook's version (a merge: both events, one after the
   * other, to each webhook that matches them); resolves when every first attempt is done.
   */
  async dispatchPipedrive(change: SandboxChange): Promise<DeliveryReport[]> {
    const now = this.ctx.clock.now()
    const {state} = this.ctx
    const rendered = new Map<PipedriveVersion, SampleEvent[]>()
    const eventsOf = (version: PipedriveVersion): SampleEvent[] => {
      if (!rendered.has(version)) rendered.set(version, sampleObjects(version).includes(change.object) ? changeEvents(change, version) : [])
      return rendered.get(version)!
    }

    const work: Array<Promise<DeliveryReport[]>> = []
    for (const w of state.pipedrive.webhooks) {
      const events = eventsOf(w.version).filter(e => webhookMatches(w, e.object, e.action))
      if (events.length === 0) continue
      const h = this.health(w.id)
      if (w.is_active === 0 || (h.bannedUntil !== null && h.bannedUntil > now)) {
        const until = h.bannedUntil === null ? '' : ` until ${new Date(h.bannedUntil).toISOString()}`
        work.push(Promise.resolve(events.map(e => ({
          webhook_id: w.id, event: eventName(e), url: w.subscription_url, status: null, ms: 0, attempt: 0, dropped: true, error: `webhook banned${until}: event lost`,
        }))))
        continue
      }

      const ctx: DeliveryContext = {
        companyId: w.company_id,
        userId: change.userId ?? w.user_id,
        host: change.host,
        changeSource: change.changeSource,
        webhookId: w.id,
        webhookOwnerId: w.owner_id,
      }
      const gen = this.generation
      work.push((async () => {
        const reports: DeliveryReport[] = []
        for (const e of events) {
          const ids = {eventId: randomUUID(), correlationId: randomUUID()}
          const payloadFor = (attempt: number): unknown => pipedriveBody(w.version, e, ctx, {...ids, attempt})
          reports.push(await this.attemptPipedrive(w.id, eventName(e), payloadFor, 1, gen))
        }

        return reports
      })())
    }

    return (await Promise.all(work)).flat()
  }

  /** Delivers a Pipeliner event to every matching webhook (chunked; delayed chunks are scheduled). */
  async dispatchPipeliner(input: {
    entities: Array<Record<string, unknown>>
    event: string
    previous?: null | Record<string, unknown>
    relatedEntity?: unknown
    skipKey?: string
  }): Promise<DeliveryReport[]> {
    const work: Array<Promise<DeliveryReport>> = []
    const reports: DeliveryReport[] = []
    const webhooks = [...this.ctx.state.pipeliner.webhooks].sort((a, b) => a.seq - b.seq)
    for (const w of webhooks) {
      if (!plEventMatches(w.events, input.event)) continue
      const entities = input.entities.filter(e => plOptionsAllow(w.options, {
        event: input.event, entity: e, previous: input.previous, skipKey: input.skipKey,
      }))
      if (entities.length === 0) continue
      const shown: Record<string, unknown> & {id: string} = {...presentPlWebhook(w)}
      delete shown.signature
      const items = pipelinerDelivery(
        entities.map(entity => ({event: input.event, entity, related_entity: input.relatedEntity ?? null})),
        {webhook: shown},
      )
      const size = typeof w.options?.chunk_size === 'number' ? w.options.chunk_size : 100
      const delaySec = typeof w.options?.chunk_delay === 'number' ? w.options.chunk_delay : 0
      const chunks = pipelinerChunks(items, size)
      for (const [i, chunk] of chunks.entries()) {
        const send = async (): Promise<DeliveryReport> => {
          const body = JSON.stringify(chunk)
          const headers: Record<string, string> = {}
          if (w.signature) headers['WebHook-Signature'] = signPipeliner(w.signature, body)
          const r = await this.post(w.url, body, headers, w.insecure_ssl)
          this.ctx.log(`deliver pipeliner ${w.id} ${input.event} chunk ${i} → ${w.url} ${r.status || r.error} ${r.ms}ms`)
          return {
            webhook_id: w.id, url: w.url, status: r.status, ms: r.ms, attempt: 1, chunk: i, items: chunk.length, ...(r.error ? {error: r.error} : {}),
          }
        }

        const delayMs = i * delaySec * 1000 * this.ctx.timeScale
        if (delayMs <= 0) work.push(send())
        else {
          this.ctx.timers.set(() => background(send()), delayMs)
          reports.push({
            webhook_id: w.id, url: w.url, status: null, ms: 0, attempt: 0, chunk: i, items: chunk.length, scheduled_in_ms: Math.round(delayMs),
          })
        }
      }
    }

    return [...(await Promise.all(work)), ...reports]
  }

  /** Sends a received event's notification to the instance's callback URL (retried on failure). */
  forwardElements(inst: CeInstance, record: CeEventRecord): void {
    background(this.attemptElements(inst.id, record.id, 1, this.generation))
  }

  /** An instance was created or updated: (re)start its poller when it polls. */
  instanceChanged(inst: CeInstance): void {
    this.stopPoller(inst.id)
    if (vendorType(inst.configuration) === 'polling' && canForward(inst)) this.schedulePoll(inst.id)
  }

  instanceRemoved(id: number): void {
    this.stopPoller(id)
  }

  /** Polls one instance now: notifies the changes since its last poll. Returns the number of notifications. */
  pollNow(instanceId: number): number {
    const {state} = this.ctx
    const inst = state.elements.instances.find(i => i.id === instanceId)
    if (!inst || !canForward(inst)) return 0
    const changes = state.changes.items.filter(c => c.seq > inst.pollCursor)
    inst.pollCursor = state.changes.nextSeq - 1
    const batches = pollBatches(changes, polledResources(inst.configuration), inst.elementKey)
    for (const b of batches) {
      const record = recordEvent(state, inst, {source: 'polling', events: b.events, raw: b.raw}, this.ctx.clock.now())
      this.forwardElements(inst, record)
    }

    this.ctx.persist()
    return batches.length
  }

  /** Re-arms timers after the state was loaded from a file. */
  restore(): void {
    const now = this.ctx.clock.now()
    const {state} = this.ctx
    for (const w of state.pipedrive.webhooks) {
      const h = this.health(w.id)
      if (h.bannedUntil !== null) {
        if (h.bannedUntil <= now) liftBan(w, h)
        else this.scheduleBanEnd(w.id, h.bannedUntil - now)
      }

      if (h.failingSince !== null) this.scheduleDeletion(w.id)
    }

    for (const inst of state.elements.instances) this.instanceChanged(inst)
    for (const e of state.elements.events) {
      if (e.status === 'RETRYING') {
        const gap = ELEMENTS_RETRY_GAPS_MS[Math.max(0, e.notification.attempts - 1)] ?? ELEMENTS_RETRY_GAPS_MS[0]
        const gen = this.generation
        this.ctx.timers.set(() => background(this.attemptElements(e.instanceId, e.id, e.notification.attempts + 1, gen)), gap * this.ctx.timeScale)
      }
    }

    this.ctx.persist()
  }

  /** Forgets everything in flight (the state was reset; the caller clears the timers). */
  reset(): void {
    this.generation++
    for (const c of this.controllers) c.abort()
    this.controllers.clear()
    this.banTimers.clear()
    this.deletionTimers.clear()
    this.pollers.clear()
  }

  /** Aborts every delivery in flight; nothing new starts. */
  stop(): void {
    this.stopped = true
    this.reset()
  }

  /** A webhook was deleted through the API: stop its timers (pending retries find it gone). */
  webhookRemoved(id: number): void {
    this.ctx.timers.clear(this.banTimers.get(id))
    this.ctx.timers.clear(this.deletionTimers.get(id))
    this.banTimers.delete(id)
    this.deletionTimers.delete(id)
  }

  private async attemptElements(instanceId: number, recordId: number, attempt: number, gen: number): Promise<void> {
    if (this.stopped || gen !== this.generation) return
    const {state} = this.ctx
    const inst = state.elements.instances.find(i => i.id === instanceId)
    const record = state.elements.events.find(e => e.id === recordId)
    if (!inst || !record) return
    if (!canForward(inst)) {
      record.status = 'NOT_FORWARDED'
      this.ctx.persist()
      return
    }

    const url = String(inst.configuration['event.notification.callback.url'])
    const notification = elementsNotification(record.events, {
      instanceId: inst.id, eventId: record.eventId, raw: record.raw, elementKey: inst.elementKey,
    })
    const body = JSON.stringify(notification)
    const headers: Record<string, string> = {'Elements-Webhook-Id': record.eventId}
    const key = inst.configuration['event.notification.signature.key']
    if (typeof key === 'string' && key !== '') headers['Elements-Webhook-Signature'] = signElements(key, body)
    const r = await this.post(url, body, headers)
    if (this.stopped || gen !== this.generation) return
    record.notification.url = url
    record.notification.attempts = attempt
    record.notification.lastStatus = r.status
    record.notification.lastError = r.error ?? null
    this.ctx.log(`notify elements instance ${inst.id} event ${record.id} → ${url} ${r.status || r.error} ${r.ms}ms attempt ${attempt}`)
    if (r.ok) record.status = 'DELIVERED'
    else {
      const gap = ELEMENTS_RETRY_GAPS_MS[attempt - 1]
      if (gap === undefined) record.status = 'FAILED'
      else {
        record.status = 'RETRYING'
        this.ctx.timers.set(() => background(this.attemptElements(instanceId, recordId, attempt + 1, gen)), gap * this.ctx.timeScale)
      }
    }

    this.ctx.persist()
  }

  private async attemptPipedrive(id: number, event: string, payloadFor: (attempt: number) => unknown, attempt: number, gen: number): Promise<DeliveryReport> {
    const w = this.ctx.state.pipedrive.webhooks.find(x => x.id === id)
    if (!w || this.stopped || gen !== this.generation) {
      return {
        webhook_id: id, event, url: w?.subscription_url ?? '', status: null, ms: 0, attempt, error: 'webhook no longer exists',
      }
    }

    const url = w.subscription_url
    const body = JSON.stringify(payloadFor(attempt))
    const headers: Record<string, string> = {}
    if (w.http_auth_user) headers.Authorization = basicAuthHeader(w.http_auth_user, w.http_auth_password ?? '')
    const r = await this.post(url, body, headers)
    const report: DeliveryReport = {
      webhook_id: id, event, url, status: r.status, ms: r.ms, attempt, ...(r.error ? {error: r.error} : {}),
    }
    this.ctx.log(`deliver pipedrive webhook ${id} ${event} → ${url} ${r.status || r.error} ${r.ms}ms attempt ${attempt}`)
    if (this.stopped || gen !== this.generation) return report
    const current = this.ctx.state.pipedrive.webhooks.find(x => x.id === id)
    if (!current) return report
    const h = this.health(id)
    const outcome = applyAttempt(current, h, {
      attempt, result: r, now: this.ctx.clock.now(), timeScale: this.ctx.timeScale,
    })
    if (outcome.banned && h.bannedUntil !== null) {
      this.ctx.log(`pipedrive webhook ${id} banned until ${new Date(h.bannedUntil).toISOString()}`)
      this.scheduleBanEnd(id, h.bannedUntil - this.ctx.clock.now())
    }

    if (r.ok) {
      this.ctx.timers.clear(this.deletionTimers.get(id))
      this.deletionTimers.delete(id)
    } else this.scheduleDeletion(id)
    if (outcome.retryInMs !== null) {
      this.ctx.timers.set(() => background(this.attemptPipedrive(id, event, payloadFor, attempt + 1, gen)), outcome.retryInMs)
    }

    this.ctx.persist()
    return report
  }

  private health(id: number): PdHealth {
    const all = this.ctx.state.pipedrive.health
    all[String(id)] ??= newHealth()
    return all[String(id)]
  }

  private async post(url: string, body: string, headers: Record<string, string>, insecure = false): Promise<PostResult> {
    const controller = new AbortController()
    this.controllers.add(controller)
    try {
      return await postJson(url, body, {
        headers, timeoutMs: deliveryTimeoutMs(this.ctx.timeScale), insecure, signal: controller.signal,
      })
    } finally {
      this.controllers.delete(controller)
    }
  }

  private scheduleBanEnd(id: number, inMs: number): void {
    this.ctx.timers.clear(this.banTimers.get(id))
    const gen = this.generation
    const h = this.ctx.timers.set(() => {
      this.banTimers.delete(id)
      if (gen !== this.generation) return
      const w = this.ctx.state.pipedrive.webhooks.find(x => x.id === id)
      if (!w) return
      liftBan(w, this.health(id))
      this.ctx.log(`pipedrive webhook ${id} reactivated after its ban`)
      this.ctx.persist()
    }, inMs)
    if (h) this.banTimers.set(id, h)
  }

  private scheduleDeletion(id: number): void {
    if (this.deletionTimers.has(id)) return
    const w = this.ctx.state.pipedrive.webhooks.find(x => x.id === id)
    if (!w) return
    const due = autoDeleteDue(w, this.health(id), this.ctx.timeScale)
    if (due === null) return
    const gen = this.generation
    const h = this.ctx.timers.set(() => {
      this.deletionTimers.delete(id)
      if (gen !== this.generation) return
      const current = this.ctx.state.pipedrive.webhooks.find(x => x.id === id)
      if (!current) return
      const health = this.health(id)
      const when = autoDeleteDue(current, health, this.ctx.timeScale)
      if (when === null) return
      if (when > this.ctx.clock.now()) {
        this.scheduleDeletion(id)
        return
      }

      this.autoDelete(current)
    }, due - this.ctx.clock.now())
    if (h) this.deletionTimers.set(id, h)
  }

  private autoDelete(w: PdWebhook): void {
    const {state} = this.ctx
    state.pipedrive.webhooks = state.pipedrive.webhooks.filter(x => x !== w)
    delete state.pipedrive.health[String(w.id)]
    this.webhookRemoved(w.id)
    w.is_active = 0
    w.remove_time = new Date(this.ctx.clock.now()).toISOString()
    w.remove_reason = REMOVE_REASON
    state.pipedrive.removed.push(w)
    if (state.pipedrive.removed.length > LIMITS.removed) state.pipedrive.removed.splice(0, state.pipedrive.removed.length - LIMITS.removed)
    this.ctx.log(`pipedrive webhook ${w.id} deleted: ${REMOVE_REASON}`)
    this.ctx.persist()
  }

  private schedulePoll(instanceId: number): void {
    const inst = this.ctx.state.elements.instances.find(i => i.id === instanceId)
    if (!inst) return
    const gen = this.generation
    const h = this.ctx.timers.set(() => {
      this.pollers.delete(instanceId)
      if (gen !== this.generation || this.stopped) return
      const current = this.ctx.state.elements.instances.find(i => i.id === instanceId)
      if (!current || vendorType(current.configuration) !== 'polling' || !canForward(current)) return
      this.pollNow(instanceId)
      this.schedulePoll(instanceId)
    }, pollIntervalMs(refreshMinutes(inst.configuration), this.ctx.timeScale))
    if (h) this.pollers.set(instanceId, h)
  }

  private stopPoller(id: number): void {
    this.ctx.timers.clear(this.pollers.get(id))
    this.pollers.delete(id)
  }
}
