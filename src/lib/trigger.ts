import {randomUUID} from 'node:crypto'

import {ExitCode, PdhooksError, usageError} from './errors.js'
import {parseEvent, splitEvent} from './events.js'
import {sendRaw, type SendResult} from './listener-send.js'
import {
  type Change, elementsNotification, pipedriveV1Payload, pipedriveV2Payload, pipelinerDelivery,
} from './payloads.js'
import {parsePipelinerEvent} from './pipeliner-events.js'
import {basicAuthHeader, signElements, signPipeliner} from './signatures.js'

export type TriggerFormat = 'elements' | 'pipedrive' | 'pipeliner'

const iso = (d: Date) => d.toISOString().replace('T', ' ').slice(0, 19)

/** A realistic Pipedrive object of each kind (the fields a handler usually reads). */
export function sampleObject(object: string, id: number | string, now = new Date()): Record<string, unknown> {
  const base = {add_time: iso(now), id, update_time: iso(now)}
  switch (object) {
  case 'activity': {
    return {
      ...base, done: false, due_date: now.toISOString().slice(0, 10), deal_id: 1, subject: 'Call about the renewal', type: 'call', user_id: 1,
    }
  }

  case 'deal': {
    return {
      ...base, currency: 'EUR', org_id: 1, owner_id: 1, person_id: 1, pipeline_id: 1, stage_id: 2, status: 'open', title: 'Acme renewal', value: 12_000,
    }
  }

  case 'lead': {
    return {
      ...base, id: typeof id === 'string' ? id : randomUUID(), organization_id: 1, owner_id: 1, person_id: 1, title: 'Acme lead', value: {amount: 5000, currency: 'EUR'},
    }
  }

  case 'note': {
    return {
      ...base, content: 'Discussed pricing.', deal_id: 1, user_id: 1,
    }
  }

  case 'organization': {
    return {
      ...base, address: 'Main St 1, Tallinn', name: 'Acme Corp', owner_id: 1,
    }
  }

  case 'person': {
    return {
      ...base, email: [{primary: true, value: 'jane@acme.example'}], name: 'Jane Doe', org_id: 1, owner_id: 1, phone: [{primary: true, value: '+372 5555 5555'}],
    }
  }

  case 'pipeline': {
    return {...base, active: true, name: 'Sales'}
  }

  case 'product': {
    return {
      ...base, code: 'SKU-1', name: 'Widget', prices: [{currency: 'EUR', price: 99}],
    }
  }

  case 'stage': {
    return {
      ...base, name: 'Proposal made', order_nr: 3, pipeline_id: 1,
    }
  }

  case 'user': {
    return {...base, email: 'owner@acme.example', name: 'Owner'}
  }

  default: {
    return {...base, name: `Sample ${object}`}
  }
  }
}

/** `--set field=value` (dot paths; JSON values parsed, anything else a string). */
export function applySets(target: Record<string, unknown>, sets: string[] = []): Record<string, unknown> {
  const out = structuredClone(target)
  for (const s of sets) {
    const eq = s.indexOf('=')
    if (eq <= 0) throw usageError(`Invalid --set "${s}": expected field=value.`, 'Example: --set value=5000 --set title="Big deal".')
    const path = s.slice(0, eq).split('.')
    const raw = s.slice(eq + 1)
    let value: unknown = raw
    try {
      value = JSON.parse(raw)
    } catch {
      // a plain string
    }

    let node = out as Record<string, unknown>
    for (const key of path.slice(0, -1)) {
      if (!node[key] || typeof node[key] !== 'object') node[key] = {}
      node = node[key] as Record<string, unknown>
    }

    node[path.at(-1)!] = value
  }

  return out
}

export interface TriggerInput {
  basicAuth?: {password: string; user: string}
  elementsKey?: string
  event: string
  format: TriggerFormat
  instanceId?: string
  pipelinerKey?: string
  sets?: string[]
  version?: string
}

export interface SampleDelivery {
  body: Buffer
  description: string
  headers: Record<string, string>
}

/** Infers the format from the event when none is given: `Entity.Event` (capitalized) is Pipeliner. */
export function inferFormat(event: string): TriggerFormat {
  if (/^[A-Z]/.test(event)) {
    try {
      parsePipelinerEvent(event)
      return 'pipeliner'
    } catch {
      // fall through
    }
  }

  return 'pipedrive'
}

/** The change a Pipedrive event describes, with realistic data (and `--set` applied). */
export function sampleChange(event: string, sets: string[] = [], n = 0): {change: Change; v1: boolean} {
  const {action, object} = splitEvent(event)
  if (action === '*' || object === '*') throw usageError(`"${event}" has a wildcard: a sample delivery needs one action and one object.`, 'Example: change.deal, added.person.')
  const v1 = ['added', 'deleted', 'merged', 'updated'].includes(action)
  const now = new Date()
  const data = applySets(sampleObject(object, 100 + n, now), sets)
  const id = (data.id as number | string | undefined) ?? 100 + n
  const isDelete = action === 'delete' || action === 'deleted'
  const isCreate = action === 'create' || action === 'added'
  const previous = isCreate ? null : (isDelete ? data : {update_time: iso(new Date(now.getTime() - 60_000)), ...(object === 'deal' ? {value: 10_000} : {name: 'Before'})})
  return {
    change: {
      action, data: isDelete ? null : data, id, object, previous, timestamp: now,
    }, v1,
  }
}

