/**
 * Recognises what kind of webhook delivery a parsed JSON body is, and what it is about.
 * Pure functions: no I/O, no verification (that is the listener's job, per source).
 *
 * Shapes:
 * - Pipedrive v1: `{"v":1,"event":"added.deal","retry":0,"meta":{"v":1,"action":"added","object":"deal","id":123,…}}`
 * - Pipedrive v2: `{"meta":{"version":"2.0","action":"create","entity":"deal","entity_id":"123","attempt":1,…},"data":…}`
 * - Cloud Elements / Open Connectors, in either of the two forms its documentation shows (test suite, event guide):
 *   `{"message":{"eventId":"…","events":[{"objectId","objectType","eventType"},…]}}` or
 *   `{"eventId":…,"instanceId":…,"notificationId":…,"response":{"events":[…]}}`
 * - Pipeliner: `[{"event":"Opportunity.Update","entity":{"id":"…"},"webhook":{"id":"…"},…},…]`
 */
import type {IncomingHttpHeaders} from 'node:http'

import {V1_ACTIONS} from '../pipedrive/events.js'

export type DeliverySource = 'elements' | 'pipedrive-v1' | 'pipedrive-v2' | 'pipeliner' | 'unknown'

export const DELIVERY_SOURCES: readonly DeliverySource[] = ['pipedrive-v1', 'pipedrive-v2', 'elements', 'pipeliner', 'unknown']

/** One thing that happened, as told by a delivery (a delivery may tell several). */
export interface DetectedEvent {
  action: string
  object: string
  objectId: null | string
  /** Delivery attempt (Pipedrive v1: retry + 1; v2: meta.attempt); null when the format does not say. */
  attempt: null | number
  webhookId: null | string
  /** The source's own event id when it has one (v2 meta.id, Cloud Elements message.eventId). */
  eventId: null | string
}

export interface DetectedDelivery {
  source: DeliverySource
  events: DetectedEvent[]
}

type Obj = Record<string, unknown>

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

/** A string or a finite number as a string; anything else null. */
function str(v: unknown): null | string {
  if (typeof v === 'string') return v.length > 0 ? v : null
  if (typeof v === 'number' && Number.isFinite(v)) return String(v)
  return null
}

/** A number or a numeric string as a number; anything else null. */
function num(v: unknown): null | number {
  if (typeof v === 'number' && Number.isFinite(v)) return v
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v)
  return null
}

function header(headers: IncomingHttpHeaders, name: string): null | string {
  const v = headers[name]
  return Array.isArray(v) ? (v[0] ?? null) : (v ?? null)
}

/** A v1 `event` field: `<v1 action or *>.<object>` (the vocabulary is pipedrive/events.ts'). */
function isV1EventName(event: string): boolean {
  const dot = event.indexOf('.')
  const action = event.slice(0, dot)
  return dot > 0 && (action === '*' || (V1_ACTIONS as readonly string[]).includes(action)) && /^[\w*]+$/.test(event.slice(dot + 1))
}

const PIPELINER_EVENT = /^\w+\.\w+$/

function splitEvent(event: unknown): [null | string, null | string] {
  if (typeof event !== 'string') return [null, null]
  const dot = event.indexOf('.')
  if (dot <= 0) return [null, null]
  return [event.slice(0, dot), event.slice(dot + 1)]
}

function isPipelinerItem(v: unknown): v is Obj {
  return isObj(v) && typeof v.event === 'string' && PIPELINER_EVENT.test(v.event)
}

function isV2(b: Obj): boolean {
  const {meta} = b
  if (!isObj(meta)) return false
  if (meta.version === '2.0' || meta.version === 2) return true
  return typeof meta.entity === 'string' && b.v === undefined && meta.v === undefined
}

function isV1(b: Obj): boolean {
  if (num(b.v) === 1) return true
  if (isObj(b.meta) && num(b.meta.v) === 1) return true
  return typeof b.event === 'string' && isV1EventName(b.event)
}

