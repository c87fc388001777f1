/**
 * Delivery payload builders: the bodies Pipedrive (webhooks v1 and v2), Cloud Elements / Open Connectors
 * (event notifications) and Pipeliner (webhook arrays) POST to a receiver. Pure functions: no I/O, no clock
 * unless no timestamp is given. Pipedrive envelopes follow Pipedrive's webhook guides (v1 and v2) and the v2 migration
 * guide's examples; the others the platforms' documented notification and webhook bodies. The objects inside come
 * from deliveries/samples.ts.
 */
import {randomUUID} from 'node:crypto'

import {
  toV1Action, toV2Action, type V1Action, type V2Action,
} from '../pipedrive/events.js'

/** Cloud Elements normalized event types. */
export type ElementsEventType = 'CREATED' | 'DELETED' | 'UPDATED'

/** Default values used when a change does not say otherwise. */
const PAYLOAD_DEFAULTS = {
  companyId: 1,
  userId: 1,
  webhookId: 1,
  host: 'sandbox.pipedrive.com',
  changeSource: 'app',
  teamSpaceId: 'sandbox',
  elementKey: 'pipedrive',
} as const

/**
 * One change to a CRM object, in either Pipedrive vocabulary.
 * `action` may be `added|updated|merged|deleted` (v1) or `create|change|delete` (v2).
 */
export interface Change {
  /** Pipedrive object: `deal`, `person`, `organization`, `activity`, `lead`, … */
  object: string
  /** Action in either vocabulary. */
  action: string
  /** Id of the changed object (number for most objects; leads have uuid ids). */
  id: number | string
  /** The object after the change (null / absent for deletions). */
  data?: null | Record<string, unknown>
  /** The object before the change: full object or only the changed fields (both are accepted). */
  previous?: null | Record<string, unknown>
  /** Company id (default 1). */
  companyId?: number
  /** Id of the user who made the change (default 1). */
  userId?: number
  /** Company host, e.g. `acme.pipedrive.com` (default `sandbox.pipedrive.com`). */
  host?: string
  /** When it happened: a Date, an ISO string or epoch milliseconds (default: now). */
  timestamp?: Date | number | string
  /** `app`, `api`, … (default `app`). */
  changeSource?: string
  /** v2 merges: on the delete of the merged object, the id it was merged into (`meta.merged_to_id`). */
  mergedToId?: number | string
  /** v2 merges: on the change of the surviving object, the id merged into it (`meta.merged_from_id`). */
  mergedFromId?: number | string
}

/** Options for {@link pipedriveV1Payload}. */
export interface V1PayloadOptions {
  /** The webhook this delivery belongs to (sent as a string in `meta.webhook_id`). */
  webhookId?: number | string
  /** Retry number: 0 for the first attempt, 1.. for retries. */
  retry?: number
  /** `meta.permitted_user_ids` (default `[userId]`). */
  permittedUserIds?: number[]
  /** `meta.is_bulk_update` (default false). */
  isBulkUpdate?: boolean
}

/** Options for {@link pipedriveV2Payload}. */
export interface V2PayloadOptions {
  /** The webhook this delivery belongs to (`meta.webhook_id`, a string). */
  webhookId?: number | string
  /** Owner of the webhook (`meta.webhook_owner_id`; default the change's user). */
  webhookOwnerId?: number | string
  /** Attempt number, 1 for the first delivery (default 1). */
  attempt?: number
  /** Event uuid (`meta.id`; default random). Keep it across retries. */
  eventId?: string
  /** Correlation uuid (`meta.correlation_id`; default random). */
  correlationId?: string
  /** Webhook type (default `general`). */
  type?: string
  /** `meta.permitted_user_ids` (default `[userId]`), sent as strings. */
  permittedUserIds?: Array<number | string>
  /** `meta.is_bulk_edit` (default false). */
  isBulkEdit?: boolean
}

