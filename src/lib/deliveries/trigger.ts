import {randomUUID} from 'node:crypto'

import {ExitCode, PdhooksError, usageError} from '../core/errors.js'
import {exchange} from '../core/transport.js'
import {
  isPipedriveAction, knownPipedriveObjects, parseEvent, splitEvent, toV1Action, toV2Action, V1_OBJECTS,
} from '../pipedrive/events.js'
import {parsePipelinerEvent} from '../pipeliner/events.js'
import {
  type DeliveryContext, elementsBody, eventName, mergeNote, pipedriveBody,
} from './build.js'
import {type ElementsForm, pipelinerDelivery} from './payloads.js'
import {
  MERGEABLE_OBJECTS, pipedriveSample, type PipedriveVersion, pipelinerSample, type SampleEvent,
} from './samples.js'
import {sendRaw, type SendResult} from './send.js'
import {basicAuthHeader, signElements, signPipeliner} from './signatures.js'

export type TriggerFormat = 'elements' | 'pipedrive' | 'pipeliner'

/** What trigger's Pipedrive samples carry in their meta block (the values of Pipedrive's documented examples). */
export const TRIGGER_CONTEXT: DeliveryContext = {
  companyId: 8_087_566, host: 'company.pipedrive.com', userId: 12_415_231, webhookId: 4_710_827, webhookOwnerId: 12_094_821,
}
/** The webhook id in trigger's Pipeliner items. */
const TRIGGER_PIPELINER_WEBHOOK = '00000000-0000-4000-8000-000000000001'

