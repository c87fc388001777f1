/**
 * Sandbox emulation of the Cloud Elements / SAP Open Connectors platform API (under `/elements/api-v2`):
 * instances of the Pipedrive connector, the events endpoint Pipedrive deliveries reach, and normalization.
 */
import {randomBytes, randomUUID} from 'node:crypto'

import type {Clock} from './clock.js'
import type {CeEventRecord, CeInstance, SandboxState} from './state.js'

import {
  elementsDate, type ElementsEvent, elementsEventType, elementsObjectType, parsePipedrivePayload,
} from '../deliveries/payloads.js'
import {isPipedriveAction} from '../pipedrive/events.js'
import {
  type ApiRequest, header, isHttpUrl, isJsonContentType, isRecord, json, parseJson, type Reply,
} from './http.js'
import {LIMITS} from './state.js'

export const ELEMENTS_PREFIX = '/elements/api-v2'
const MASKED = '********'
/** The only element the sandbox knows. */
const PIPEDRIVE_ELEMENT = {
  id: 167,
  name: 'Pipedrive',
  key: 'pipedrive',
  description:
    'Add a Pipedrive Instance to connect your existing Pipedrive account to the CRM Hub, allowing you to manage contacts, accounts, opportunities etc. across multiple CRM Elements.',
  image: 'https://pbs.twimg.com/profile_images/501332028000702464/rDOcFppt.png',
  active: true,
  deleted: false,
  typeOauth: false,
  trialAccount: false,
  transformationsEnabled: true,
  authentication: {type: 'custom'},
  hub: 'crm',
  parameters: [],
}
/** Configuration entries the platform's documented answer always shows, overridden by what was sent. */
const DEFAULT_CONFIGURATION: Record<string, unknown> = {
  'base.url': 'https://api.pipedrive.com/v1',
  'pagination.offset': 'true',
  'event.notification.instance.finder': null,
  'event.notification.callback.url': null,
  'pagination.max': '100',
  'event.vendor.type': 'webhook',
  'event.notification.enabled': 'false',
}
/** Polled resources when `event.poller.configuration` says nothing. */
const DEFAULT_POLLED = ['accounts', 'contacts', 'opportunities']

const SECRET_KEYS = new Set(['event.notification.signature.key', 'pipedrive.api.token', 'pipedrive.password'])

/** Is this configuration key a secret (answered as `********`)? */
function isSecretConfigKey(key: string): boolean {
  return SECRET_KEYS.has(key) || /password|secret|signature\.key|api\.token|oauth\.token/i.test(key)
}

/** Error body `{"message","requestId"}`. */
function ceError(status: number, message: string): Reply {
  return json(status, {message, requestId: randomUUID()})
}

/** Parts of an `Authorization: User …, Organization …[, Element …]` header. */
export interface ElementsAuth {
  user?: string
  organization?: string
  element?: string
}

/** Parses the platform's authorization header, tolerant of spacing and case of the keywords. */
export function parseElementsAuth(value: string): ElementsAuth {
  const out: ElementsAuth = {}
  for (const part of value.split(',')) {
    const m = /^\s*(user|organization|element)\s+(\S.*?)\s*$/i.exec(part)
    if (!m) continue
    const key = m[1].toLowerCase() as keyof ElementsAuth
    out[key] = m[2]
  }

  return out
}

/** User secret plus an organization secret (or an instance token). */
function isElementsAuthValid(auth: ElementsAuth): boolean {
  return Boolean(auth.user && (auth.organization || auth.element))
}

const truthy = (v: unknown): boolean => String(v).trim().toLowerCase() === 'true'
const present = (v: unknown): boolean => v !== undefined && v !== null && String(v).trim() !== ''

/** Events on? (`event.notification.enabled` is "true"). */
function eventsEnabled(config: Record<string, unknown>): boolean {
  return truthy(config['event.notification.enabled'])
}

/** `webhook` or `polling` (default `webhook`). */
export function vendorType(config: Record<string, unknown>): string {
  return present(config['event.vendor.type']) ? String(config['event.vendor.type']) : 'webhook'
}

