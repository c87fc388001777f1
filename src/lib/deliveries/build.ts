/**
 * Sample events in their envelopes: one function turns a {@link SampleEvent} into the body Pipedrive posts (v1 or v2),
 * one into the notification Cloud Elements posts. `trigger` and the sandbox both build their deliveries here.
 */
import {
  type Change, type ElementsForm, elementsNotification, type ElementsNotification, pipedriveV1Payload, type PipedriveV1Payload, pipedriveV2Payload, type PipedriveV2Payload,
} from './payloads.js'
import {type PipedriveVersion, type SampleEvent} from './samples.js'

/** Who and where a delivery comes from (its meta block). */
export interface DeliveryContext {
  companyId?: number
  userId?: number
  host?: string
  changeSource?: string
  webhookId?: number | string
  webhookOwnerId?: number | string
  permittedUserIds?: Array<number | string>
}

/** Per attempt: the attempt number (v2 `meta.attempt`, v1 `retry` + 1) and the ids a retry keeps. */
export interface AttemptInfo {
  attempt?: number
  eventId?: string
  correlationId?: string
}

/** The change a sample event describes, for the envelope builders. */
function eventChange(e: SampleEvent, ctx: DeliveryContext = {}): Change {
  return {
    action: e.action,
    changeSource: ctx.changeSource,
    companyId: ctx.companyId,
    data: e.data,
    host: ctx.host,
    id: e.id,
    mergedFromId: e.mergedFromId,
    mergedToId: e.mergedToId,
    object: e.object,
    previous: e.previous,
    timestamp: e.time,
    userId: ctx.userId,
  }
}

/** The body Pipedrive posts for one event, in the webhook's version. */
export function pipedriveBody(version: PipedriveVersion, e: SampleEvent, ctx: DeliveryContext = {}, at: AttemptInfo = {}): PipedriveV1Payload | PipedriveV2Payload {
  const change = eventChange(e, ctx)
  const attempt = at.attempt ?? 1
  if (version === '1.0') {
    return pipedriveV1Payload(change, {
      permittedUserIds: ctx.permittedUserIds?.map(Number), retry: attempt - 1, webhookId: ctx.webhookId,
    })
  }

  return pipedriveV2Payload(change, {
    attempt, correlationId: at.correlationId, eventId: at.eventId, permittedUserIds: ctx.permittedUserIds, webhookId: ctx.webhookId, webhookOwnerId: ctx.webhookOwnerId,
  })
}

/** The Cloud Elements notification of one event: normalized, with the vendor body Pipedrive sent the platform as `raw`. */
export function elementsBody(
  version: PipedriveVersion,
  e: SampleEvent,
  opts: {ctx?: DeliveryContext; elementKey?: string; eventId?: string; form?: ElementsForm; instanceId: number | string},
): ElementsNotification {
  return elementsNotification(eventChange(e, opts.ctx), {
    elementKey: opts.elementKey, eventId: opts.eventId, form: opts.form, instanceId: opts.instanceId, raw: pipedriveBody(version, e, opts.ctx),
  })
}

/** `create.deal`, `merged.person`…: what an event is, in its version's words. */
export function eventName(e: Pick<SampleEvent, 'action' | 'object'>): string {
  return `${e.action}.${e.object}`
}

/** A short description of an event's merge role, when it has one (`merged into 8`, `merged from 9`). */
export function mergeNote(e: SampleEvent): string {
  if (e.mergedToId !== undefined) return ` (merged into ${e.mergedToId})`
  if (e.mergedFromId !== undefined) return ` (merged from ${e.mergedFromId})`
  return ''
}