export interface TriggerInput {
  basicAuth?: {password: string; user: string}
  elementsForm?: ElementsForm
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

/** A Pipedrive event to sample, validated: its action (`merged` for merges), object and version. */
export interface PipedriveEventChoice {
  action: string
  object: string
  version: PipedriveVersion
  warnings: string[]
}

/**
 * Validates `ACTION.OBJECT` for a Pipedrive sample. `merged.X` is a merge in either version (v2 has no merge word: it
 * sends a `delete` and a `change`); other events follow the webhook grammar (pipedrive/events.ts), the version inferred from the
 * words unless given.
 */
export function choosePipedriveEvent(event: string, version?: string): PipedriveEventChoice {
  const {action, object} = splitEvent(event)
  if (action === '*' || object === '*') {
    throw usageError(`"${event}" has a wildcard: a sample delivery needs one action and one object.`, 'Example: change.deal, added.person (see trigger --list).')
  }

  if (action === 'merged') {
    if (!MERGEABLE_OBJECTS.includes(object) && knownPipedriveObjects().includes(object)) {
      throw usageError(`A ${object} cannot be merged.`, `Pipedrive merges ${MERGEABLE_OBJECTS.join(', ')}.`)
    }

    const v = (version ?? '1.0') as PipedriveVersion
    // the object must exist in that version: check it with the version's change word
    const parsed = parseEvent(`${v === '2.0' ? 'change' : 'updated'}.${object}`, {version: v})
    return {
      action, object: parsed.object, version: v, warnings: parsed.warnings,
    }
  }

  const parsed = parseEvent(event, {version})
  return {
    action: parsed.action, object: parsed.object, version: parsed.version, warnings: parsed.warnings,
  }
}

/**
 * The event of a Cloud Elements notification: either vocabulary's word (`change.deal` and `updated.deal` are both an
 * UPDATED notification). The version is that of the vendor body Pipedrive sends the platform (its `raw`): `--version`,
 * else 2.0 for objects only webhooks v2 have, else 1.0 (what callback URLs receive by default).
 */
export function chooseElementsEvent(event: string, version?: string): PipedriveEventChoice {
  const {action, object} = splitEvent(event)
  const v1Object = (V1_OBJECTS as readonly string[]).includes(object)
  const v = (version ?? (v1Object ? '1.0' : '2.0')) as PipedriveVersion
  if (action === 'merged' || !isPipedriveAction(action)) return choosePipedriveEvent(event, v)
  return choosePipedriveEvent(`${v === '1.0' ? toV1Action(action) : toV2Action(action)}.${object}`, v)
}

function authenticate(format: TriggerFormat, body: Buffer, headers: Record<string, string>, input: Pick<TriggerInput, 'basicAuth' | 'elementsKey' | 'pipelinerKey'>): void {
  if (format === 'pipedrive' && input.basicAuth) headers.authorization = basicAuthHeader(input.basicAuth.user, input.basicAuth.password)
  if (format === 'elements' && input.elementsKey) headers['elements-webhook-signature'] = signElements(input.elementsKey, body)
  if (format === 'pipeliner' && input.pipelinerKey) headers['webhook-signature'] = signPipeliner(input.pipelinerKey, body, 'hex')
}

/** Headers and authentication of one body, as the real service sends it. */
function deliveryOf(format: TriggerFormat, payload: unknown, description: string, input: Pick<TriggerInput, 'basicAuth' | 'elementsKey' | 'pipelinerKey'>, extra: Record<string, string> = {}): SampleDelivery {
  const body = Buffer.from(JSON.stringify(payload))
  const headers: Record<string, string> = {'content-type': 'application/json', 'user-agent': 'pdhooks-trigger', ...extra}
  authenticate(format, body, headers, input)
  return {body, description, headers}
}

/** Authenticates (or signs) a body given as bytes, keeping the headers it came with. */
export function authenticateRaw(format: TriggerFormat, body: Buffer, headers: Record<string, string>, input: Pick<TriggerInput, 'basicAuth' | 'elementsKey' | 'pipelinerKey'>): Record<string, string> {
  const out = {...headers}
  authenticate(format, body, out, input)
  return out
}

/**
 * Builds the sample deliveries of one event, authenticated or signed as the real service would: one, or two for a merge
 * (v2: the `delete` with `merged_to_id`, then the `change` with `merged_from_id`; v1: `merged` then `deleted`).
 * `n` numbers the deliveries of a series (`--count`): each is about another object id.
 */
export function buildDeliveries(input: TriggerInput, n = 0): SampleDelivery[] {
  if (input.format === 'pipeliner') {
    const event = parsePipelinerEvent(input.event)
    if (event.endsWith('*')) throw usageError(`"${event}" has a wildcard: a sample delivery needs one Entity.Event.`, 'Example: Opportunity.Update (see trigger --list).')
    const entity = pipelinerSample(event.split('.')[0], input.sets)
    const payload = pipelinerDelivery([{entity, event}], {webhook: {id: TRIGGER_PIPELINER_WEBHOOK}})
    return [deliveryOf('pipeliner', payload, `pipeliner ${event}`, input)]
  }

  const elements = input.format === 'elements'
  const choice = elements ? chooseElementsEvent(input.event, input.version) : choosePipedriveEvent(input.event, input.version)
  const events = pipedriveSample(choice.version, {
    action: choice.action, n, object: choice.object, sets: input.sets,
  })
  return events.map(e => {
    if (!elements) return deliveryOf('pipedrive', pipedriveBody(choice.version, e, TRIGGER_CONTEXT), describe('pipedrive', choice.version, e), input)
    const eventId = randomUUID()
    const body = elementsBody(choice.version, e, {
      ctx: TRIGGER_CONTEXT, eventId, form: input.elementsForm, instanceId: input.instanceId ?? '20931',
    })
    return deliveryOf('elements', body, describe('elements', choice.version, e), input, {'elements-webhook-id': eventId})
  })
}

function describe(format: 'elements' | 'pipedrive', version: PipedriveVersion, e: SampleEvent): string {
  return `${format}${format === 'elements' ? ' (vendor' : ''} v${version} ${eventName(e)} ${e.id}${mergeNote(e)}${format === 'elements' ? ')' : ''}`
}

/** The warnings an event deserves (e.g. stage events are not deal moves), for stderr. */
export function eventWarnings(input: Pick<TriggerInput, 'event' | 'format' | 'version'>): string[] {
  if (input.format === 'pipeliner') return []
  const choice = input.format === 'elements' ? chooseElementsEvent(input.event, input.version) : choosePipedriveEvent(input.event, input.version)
  const out = [...choice.warnings]
  if (choice.object === 'user' && choice.version === '2.0' && toV2ActionSafe(choice.action) === 'delete') {
    out.push('Pipedrive documents a deleted user as a change.user that deactivates it (active_flag false): that is what is sent.')
  }

  return out
}

function toV2ActionSafe(action: string): string {
  return isPipedriveAction(action) ? toV2Action(action) : action
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
 * What `trigger --sandbox` asks a sandbox to do (the body of `POST /sandbox/events`): a Pipedrive change (`object`,
 * `action`, `set`) the sandbox renders for each webhook in its version, or a Pipeliner event (`event`, `entity`).
 */
export function sandboxRequest(input: {event: string; format?: TriggerFormat; sets?: string[]; version?: string}): Record<string, unknown> {
  if ((input.format ?? inferFormat(input.event)) === 'pipeliner') {
    const event = parsePipelinerEvent(input.event)
    if (event.endsWith('*')) throw usageError(`"${event}" has a wildcard: the sandbox needs one Entity.Event.`, 'Example: Opportunity.Update.')
    return {entity: pipelinerSample(event.split('.')[0], input.sets), event}
  }

  const choice = choosePipedriveEvent(input.event, input.version)
  // validates the --set values before anything is sent
  pipedriveSample(choice.version, {action: choice.action, object: choice.object, sets: input.sets})
  return {action: choice.action, object: choice.object, ...(input.sets?.length ? {set: input.sets} : {})}
}

/**
 * Asks a running sandbox (at `base`, its origin) to make a change for real: `POST /sandbox/events`. It delivers to every
 * matching webhook and answers with what happened.
 */
export async function changeInSandbox(base: string, request: Record<string, unknown>, timeoutMs: number): Promise<{body: unknown; deliveries: SandboxDelivery[]}> {
  let res
  try {
    res = await exchange(new URL(`${base}/sandbox/events`), {
      body: JSON.stringify(request), headers: {accept: 'application/json', 'content-type': 'application/json'}, method: 'POST', timeoutMs,
    })
  } catch (error: any) {
    throw new PdhooksError(`No sandbox answers at ${base} (${error?.code ?? error?.message}).`, {
      code: 'unreachable', exit: ExitCode.unavailable, hint: 'Start one with "pdhooks sandbox", or point --to / PDHOOKS_PIPEDRIVE_URL at it.',
    })
  }

  let answer: unknown
  try {
    answer = JSON.parse(res.body)
  } catch {
    answer = undefined
  }

  if (res.statusCode !== 200 || answer === undefined) {
    const why = (answer as {error?: unknown} | undefined)?.error
    const what = answer === undefined && res.statusCode === 200 ? '200 without JSON' : String(res.statusCode)
    throw new PdhooksError(`The sandbox at ${base} refused the change (${what}${typeof why === 'string' ? `: ${why}` : ''}).`, {exit: ExitCode.unexpected})
  }

  const body = answer as {deliveries?: Array<{error?: string; event?: string; ms: number; status: number; url: string; webhook_id: number | string}>}
  const deliveries = (body.deliveries ?? []).map((d, i) => ({
    description: `${d.event ? `${d.event} ` : ''}webhook ${d.webhook_id} → ${d.url}`, ...(d.error ? {error: d.error} : {}), ms: d.ms, n: i + 1, status: d.status || null,
  }))
  return {body, deliveries}
}