function v1Event(b: Obj): DetectedEvent {
  const meta = isObj(b.meta) ? b.meta : {}
  const [evAction, evObject] = splitEvent(b.event)
  const current = isObj(b.current) ? b.current : (isObj(b.data) ? b.data : {})
  const previous = isObj(b.previous) ? b.previous : {}
  const retry = num(b.retry)
  return {
    action: str(meta.action) ?? evAction ?? 'unknown',
    object: str(meta.object) ?? evObject ?? 'unknown',
    objectId: str(meta.id) ?? str(current.id) ?? str(previous.id),
    attempt: retry === null ? num(meta.attempt) : retry + 1,
    webhookId: str(meta.webhook_id),
    eventId: null,
  }
}

function v2Event(b: Obj): DetectedEvent {
  const meta = b.meta as Obj
  const data = isObj(b.data) ? b.data : (isObj(b.previous) ? b.previous : {})
  return {
    action: str(meta.action) ?? 'unknown',
    object: str(meta.entity) ?? 'unknown',
    objectId: str(meta.entity_id) ?? str(data.id),
    attempt: num(meta.attempt),
    webhookId: str(meta.webhook_id),
    eventId: str(meta.id),
  }
}

function elementsEvents(message: Obj, headers: IncomingHttpHeaders): DetectedEvent[] {
  const webhookId = header(headers, 'elements-webhook-id')
  const eventId = str(message.eventId)
  const list = (message.events as unknown[]).filter(e => isObj(e))
  if (list.length === 0) {
    return [{
      action: 'unknown', object: 'unknown', objectId: null, attempt: null, webhookId, eventId,
    }]
  }

  return list.map(e => ({
    action: str(e.eventType)?.toLowerCase() ?? 'unknown',
    object: str(e.objectType) ?? 'unknown',
    objectId: str(e.objectId),
    attempt: null,
    webhookId,
    eventId,
  }))
}

function pipelinerEvent(item: Obj): DetectedEvent {
  const [object, action] = splitEvent(item.event)
  const entity = isObj(item.entity) ? item.entity : {}
  const webhook = isObj(item.webhook) ? item.webhook : {}
  return {
    action: action ?? 'unknown',
    object: object ?? 'unknown',
    objectId: str(entity.id),
    attempt: null,
    webhookId: str(webhook.id) ?? str(item.webhook_id),
    eventId: str(item.id),
  }
}

const UNKNOWN_EVENT: Readonly<DetectedEvent> = {
  action: 'unknown',
  object: 'unknown',
  objectId: null,
  attempt: null,
  webhookId: null,
  eventId: null,
}

/**
 * Recognises the format of a parsed delivery body and lists the events it reports.
 * Never throws: anything unrecognised is `{source: 'unknown', events: [one unknown event]}`.
 */
export function detectDelivery(body: unknown, headers: IncomingHttpHeaders = {}): DetectedDelivery {
  if (Array.isArray(body)) {
    if (body.length > 0 && body.every(item => isPipelinerItem(item))) {
      return {source: 'pipeliner', events: (body as Obj[]).map(item => pipelinerEvent(item))}
    }

    return {source: 'unknown', events: [{...UNKNOWN_EVENT}]}
  }

  if (!isObj(body)) return {source: 'unknown', events: [{...UNKNOWN_EVENT}]}
  if (isObj(body.message) && Array.isArray(body.message.events)) {
    return {source: 'elements', events: elementsEvents(body.message, headers)}
  }

  if (isObj(body.response) && Array.isArray(body.response.events) && (body.eventId !== undefined || body.instanceId !== undefined || body.notificationId !== undefined)) {
    return {source: 'elements', events: elementsEvents({eventId: body.eventId, events: body.response.events}, headers)}
  }

  if (isV2(body)) return {source: 'pipedrive-v2', events: [v2Event(body)]}
  if (isV1(body)) return {source: 'pipedrive-v1', events: [v1Event(body)]}
  // a single Pipeliner item outside its array (tolerated: the delivery shape is uncertain)
  if (isPipelinerItem(body) && isObj(body.entity)) return {source: 'pipeliner', events: [pipelinerEvent(body)]}
  return {source: 'unknown', events: [{...UNKNOWN_EVENT}]}
}