/**
 * Checks an instance configuration; returns the error message (naming the entries) or undefined when valid.
 * Login: `pipedrive.email` + `pipedrive.password`, or `pipedrive.api.token`.
 */
export function validateConfiguration(config: Record<string, unknown>): string | undefined {
  if (!present(config['pipedrive.api.token'])) {
    const missing = ['pipedrive.email', 'pipedrive.password'].filter(k => !present(config[k]))
    if (missing.length > 0) {
      return `Missing required configuration ${missing.length === 1 ? 'entry' : 'entries'}: ${missing.join(', ')} (or pipedrive.api.token)`
    }
  }

  const type = config['event.vendor.type']
  if (present(type) && !['polling', 'webhook'].includes(String(type))) {
    return `Invalid value "${String(type)}" for event.vendor.type: must be webhook or polling`
  }

  const callback = config['event.notification.callback.url']
  if (eventsEnabled(config) && !present(callback)) {
    return 'Missing required configuration entry: event.notification.callback.url (required when event.notification.enabled is true)'
  }

  if (present(callback) && !isHttpUrl(String(callback))) {
    return `Invalid value for event.notification.callback.url: "${String(callback)}" is not an http(s) URL`
  }

  const interval = config['event.poller.refresh_interval']
  if (present(interval) && !(Number(interval) > 0)) {
    return `Invalid value "${String(interval)}" for event.poller.refresh_interval: must be a number of minutes`
  }

  const poller = config['event.poller.configuration']
  if (present(poller) && !isRecord(poller)) {
    if (typeof poller !== 'string') return 'Invalid event.poller.configuration: must be an object'
    try {
      if (!isRecord(JSON.parse(poller))) throw new Error('not an object')
    } catch {
      return 'Invalid event.poller.configuration: must be a JSON object'
    }
  }

  return undefined
}

/** The resources a polling instance polls (keys of `event.poller.configuration`, or the documented three). */
export function polledResources(config: Record<string, unknown>): string[] {
  let poller = config['event.poller.configuration']
  if (typeof poller === 'string') {
    try {
      poller = JSON.parse(poller)
    } catch {
      poller = undefined
    }
  }

  if (isRecord(poller) && Object.keys(poller).length > 0) return Object.keys(poller)
  return DEFAULT_POLLED
}

/** Refresh interval in minutes (default 15, at least 1). */
export function refreshMinutes(config: Record<string, unknown>): number {
  const n = Number(config['event.poller.refresh_interval'])
  return Number.isFinite(n) && n > 0 ? Math.max(1, n) : 15
}

/** Base64 of an instance id, as used in the events URL (`20931` → `MjA5MzE=`). */
export function encodeInstanceId(id: number | string): string {
  return Buffer.from(String(id)).toString('base64')
}

/** The instance id in an events URL segment (tolerates URL-escaping, missing padding, base64url); undefined if invalid. */
export function decodeInstanceId(segment: string): number | undefined {
  let s = segment
  try {
    s = decodeURIComponent(segment)
  } catch {
    return undefined
  }

  if (!/^[\w+/-]+={0,2}$/.test(s)) return undefined
  const text = Buffer.from(s.replaceAll('-', '+').replaceAll('_', '/'), 'base64').toString('utf8')
  return /^\d+$/.test(text) ? Number(text) : undefined
}

/** Normalizes a Pipedrive delivery (v1 or v2) into platform events; [] when unrecognised. */
export function normalizePipedriveDelivery(body: unknown, elementKey = 'pipedrive'): ElementsEvent[] {
  const p = parsePipedrivePayload(body)
  if (!p || !isPipedriveAction(p.action)) return []
  return [
    {
      objectId: p.id,
      objectType: elementsObjectType(p.object),
      eventType: elementsEventType(p.action),
      elementKey,
      date: elementsDate(p.date),
    },
  ]
}

function tagId(state: SandboxState, name: string): number {
  let id = state.elements.tagIds[name]
  if (id === undefined) {
    id = state.elements.nextTagId++
    state.elements.tagIds[name] = id
  }

  return id
}