export interface PipedriveV1Payload {
  v: 1
  matches_filters: {current: unknown[]; previous: unknown[]}
  meta: Record<string, unknown> & {
    action: V1Action
    object: string
    id: number | string
    webhook_id?: string
  }
  retry: number
  /** The object (a user: `[object]`), null for deletions. */
  current: unknown
  /** The object before the change (a user: `[object]`), null for creations. */
  previous: unknown
  event: string
}

export interface PipedriveV2Payload {
  meta: Record<string, unknown> & {
    action: V2Action
    entity: string
    entity_id: string
    id: string
    version: '2.0'
    attempt: number
    /** ISO; epoch seconds for a user. */
    timestamp: number | string
  }
  data: null | Record<string, unknown>
  previous: null | Record<string, unknown>
}

/** One normalized event in a Cloud Elements notification. */
export interface ElementsEvent {
  objectId: string
  objectType: string
  eventType: ElementsEventType
  elementKey: string
  date: string
}

/**
 * What the platform POSTs to `event.notification.callback.url`. Its own documents disagree, so both are accepted: its test suite
 * reads `{"message":{eventId, instanceId, elementKey, events, raw}}` (the `message` form, the default), its
 * event-management guide shows `{eventId, instanceId, notificationId, response: {events}}` (the `response` form).
 */
export type ElementsNotification = ElementsMessageNotification | ElementsResponseNotification

export interface ElementsMessageNotification {
  message: {
    eventId: string
    instanceId: number | string
    elementKey: string
    events: ElementsEvent[]
    raw: unknown
  }
}

export interface ElementsResponseNotification {
  eventId: string
  instanceId: number | string
  notificationId: string
  response: {events: ElementsEvent[]}
}

/** The two bodies of a Cloud Elements notification. */
export const ELEMENTS_FORMS = ['message', 'response'] as const
export type ElementsForm = (typeof ELEMENTS_FORMS)[number]

/** Options for {@link elementsNotification}. */
export interface ElementsNotificationOptions {
  /** The connector instance id the event belongs to. */
  instanceId: number | string
  /** Notification id (default random uuid); also sent as the `Elements-Webhook-Id` header by the platform. */
  eventId?: string
  /** The vendor payload (default: the Pipedrive v1 payload of the change, or `{}` for a list of events). */
  raw?: unknown
  /** Element key (default `pipedrive`). */
  elementKey?: string
  /** Body form (default `message`). */
  form?: ElementsForm
  /** The `response` form's `notificationId` (default random uuid). */
  notificationId?: string
}

/** One Pipeliner change handed to {@link pipelinerDelivery}. */
export interface PipelinerItemInput {
  /** `Entity.Event`, e.g. `Opportunity.Update`. */
  event: string
  /** The entity after the change. */
  entity: Record<string, unknown>
  related_entity?: unknown
  /** ISO time (default: now). */
  event_time?: string
}

/** One item of a Pipeliner delivery body (the body is a JSON array of these). */
export interface PipelinerDeliveryItem {
  webhook: Record<string, unknown> & {id: string}
  event: string
  event_time: string
  team_space_id: string
  entity: Record<string, unknown>
  related_entity: unknown
}

/** Options for {@link pipelinerDelivery}. */
export interface PipelinerDeliveryOptions {
  /** The webhook (at least its id; never include its signature). */
  webhook: Record<string, unknown> & {id: string}
  /** Team space id (default `sandbox`). */
  teamSpaceId?: string
  /** Time used when an item has no `event_time` (default: now). */
  now?: Date
}

/** Pipedrive object → Cloud Elements CRM hub resource (`deal`→`opportunities`, `person`→`contacts`, …; else `<object>s`). */
export function elementsObjectType(pipedriveObject: string): string {
  const map: Record<string, string> = {
    activity: 'activities',
    deal: 'opportunities',
    lead: 'leads',
    note: 'notes',
    organization: 'accounts',
    person: 'contacts',
    product: 'products',
  }
  return map[pipedriveObject] ?? `${pipedriveObject}s`
}

