/**
 * Sandbox emulation of the Pipeliner CRM webhooks API (under `/api/v100/rest/spaces/sandbox`): event table,
 * validation, cursor paging, matching of changes against webhook options, and the request handler.
 */
import {createHash, randomUUID} from 'node:crypto'

import type {Clock} from './clock.js'
import type {PlWebhook, PlWebhookRecord, SandboxState} from './state.js'

import {PIPELINER_EVENTS} from '../pipeliner/events.js'
import {
  type ApiRequest, header, isHttpUrl, isRecord, json, parseJson, type Reply,
} from './http.js'

const PIPELINER_SPACE = 'sandbox'
export const PIPELINER_PREFIX = '/api/v100/rest/spaces/'

const DEFAULT_PAGE_SIZE = 30
const MAX_PAGE_SIZE = 100

const UUID = /^[\da-f]{8}-[\da-f]{4}-[\da-f]{4}-[\da-f]{4}-[\da-f]{12}$/i

function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value)
}

/** Is `name` a concrete event (`Entity.Event`) of the table (the API's spelling: case-sensitive)? */
export function isConcreteEvent(name: string): boolean {
  const m = /^(\w+)\.(\w+)$/.exec(name)
  return Boolean(m && PIPELINER_EVENTS[m[1]]?.includes(m[2]))
}

/** Is `name` a valid webhook event: `*`, `Entity.*` or `Entity.Event`? */
export function isValidEventPattern(name: string): boolean {
  if (name === '*') return true
  const m = /^(\w+)\.(\*|\w+)$/.exec(name)
  if (!m || !PIPELINER_EVENTS[m[1]]) return false
  return m[2] === '*' || PIPELINER_EVENTS[m[1]].includes(m[2])
}

function pipelinerError(status: number, code: number, name: string, message: string): Reply {
  return json(status, {
    success: false, http_status: status, code, name, message,
  })
}

/** 400 ERROR_PARAMETER_INVALID (code 117). */
function invalidParameter(message: string): Reply {
  return pipelinerError(400, 117, 'ERROR_PARAMETER_INVALID', message)
}

function notFound(message: string): Reply {
  return pipelinerError(404, 404, 'ERROR_ENTITY_NOT_FOUND', message)
}

/** Fields a client may write. */
export interface PlWebhookInput {
  url: string
  events: string[]
  insecure_ssl: boolean
  signature: null | string
  options: null | Record<string, unknown>
}

const bad = (message: string): {message: string; ok: false} => ({ok: false, message})

/** Validates a webhook's writable fields (after merging a PATCH). Returns the first problem's message. */
function validatePlWebhook(body: Record<string, unknown>): {message: string; ok: false} | {ok: true; value: PlWebhookInput} {
  if (body.url === undefined || body.url === null || body.url === '') return bad("Parameter 'url' is required")
  if (!isHttpUrl(body.url)) return bad(`Parameter 'url' is invalid: "${String(body.url)}" is not an http(s) URL`)
  if (body.events === undefined || body.events === null) return bad("Parameter 'events' is required")
  if (!Array.isArray(body.events) || body.events.length === 0) return bad("Parameter 'events' must be a non-empty array of event names")
  for (const e of body.events) {
    if (typeof e !== 'string' || !isValidEventPattern(e)) {
      return bad(`Parameter 'events' is invalid: unknown event ${JSON.stringify(e)} (use *, Entity.* or Entity.Event, e.g. Account.Create)`)
    }
  }

  if (body.insecure_ssl === undefined || body.insecure_ssl === null) return bad("Parameter 'insecure_ssl' is required")
  if (typeof body.insecure_ssl !== 'boolean') return bad("Parameter 'insecure_ssl' must be a boolean")
  let signature: null | string = null
  if (body.signature !== undefined && body.signature !== null && body.signature !== '') {
    if (!isUuid(body.signature)) return bad("Parameter 'signature' must be a UUID")
    signature = body.signature
  }

  let options: null | Record<string, unknown> = null
  if (body.options !== undefined && body.options !== null) {
    if (!isRecord(body.options)) return bad("Parameter 'options' must be an object")
    const o = body.options
    if (o.chunk_size !== undefined && o.chunk_size !== null && (typeof o.chunk_size !== 'number' || !Number.isInteger(o.chunk_size) || o.chunk_size < 1 || o.chunk_size > 100)) {
      return bad("Parameter 'options.chunk_size' must be an integer from 1 to 100")
    }

    if (o.chunk_delay !== undefined && o.chunk_delay !== null && (typeof o.chunk_delay !== 'number' || o.chunk_delay < 0)) {
      return bad("Parameter 'options.chunk_delay' must be a number of seconds >= 0")
    }

    for (const k of ['skip_keys', 'custom_entity_api_name']) {
      const v = o[k]
      if (v !== undefined && v !== null && (!Array.isArray(v) || v.some(x => typeof x !== 'string'))) {
        return bad(`Parameter 'options.${k}' must be an array of strings`)
      }
    }

    if (o.entity !== undefined && o.entity !== null && !isRecord(o.entity)) return bad("Parameter 'options.entity' must be an object")
    if (o.related_entity !== undefined && o.related_entity !== null && !isRecord(o.related_entity)) {
      return bad("Parameter 'options.related_entity' must be an object")
    }

    options = o
  }

  return {
    ok: true, value: {
      url: body.url, events: body.events as string[], insecure_ssl: body.insecure_ssl, signature, options,
    },
  }
}