/** The instance as the API shows it: secrets masked; tags `[{id,name}]` (create) or strings (GET). */
function presentInstance(state: SandboxState, inst: CeInstance, tagsAs: 'objects' | 'strings'): Record<string, unknown> {
  const configuration: Record<string, unknown> = {}
  for (const [k, v] of Object.entries({...DEFAULT_CONFIGURATION, ...inst.configuration})) {
    configuration[k] = isSecretConfigKey(k) && present(v) ? MASKED : v
  }

  return {
    id: inst.id,
    name: inst.name,
    createdDate: inst.createdDate,
    updatedDate: inst.updatedDate,
    token: inst.token,
    element: PIPEDRIVE_ELEMENT,
    provisionInteractions: [],
    valid: true,
    disabled: inst.disabled,
    maxCacheSize: 0,
    cacheTimeToLive: 0,
    configuration,
    eventsEnabled: eventsEnabled(inst.configuration),
    traceLoggingEnabled: false,
    cachingEnabled: false,
    externalAuthentication: 'none',
    user: {
      id: 1, emailAddress: 'sandbox@example.com', firstName: 'Sandbox', lastName: 'User',
    },
    tags: tagsAs === 'objects' ? inst.tags.map(name => ({id: tagId(state, name), name})) : [...inst.tags],
  }
}

/** What the elements handler needs from the sandbox. */
export interface ElementsContext {
  readonly clock: Clock
  state: SandboxState
  persist(): void
  /** After create / update: (re)start the poller. */
  instanceChanged(inst: CeInstance): void
  instanceRemoved(id: number): void
  /** A received event to forward to the instance's callback URL. */
  forward(inst: CeInstance, record: CeEventRecord): void
}

function parseTags(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) return undefined
  const out: string[] = []
  for (const t of value) {
    if (typeof t === 'string') out.push(t)
    else if (isRecord(t) && typeof t.name === 'string') out.push(t.name)
    else return undefined
  }

  return out
}

/** Merges a configuration update: `********` keeps the stored secret, null removes the entry. */
function mergeConfiguration(base: Record<string, unknown>, update: Record<string, unknown>): Record<string, unknown> {
  const out = {...base}
  for (const [k, v] of Object.entries(update)) {
    if (v === MASKED && k in base) continue
    if (v === null) delete out[k]
    else out[k] = v
  }

  return out
}

function jsonBody(req: ApiRequest): {error: Reply} | {value: Record<string, unknown>} {
  if (!isJsonContentType(req.headers)) return {error: ceError(415, 'Unsupported Media Type: send JSON (Content-Type: application/json)')}
  const parsed = parseJson(req.rawBody)
  if (!parsed.ok) return {error: ceError(400, parsed.reason === 'empty' ? 'A JSON request body is required' : 'Malformed JSON request body')}
  if (!isRecord(parsed.value)) return {error: ceError(400, 'The request body must be a JSON object')}
  return {value: parsed.value}
}

function findInstance(ctx: ElementsContext, idText: string): CeInstance | undefined {
  if (!/^\d+$/.test(idText)) return undefined
  const id = Number(idText)
  return ctx.state.elements.instances.find(i => i.id === id)
}