/** Action of either vocabulary → `CREATED`, `UPDATED` or `DELETED`. */
export function elementsEventType(action: string): ElementsEventType {
  const v2 = toV2Action(action)
  if (v2 === 'create') return 'CREATED'
  if (v2 === 'delete') return 'DELETED'
  return 'UPDATED'
}

/** ISO date without milliseconds, as in the platform's notifications (`2016-06-01T04:09:10Z`). */
export function elementsDate(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

function changeDate(change: Pick<Change, 'timestamp'>): Date {
  const t = change.timestamp
  if (t === undefined) return new Date()
  const d = t instanceof Date ? t : new Date(t)
  return Number.isNaN(d.getTime()) ? new Date() : d
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

/**
 * Pipedrive webhooks v1 delivery body, as the v1 guide documents it: `{v, matches_filters, meta, retry, current,
 * previous, event}` with the v1 meta (numeric ids, epoch `timestamp` and `timestamp_micro`, …). `current` is null for
 * deletions; `previous` is the full object before the change (changed-only fields given in `change.previous` are
 * completed from `change.data`), null for creations. A user's blocks are arrays (`current[0]`, as the guide says).
 */
export function pipedriveV1Payload(change: Change, opts: V1PayloadOptions = {}): PipedriveV1Payload {
  const action = toV1Action(change.action)
  if (action === '*') throw new RangeError('A delivery needs a concrete action, not "*"')
  const date = changeDate(change)
  const userId = change.userId ?? PAYLOAD_DEFAULTS.userId
  const data = change.data ?? null
  let current: null | Record<string, unknown> = null
  let previous: null | Record<string, unknown> = null
  switch (action) {
  case 'added': {
    current = data ?? {id: change.id}
    break
  }

  case 'deleted': {
    previous = change.previous ?? data ?? {id: change.id}
    break
  }

  default: {
    current = data ?? {id: change.id}
    previous = change.previous ? {...current, ...change.previous} : null
  }
  }

  const ms = date.getTime()
  const meta: PipedriveV1Payload['meta'] = {
    v: 1,
    action,
    object: change.object,
    change_source: change.changeSource ?? PAYLOAD_DEFAULTS.changeSource,
    id: change.id,
    company_id: change.companyId ?? PAYLOAD_DEFAULTS.companyId,
    user_id: userId,
    host: change.host ?? PAYLOAD_DEFAULTS.host,
    timestamp: Math.floor(ms / 1000),
    timestamp_micro: ms * 1000,
    permitted_user_ids: opts.permittedUserIds ?? [userId],
    trans_pending: false,
    is_bulk_update: opts.isBulkUpdate ?? false,
    pipedrive_service_name: false,
    matches_filters: {current: [], previous: []},
  }
  if (opts.webhookId !== undefined) meta.webhook_id = String(opts.webhookId)
  if (change.object === 'activity') {
    // "appears only when the activity object was triggered"
    meta.send_activity_notifications = false
    meta.activity_notifications_language = null
  }

  const block = (o: null | Record<string, unknown>): unknown => (o && change.object === 'user' && !Array.isArray(o) ? [o] : o)
  return {
    v: 1,
    matches_filters: {current: [], previous: []},
    meta,
    retry: opts.retry ?? 0,
    current: block(current),
    previous: block(previous),
    event: `${action}.${change.object}`,
  }
}

/**
 * Pipedrive webhooks v2 delivery body (`{"meta":{…},"data":…,"previous":…}`), with the meta keys of the v2 guide in its
 * order: ids are strings, `meta.id` is the event's uuid and `meta.timestamp` ISO; for a `user`, as Pipedrive's user
 * examples show, `meta.id` is the user's id, `meta.timestamp` epoch seconds and `permitted_user_ids` absent ("only
 * present for entities that are not of type user"). `data` is null for deletions (the deleted object is in `previous`);
 * for changes `previous` holds only the fields whose value differs from `data`. Merges add `merged_to_id` (on the delete)
 * or `merged_from_id` (on the change).
 */
export function pipedriveV2Payload(change: Change, opts: V2PayloadOptions = {}): PipedriveV2Payload {
  const action = toV2Action(change.action)
  if (action === '*') throw new RangeError('A delivery needs a concrete action, not "*"')
  const date = changeDate(change)
  const userId = change.userId ?? PAYLOAD_DEFAULTS.userId
  const inputData = change.data ?? null
  let data: null | Record<string, unknown> = null
  let previous: null | Record<string, unknown> = null
  switch (action) {
  case 'create': {
    data = inputData ?? {id: change.id}
    break
  }

  case 'delete': {
    previous = change.previous ?? inputData ?? {id: change.id}
    break
  }

  default: {
    data = inputData ?? {id: change.id}
    if (change.previous) {
      const changed: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(change.previous)) {
        if (!(k in data) || !sameValue(v, data[k])) changed[k] = v
      }

      previous = changed
    }
  }
  }

  const isUser = change.object === 'user'
  const meta = {
    action,
    company_id: String(change.companyId ?? PAYLOAD_DEFAULTS.companyId),
    correlation_id: opts.correlationId ?? randomUUID(),
    entity_id: String(change.id),
    entity: change.object,
    id: isUser ? String(change.id) : (opts.eventId ?? randomUUID()),
    is_bulk_edit: opts.isBulkEdit ?? false,
    timestamp: isUser ? Math.floor(date.getTime() / 1000) : date.toISOString(),
    type: opts.type ?? 'general',
    user_id: String(userId),
    version: '2.0',
    webhook_id: String(opts.webhookId ?? PAYLOAD_DEFAULTS.webhookId),
    webhook_owner_id: String(opts.webhookOwnerId ?? userId),
    change_source: change.changeSource ?? PAYLOAD_DEFAULTS.changeSource,
    attempt: opts.attempt ?? 1,
    host: change.host ?? PAYLOAD_DEFAULTS.host,
  } as PipedriveV2Payload['meta']
  if (!isUser) meta.permitted_user_ids = (opts.permittedUserIds ?? [userId]).map(String)
  if (action === 'delete' && change.mergedToId !== undefined) meta.merged_to_id = String(change.mergedToId)
  if (action === 'change' && change.mergedFromId !== undefined) meta.merged_from_id = String(change.mergedFromId)
  return {meta, data, previous}
}

/** What {@link parsePipedrivePayload} recognises in a delivery body. */
export interface ParsedPipedrivePayload {
  version: 1 | 2
  /** Pipedrive object (`deal`, `person`, …). */
  object: string
  /** Action as written in the payload (v1 or v2 word). */
  action: string
  /** Object id as a string ('' when absent). */
  id: string
  /** Event time (now when the payload has none). */
  date: Date
  webhookId?: string
}

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined
}