/** A uuid-shaped id derived from text (stable client/application ids). */
function stableUuid(text: string): string {
  const h = createHash('sha256').update(text).digest('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`
}

export const encodeCursor = (seq: number): string => Buffer.from(`seq:${seq}`).toString('base64url')

export function decodeCursor(cursor: string): number | undefined {
  const m = /^seq:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'))
  return m ? Number(m[1]) : undefined
}

/** The webhook as the API shows it (without the internal sequence number). */
export function presentPlWebhook(w: PlWebhookRecord): PlWebhook {
  return {
    id: w.id,
    url: w.url,
    events: [...w.events],
    insecure_ssl: w.insecure_ssl,
    signature: w.signature,
    options: w.options,
    created: w.created,
    modified: w.modified,
    is_deleted: w.is_deleted,
    application_id: w.application_id,
    client_id: w.client_id,
  }
}

/** Does the webhook's events list cover `event` (`Entity.Event`)? */
export function plEventMatches(patterns: string[], event: string): boolean {
  const entity = event.split('.')[0]
  return patterns.some(p => p === '*' || p === event || p === `${entity}.*`)
}

function filterMatches(value: unknown, wanted: unknown, op: string): boolean {
  const list = Array.isArray(wanted) ? wanted : [wanted]
  const eq = list.some(w => JSON.stringify(w) === JSON.stringify(value) || String(w) === String(value))
  return op === 'neq' || op === 'ne' ? !eq : eq
}

/**
 * Applies a webhook's `options` to one change: `skip_keys` (against the request's `Webhook-Skip-Key`),
 * `entity.<Entity>.filter` / `filter-op` (eq, neq) and `entity.<Entity>.on-field-change` (needs `previous`).
 */
export function plOptionsAllow(
  options: null | Record<string, unknown>,
  change: {entity: Record<string, unknown>; event: string; previous?: null | Record<string, unknown>; skipKey?: string},
): boolean {
  const {entity, event, previous, skipKey} = change
  if (!options) return true
  if (skipKey && Array.isArray(options.skip_keys) && options.skip_keys.includes(skipKey)) return false
  const entityName = event.split('.')[0]
  const perEntity = isRecord(options.entity) ? options.entity[entityName] : undefined
  if (!isRecord(perEntity)) return true
  const {filter} = perEntity
  const ops = isRecord(perEntity['filter-op']) ? perEntity['filter-op'] : {}
  if (isRecord(filter)) {
    for (const [field, wanted] of Object.entries(filter)) {
      if (!filterMatches(entity[field], wanted, String(ops[field] ?? 'eq'))) return false
    }
  }

  const onChange = perEntity['on-field-change']
  if (Array.isArray(onChange) && onChange.length > 0 && previous) {
    return onChange.some(f => typeof f === 'string' && JSON.stringify(entity[f]) !== JSON.stringify(previous[f]))
  }

  return true
}

/** What the Pipeliner handler needs from the sandbox. */
export interface PipelinerContext {
  readonly clock: Clock
  state: SandboxState
  persist(): void
}

function basicAuth(value: string): undefined | {password: string; user: string} {
  const m = /^basic\s+(\S+)\s*$/i.exec(value.trim())
  if (!m) return undefined
  const text = Buffer.from(m[1], 'base64').toString('utf8')
  const colon = text.indexOf(':')
  if (colon === -1) return undefined
  return {user: text.slice(0, colon), password: text.slice(colon + 1)}
}

function body(req: ApiRequest): {error: Reply} | {value: unknown} {
  const parsed = parseJson(req.rawBody)
  if (!parsed.ok) return {error: pipelinerError(400, 116, 'ERROR_INVALID_JSON', parsed.reason === 'empty' ? 'A JSON body is required' : 'Malformed JSON body')}
  return {value: parsed.value}
}

/** Handles a request whose path is under `/api/v100/rest/spaces/`. */
export function handlePipeliner(ctx: PipelinerContext, req: ApiRequest): Reply {
  const rest = req.path.slice(PIPELINER_PREFIX.length)
  const slash = rest.indexOf('/')
  const space = decodeURIComponent(slash === -1 ? rest : rest.slice(0, slash))
  const sub = slash === -1 ? '/' : rest.slice(slash)
  if (space !== PIPELINER_SPACE) return notFound(`Space '${space}' not found (the sandbox space is '${PIPELINER_SPACE}')`)
  const auth = basicAuth(header(req.headers, 'authorization'))
  if (!auth || !auth.user || !auth.password) {
    return pipelinerError(401, 401, 'ERROR_UNAUTHORIZED', 'Authentication failed: use HTTP Basic auth with the space API key pair')
  }

  const {method} = req
  if (sub === '/entities/Webhooks' || sub === '/entities/Webhooks/') {
    if (method === 'GET') return listWebhooks(ctx, req)
    if (method === 'POST') return createWebhook(ctx, req, auth.user)
    return pipelinerError(405, 405, 'ERROR_METHOD_NOT_ALLOWED', `Method ${method} not allowed`)
  }

  if (sub === '/entities/Webhooks/batch-delete' && method === 'POST') return batchDelete(ctx, req)
  const m = /^\/entities\/Webhooks\/([^/]+)\/?$/.exec(sub)
  if (m) {
    const id = decodeURIComponent(m[1])
    const list = ctx.state.pipeliner.webhooks
    const w = list.find(x => x.id === id)
    if (!w) return notFound(`Webhook with id '${id}' not found`)
    switch (method) {
    case 'DELETE': {
      ctx.state.pipeliner.webhooks = list.filter(x => x !== w)
      ctx.persist()
      return json(200, {success: true, data: id})
    }

    case 'GET': {
      return json(200, {success: true, data: presentPlWebhook(w)})
    }

    case 'PATCH':
    case 'PUT': {
      const b = body(req)
      if ('error' in b) return b.error
      if (!isRecord(b.value)) return invalidParameter('The body must be a JSON object')
      const merged: Record<string, unknown> = {...presentPlWebhook(w)}
      for (const k of ['url', 'events', 'insecure_ssl', 'signature', 'options']) {
        if (k in b.value) merged[k] = b.value[k]
      }

      const v = validatePlWebhook(merged)
      if (!v.ok) return invalidParameter(v.message)
      Object.assign(w, v.value, {modified: new Date(ctx.clock.now()).toISOString()})
      ctx.persist()
      return json(200, {success: true, data: presentPlWebhook(w)})
    }

    default: {
      return pipelinerError(405, 405, 'ERROR_METHOD_NOT_ALLOWED', `Method ${method} not allowed`)
    }
    }
  }

  return notFound(`No resource at ${method} ${sub}`)
}

function createWebhook(ctx: PipelinerContext, req: ApiRequest, user: string): Reply {
  const b = body(req)
  if ('error' in b) return b.error
  if (!isRecord(b.value)) return invalidParameter('The body must be a JSON object')
  const v = validatePlWebhook(b.value)
  if (!v.ok) return invalidParameter(v.message)
  const now = new Date(ctx.clock.now()).toISOString()
  const record: PlWebhookRecord = {
    id: randomUUID(),
    ...v.value,
    created: now,
    modified: now,
    is_deleted: false,
    application_id: stableUuid('pdhooks-sandbox-application'),
    client_id: stableUuid(`client:${user}`),
    seq: ctx.state.pipeliner.nextSeq++,
  }
  ctx.state.pipeliner.webhooks.push(record)
  ctx.persist()
  return json(201, {success: true, data: presentPlWebhook(record)})
}

function listWebhooks(ctx: PipelinerContext, req: ApiRequest): Reply {
  let first = DEFAULT_PAGE_SIZE
  const f = req.query.get('first')
  if (f !== null) {
    if (!/^\d+$/.test(f) || Number(f) < 1 || Number(f) > MAX_PAGE_SIZE) {
      return invalidParameter(`Parameter 'first' must be an integer from 1 to ${MAX_PAGE_SIZE}`)
    }

    first = Number(f)
  }

  let after = 0
  const a = req.query.get('after')
  if (a !== null && a !== '') {
    const seq = decodeCursor(a)
    if (seq === undefined) return invalidParameter("Parameter 'after' is not a valid cursor")
    after = seq
  }

  const all = [...ctx.state.pipeliner.webhooks].sort((x, y) => x.seq - y.seq)
  const rest = all.filter(w => w.seq > after)
  const page = rest.slice(0, first)
  return json(200, {
    success: true,
    data: page.map(w => presentPlWebhook(w)),
    page_info: {
      start_cursor: page.length > 0 ? encodeCursor(page[0].seq) : null,
      end_cursor: page.length > 0 ? encodeCursor(page.at(-1)!.seq) : null,
      has_next_page: rest.length > page.length,
      has_previous_page: all.some(w => w.seq <= after),
    },
  })
}

function batchDelete(ctx: PipelinerContext, req: ApiRequest): Reply {
  const b = body(req)
  if ('error' in b) return b.error
  const ids = Array.isArray(b.value) ? b.value : (isRecord(b.value) && Array.isArray(b.value.ids) ? b.value.ids : undefined)
  if (!ids || ids.some(x => typeof x !== 'string')) return invalidParameter('The body must be an array of webhook ids (or {"ids":[…]})')
  const wanted = new Set(ids as string[])
  const deleted = ctx.state.pipeliner.webhooks.filter(w => wanted.has(w.id)).map(w => w.id)
  ctx.state.pipeliner.webhooks = ctx.state.pipeliner.webhooks.filter(w => !wanted.has(w.id))
  ctx.persist()
  return json(200, {success: true, data: deleted})
}