/** Handles a request whose path is under `/elements/api-v2`. */
export function handleElements(ctx: ElementsContext, req: ApiRequest): Reply {
  const sub = req.path.slice(ELEMENTS_PREFIX.length) || '/'
  const ev = /^\/events\/([^/]+)\/([^/]+)\/?$/.exec(sub)
  if (ev) {
    if (req.method !== 'POST') return ceError(405, `Method ${req.method} not allowed on the events endpoint`)
    return receiveEvent(ctx, req, decodeURIComponent(ev[1]), ev[2])
  }

  const auth = parseElementsAuth(header(req.headers, 'authorization'))
  if (!isElementsAuthValid(auth)) {
    return ceError(401, 'Missing or malformed Authorization header: expected "User <user secret>, Organization <organization secret>"')
  }

  const {method} = req
  if (sub === '/instances' || sub === '/instances/') {
    if (method === 'GET') return json(200, ctx.state.elements.instances.map(i => presentInstance(ctx.state, i, 'strings')))
    if (method === 'POST') return createInstance(ctx, req)
    return ceError(405, `Method ${method} not allowed on /instances`)
  }

  const el = /^\/elements\/([^/]+)(\/instances)?\/?$/.exec(sub)
  if (el) {
    const key = decodeURIComponent(el[1])
    if (el[2] && method === 'POST') return createInstance(ctx, req, key)
    if (!el[2] && method === 'GET') {
      return key === PIPEDRIVE_ELEMENT.key ? json(200, PIPEDRIVE_ELEMENT) : ceError(404, `No element found with key '${key}'`)
    }

    if (el[2] && method === 'GET') {
      return json(
        200,
        ctx.state.elements.instances.filter(i => i.elementKey === key).map(i => presentInstance(ctx.state, i, 'strings')),
      )
    }
  }

  const one = /^\/instances\/([^/]+)(\/events)?\/?$/.exec(sub)
  if (one) {
    const inst = findInstance(ctx, one[1])
    if (!inst) return ceError(404, `No instance found with id ${one[1]}`)
    if (one[2]) {
      if (method !== 'GET') return ceError(405, `Method ${method} not allowed on instance events`)
      const events = ctx.state.elements.events.filter(e => e.instanceId === inst.id).reverse()
      return json(
        200,
        events.map(e => ({...e, elementKey: inst.elementKey})),
      )
    }

    switch (method) {
    case 'DELETE': {
      ctx.state.elements.instances = ctx.state.elements.instances.filter(i => i.id !== inst.id)
      ctx.state.elements.events = ctx.state.elements.events.filter(e => e.instanceId !== inst.id)
      ctx.instanceRemoved(inst.id)
      ctx.persist()
      return json(200, {})
    }

    case 'GET': {
      return json(200, presentInstance(ctx.state, inst, 'strings'))
    }

    case 'PATCH':
    case 'PUT': {
      return updateInstance(ctx, req, inst, method === 'PUT')
    }

    default: {
      return ceError(405, `Method ${method} not allowed on /instances/{id}`)
    }
    }
  }

  return ceError(404, `No resource at ${method} ${req.path}`)
}

function createInstance(ctx: ElementsContext, req: ApiRequest, pathKey?: string): Reply {
  const b = jsonBody(req)
  if ('error' in b) return b.error
  const body = b.value
  let key = pathKey
  if (key === undefined) {
    const {element} = body
    key = isRecord(element) && typeof element.key === 'string' && element.key !== '' ? element.key : undefined
    if (key === undefined) return ceError(400, 'Missing required field: element.key')
  }

  if (key !== PIPEDRIVE_ELEMENT.key) return ceError(400, `No element found with key '${key}' (the sandbox knows only 'pipedrive')`)
  if (body.configuration !== undefined && !isRecord(body.configuration)) return ceError(400, 'configuration must be an object')
  const configuration = isRecord(body.configuration) ? {...body.configuration} : {}
  const problem = validateConfiguration(configuration)
  if (problem) return ceError(400, problem)
  const tags = parseTags(body.tags)
  if (!tags) return ceError(400, 'tags must be an array of strings')
  if (body.name !== undefined && body.name !== null && typeof body.name !== 'string') return ceError(400, 'name must be a string')
  const id = ctx.state.elements.nextId++
  const now = new Date(ctx.clock.now()).toISOString()
  const inst: CeInstance = {
    id,
    name: typeof body.name === 'string' && body.name.trim() !== '' ? body.name : `pipedrive-${id}`,
    token: randomBytes(32).toString('base64'),
    elementKey: key,
    configuration,
    tags,
    disabled: false,
    createdDate: now,
    updatedDate: now,
    pollCursor: ctx.state.changes.nextSeq - 1,
  }
  ctx.state.elements.instances.push(inst)
  const shown = presentInstance(ctx.state, inst, 'objects')
  ctx.instanceChanged(inst)
  ctx.persist()
  return json(200, shown)
}