function idOf(...candidates: unknown[]): string {
  for (const c of candidates) {
    if (typeof c === 'number' || (typeof c === 'string' && c !== '')) return String(c)
    const r = asRecord(c)
    if (r && (typeof r.id === 'number' || (typeof r.id === 'string' && r.id !== ''))) return String(r.id)
  }

  return ''
}

/**
 * Recognises a Pipedrive delivery body, v1 (`meta.object`/`meta.action`, or only `event: "updated.deal"`) or
 * v2 (`meta.entity`/`meta.action`). Returns undefined for anything else; never throws.
 */
export function parsePipedrivePayload(body: unknown): ParsedPipedrivePayload | undefined {
  const b = asRecord(body)
  if (!b) return undefined
  const meta = asRecord(b.meta) ?? {}
  const webhookId = meta.webhook_id === undefined || meta.webhook_id === null ? undefined : String(meta.webhook_id)
  if (typeof meta.entity === 'string' && typeof meta.action === 'string') {
    // ISO, or (a user's events) epoch seconds
    const d = typeof meta.timestamp === 'number' ? new Date(meta.timestamp * 1000) : (typeof meta.timestamp === 'string' ? new Date(meta.timestamp) : new Date())
    return {
      version: 2,
      object: meta.entity,
      action: meta.action,
      id: idOf(meta.entity_id, b.data, b.previous),
      date: Number.isNaN(d.getTime()) ? new Date() : d,
      webhookId,
    }
  }

  let object = typeof meta.object === 'string' ? meta.object : undefined
  let action = typeof meta.action === 'string' ? meta.action : undefined
  if ((!object || !action) && typeof b.event === 'string' && b.event.includes('.')) {
    const dot = b.event.indexOf('.')
    action = action ?? b.event.slice(0, dot)
    object = object ?? b.event.slice(dot + 1)
  }

  if (!object || !action) return undefined
  let date = new Date()
  if (typeof meta.timestamp === 'number') date = new Date(meta.timestamp * 1000)
  else if (typeof meta.timestamp === 'string' && meta.timestamp !== '') {
    const d = /^\d+$/.test(meta.timestamp) ? new Date(Number(meta.timestamp) * 1000) : new Date(meta.timestamp)
    if (!Number.isNaN(d.getTime())) date = d
  }

  return {
    version: 1, object, action, id: idOf(meta.id, b.current, b.previous), date, webhookId,
  }
}