/** Builds one sample delivery, authenticated or signed as the real service would. */
export function buildDelivery(input: TriggerInput, n = 0): SampleDelivery {
  const headers: Record<string, string> = {'content-type': 'application/json', 'user-agent': 'pdhooks-trigger'}
  let payload: unknown
  let description: string
  if (input.format === 'pipeliner') {
    const event = parsePipelinerEvent(input.event)
    if (event.endsWith('*')) throw usageError(`"${event}" has a wildcard: a sample delivery needs one Entity.Event.`, 'Example: Opportunity.Update.')
    const entity = applySets({id: randomUUID(), modified: new Date().toISOString(), name: `Sample ${event.split('.')[0]}`}, input.sets)
    payload = pipelinerDelivery([{entity, event}], {webhook: {id: '00000000-0000-4000-8000-000000000001'}})
    description = `pipeliner ${event}`
  } else {
    const parsed = parseEvent(input.event, {version: input.format === 'elements' ? '1.0' : input.version})
    const {change} = sampleChange(`${parsed.action}.${parsed.object}`, input.sets, n)
    if (input.format === 'elements') {
      const eventId = randomUUID()
      payload = elementsNotification(change, {eventId, instanceId: input.instanceId ?? '20931'})
      headers['elements-webhook-id'] = eventId
      description = `elements ${change.action}.${change.object}`
    } else {
      payload = parsed.version === '1.0' ? pipedriveV1Payload(change, {webhookId: 1}) : pipedriveV2Payload(change, {webhookId: 1})
      description = `pipedrive v${parsed.version} ${change.action}.${change.object}`
    }
  }

  const body = Buffer.from(JSON.stringify(payload))
  if (input.format === 'pipedrive' && input.basicAuth) headers.authorization = basicAuthHeader(input.basicAuth.user, input.basicAuth.password)
  if (input.format === 'elements' && input.elementsKey) headers['elements-webhook-signature'] = signElements(input.elementsKey, body)
  if (input.format === 'pipeliner' && input.pipelinerKey) headers['webhook-signature'] = signPipeliner(input.pipelinerKey, body, 'hex')
  return {body, description, headers}
}

export async function sendDelivery(to: URL, d: SampleDelivery, timeoutMs: number): Promise<SendResult> {
  return sendRaw(to, {
    body: d.body, headers: {...d.headers, 'content-length': String(d.body.length)}, method: 'POST', timeoutMs,
  })
}

/** `user:password` → {user, password}. */
export function parseBasicAuth(value: string | undefined, flag = '--basic-auth'): undefined | {password: string; user: string} {
  if (value === undefined) return undefined
  const i = value.indexOf(':')
  if (i <= 0) throw usageError(`Invalid ${flag}: expected user:password.`)
  return {password: value.slice(i + 1), user: value.slice(0, i)}
}

export interface SandboxDelivery {
  description: string
  error?: string
  ms: number
  n: number
  status: null | number
}

/**
 * Asks a running sandbox (at `base`, its origin) to make a change for real: `POST /sandbox/events`. It delivers to every
 * matching webhook and answers with what happened.
 */
export async function changeInSandbox(base: string, change: Change, timeoutMs: number): Promise<{body: unknown; deliveries: SandboxDelivery[]}> {
  const {got} = await import('got')
  let res
  try {
    res = await got.post(`${base}/sandbox/events`, {
      json: change, responseType: 'json', retry: {limit: 0}, throwHttpErrors: false, timeout: {request: timeoutMs},
    })
  } catch (error: any) {
    throw new PdhooksError(`No sandbox answers at ${base} (${error?.code ?? error?.message}).`, {
      code: 'unreachable', exit: ExitCode.unavailable, hint: 'Start one with "pdhooks sandbox", or point --to / PDHOOKS_PIPEDRIVE_URL at it.',
    })
  }

  if (res.statusCode !== 200) throw new PdhooksError(`The sandbox at ${base} refused the change (${res.statusCode}).`, {exit: ExitCode.unexpected})
  const body = res.body as {deliveries?: Array<{error?: string; ms: number; status: number; url: string; webhook_id: number}>}
  const deliveries = (body.deliveries ?? []).map((d, i) => ({
    description: `webhook ${d.webhook_id} → ${d.url}`, ...(d.error ? {error: d.error} : {}), ms: d.ms, n: i + 1, status: d.status || null,
  }))
  return {body, deliveries}
}