function updateInstance(ctx: ElementsContext, req: ApiRequest, inst: CeInstance, replace: boolean): Reply {
  const b = jsonBody(req)
  if ('error' in b) return b.error
  const body = b.value
  if (body.element !== undefined) {
    const key = isRecord(body.element) ? body.element.key : undefined
    if (key !== undefined && key !== inst.elementKey) return ceError(400, `Cannot change the element of an instance (to '${String(key)}')`)
  }

  if (body.configuration !== undefined && body.configuration !== null && !isRecord(body.configuration)) {
    return ceError(400, 'configuration must be an object')
  }

  const update = isRecord(body.configuration) ? body.configuration : {}
  let configuration: Record<string, unknown>
  if (replace) {
    // keep stored secrets that come back masked
    configuration = {}
    for (const [k, v] of Object.entries(update)) {
      if (v === MASKED && k in inst.configuration) configuration[k] = inst.configuration[k]
      else if (v !== null) configuration[k] = v
    }
  } else configuration = mergeConfiguration(inst.configuration, update)

  const problem = validateConfiguration(configuration)
  if (problem) return ceError(400, problem)
  let {tags} = inst
  if (body.tags !== undefined || replace) {
    const parsed = parseTags(body.tags)
    if (!parsed) return ceError(400, 'tags must be an array of strings')
    tags = parsed
  }

  if (body.name !== undefined && typeof body.name !== 'string') return ceError(400, 'name must be a string')
  if (body.disabled !== undefined && typeof body.disabled !== 'boolean') return ceError(400, 'disabled must be a boolean')
  inst.configuration = configuration
  inst.tags = tags
  if (typeof body.name === 'string' && body.name.trim() !== '') inst.name = body.name
  if (typeof body.disabled === 'boolean') inst.disabled = body.disabled
  inst.updatedDate = new Date(ctx.clock.now()).toISOString()
  ctx.instanceChanged(inst)
  ctx.persist()
  return json(200, presentInstance(ctx.state, inst, 'strings'))
}

/** Records an event for an instance (keeping the last {@link LIMITS.eventsPerInstance}). */
export function recordEvent(
  state: SandboxState,
  inst: CeInstance,
  {events, raw, source}: {events: ElementsEvent[]; raw: unknown; source: CeEventRecord['source']},
  now = Date.now(),
): CeEventRecord {
  const callback = inst.configuration['event.notification.callback.url']
  const record: CeEventRecord = {
    id: state.elements.nextEventId++,
    instanceId: inst.id,
    eventId: randomUUID(),
    eventDate: new Date(now).toISOString(),
    source,
    status: 'RECEIVED',
    events,
    raw,
    notification: {
      url: present(callback) ? String(callback) : null,
      attempts: 0,
      lastStatus: null,
      lastError: null,
      signed: present(inst.configuration['event.notification.signature.key']),
    },
  }
  state.elements.events.push(record)
  const mine = state.elements.events.filter(e => e.instanceId === inst.id)
  if (mine.length > LIMITS.eventsPerInstance) {
    const drop = new Set(mine.slice(0, mine.length - LIMITS.eventsPerInstance))
    state.elements.events = state.elements.events.filter(e => !drop.has(e))
  }

  return record
}

/** Can this instance forward notifications now? */
export function canForward(inst: CeInstance): boolean {
  return !inst.disabled && eventsEnabled(inst.configuration) && isHttpUrl(inst.configuration['event.notification.callback.url'])
}

function receiveEvent(ctx: ElementsContext, req: ApiRequest, elementKey: string, segment: string): Reply {
  const id = decodeInstanceId(segment)
  const inst = id === undefined ? undefined : ctx.state.elements.instances.find(i => i.id === id)
  if (!inst || inst.elementKey !== elementKey) {
    return ceError(404, `No ${elementKey} instance found for events id '${segment}'`)
  }

  const parsed = parseJson(req.rawBody)
  if (!parsed.ok) return ceError(400, parsed.reason === 'empty' ? 'An event body is required' : 'Malformed JSON event body')
  const events = normalizePipedriveDelivery(parsed.value, inst.elementKey)
  const record = recordEvent(ctx.state, inst, {source: 'webhook', events, raw: parsed.value}, ctx.clock.now())
  if (events.length === 0) record.status = 'UNRECOGNIZED'
  else if (canForward(inst)) {
    ctx.forward(inst, record)
  } else record.status = 'NOT_FORWARDED'
  ctx.persist()
  return json(200, {id: record.id, eventId: record.eventId, status: 'received'})
}