function isChange(input: unknown): input is Change {
  const r = asRecord(input)
  return Boolean(r && typeof r.object === 'string' && typeof r.action === 'string')
}

/**
 * The notification the platform POSTs to an instance's `event.notification.callback.url`:
 * `{"message":{"eventId","instanceId","elementKey","events":[{objectId,objectType,eventType,elementKey,date}],"raw"}}`.
 * Give either one change (normalized into one event; `raw` defaults to its Pipedrive v1 payload) or ready events.
 */
export function elementsNotification(input: Change | ElementsEvent[], opts: ElementsNotificationOptions & {form: 'response'}): ElementsResponseNotification
export function elementsNotification(input: Change | ElementsEvent[], opts: ElementsNotificationOptions & {form?: 'message'}): ElementsMessageNotification
export function elementsNotification(input: Change | ElementsEvent[], opts: ElementsNotificationOptions): ElementsNotification
export function elementsNotification(input: Change | ElementsEvent[], opts: ElementsNotificationOptions): ElementsNotification {
  const elementKey = opts.elementKey ?? PAYLOAD_DEFAULTS.elementKey
  let events: ElementsEvent[]
  let raw: unknown
  if (isChange(input)) {
    events = [
      {
        objectId: String(input.id),
        objectType: elementsObjectType(input.object),
        eventType: elementsEventType(input.action),
        elementKey,
        date: elementsDate(changeDate(input)),
      },
    ]
    raw = opts.raw === undefined ? pipedriveV1Payload(input) : opts.raw
  } else {
    events = input
    raw = opts.raw === undefined ? {} : opts.raw
  }

  const eventId = opts.eventId ?? randomUUID()
  if (opts.form === 'response') {
    return {
      eventId, instanceId: opts.instanceId, notificationId: opts.notificationId ?? randomUUID(), response: {events},
    }
  }

  return {
    message: {
      eventId, instanceId: opts.instanceId, elementKey, events, raw,
    },
  }
}

/**
 * One Pipeliner delivery body: a JSON array of `{webhook, event, event_time, team_space_id, entity, related_entity}`.
 * Does not chunk: see {@link pipelinerChunks}.
 */
export function pipelinerDelivery(items: PipelinerItemInput[], opts: PipelinerDeliveryOptions): PipelinerDeliveryItem[] {
  const now = (opts.now ?? new Date()).toISOString()
  return items.map(item => ({
    webhook: opts.webhook,
    event: item.event,
    event_time: item.event_time ?? now,
    team_space_id: opts.teamSpaceId ?? PAYLOAD_DEFAULTS.teamSpaceId,
    entity: item.entity,
    related_entity: item.related_entity ?? null,
  }))
}

/** Splits items into chunks of at most `size` (Pipeliner `options.chunk_size`, 1..100, default 100). */
export function pipelinerChunks<T>(items: T[], size = 100): T[][] {
  const n = Math.max(1, Math.min(100, Math.floor(size) || 100))
  const out: T[][] = []
  for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n))
  return out
}
