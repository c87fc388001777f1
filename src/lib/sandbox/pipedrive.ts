/**
 * Sandbox emulation of the Pipedrive webhooks API (v1 endpoints, served under `/v1` and `/api/v1`):
 * validation tables, webhook matching, the burst rate limiter and the request handler.
 */
import type {IncomingHttpHeaders} from 'node:http'

import {createHash} from 'node:crypto'

import type {Clock} from './clock.js'
import type {PdWebhook, SandboxState} from './state.js'

import {
  isPipedriveAction, toV1Action, toV2Action, V1_ACTIONS, V1_OBJECTS, V2_ACTIONS, V2_OBJECTS,
} from '../pipedrive/events.js'
import {
  type ApiRequest, header, isHttpUrl, isJsonContentType, isRecord, json, parseJson, type Reply,
} from './http.js'

const PD_VERSIONS = ['1.0', '2.0'] as const
/** Webhooks per user. */
const WEBHOOK_LIMIT = 40
/** Company of every sandbox user. */
const SANDBOX_COMPANY_ID = 1
/** Rolling window of the burst limit. */
const BURST_WINDOW_MS = 2000
/** Daily request budget reported in `x-daily-requests-left`. */
const DAILY_REQUESTS = 10_000

export type PdVersion = (typeof PD_VERSIONS)[number]

const errs = (field: string, message: string): Record<string, string[]> => ({[field]: [message]})

/** 400 body: `{"success":false,"status":"error","errors":{field:[msg]}}`. */
function validationError(errors: Record<string, string[]>): Reply {
  return json(400, {success: false, status: 'error', errors})
}

export const UNAUTHORIZED_BODY = {success: false, error: 'unauthorized access', errorCode: 401}

/** Validated POST /webhooks input. */
export interface WebhookInput {
  subscription_url: string
  event_action: string
  event_object: string
  name: string
  version: PdVersion
  user_id: null | number
  http_auth_user: null | string
  http_auth_password: null | string
}

/** Is `url` a Pipedrive API URL (pipedrive.com, or this sandbox's own `/v1` and `/api/v1`)? */
function isPipedriveApiUrl(url: string, sandboxBase?: string): boolean {
  const u = new URL(url)
  const host = u.hostname.toLowerCase()
  if (host === 'pipedrive.com' || host.endsWith('.pipedrive.com')) return true
  if (sandboxBase) {
    const s = new URL(sandboxBase)
    if (s.host === u.host && /^\/(api\/)?v1(\/|$)/.test(u.pathname)) return true
  }

  return false
}

function vocabularyMessage(kind: 'action' | 'object', value: string, version: PdVersion): string {
  const list = (kind === 'action' ? (version === '2.0' ? V2_ACTIONS : V1_ACTIONS) : (version === '2.0' ? V2_OBJECTS : V1_OBJECTS)) as readonly string[]
  if (kind === 'action' && version === '2.0' && (V1_ACTIONS as readonly string[]).includes(value)) {
    return `"${value}" is a webhooks v1 action: use "${toV2Action(value)}" with version 2.0, or set version 1.0`
  }

  if (kind === 'action' && version === '1.0' && (V2_ACTIONS as readonly string[]).includes(value)) {
    return `"${value}" is a webhooks v2 action: use "${toV1Action(value)}" with version 1.0, or set version 2.0`
  }

  if (kind === 'object' && version === '2.0' && value === 'activityType') {
    return '"activityType" has no webhooks v2 object: use version 1.0'
  }

  if (kind === 'object' && version === '1.0' && (V2_OBJECTS as readonly string[]).includes(value)) {
    return `"${value}" is only available with webhooks version 2.0`
  }

  return `must be one of: ${list.join(', ')}`
}

/** Validates a POST /webhooks body as Pipedrive does. Errors are keyed by field, like the real API. */
export function validateWebhookInput(
  body: Record<string, unknown>,
  sandboxBase?: string,
): {errors: Record<string, string[]>; ok: false} | {ok: true; value: WebhookInput} {
  const errors: Record<string, string[]> = {}
  const add = (field: string, message: string): void => {
    errors[field] = [...(errors[field] ?? []), message]
  }

  let version: PdVersion = '2.0'
  if (body.version !== undefined && body.version !== null) {
    if (typeof body.version === 'string' && (PD_VERSIONS as readonly string[]).includes(body.version)) version = body.version as PdVersion
    else add('version', `must be one of: ${PD_VERSIONS.join(', ')}`)
  }

  const str = (field: string): string | undefined => {
    const v = body[field]
    if (v === undefined || v === null || v === '') {
      add(field, 'is required')
      return undefined
    }

    if (typeof v !== 'string') {
      add(field, 'must be a string')
      return undefined
    }

    return v
  }

  const action = str('event_action')
  if (action !== undefined && !((version === '2.0' ? V2_ACTIONS : V1_ACTIONS) as readonly string[]).includes(action)) {
    add('event_action', vocabularyMessage('action', action, version))
  }

  const object = str('event_object')
  if (object !== undefined && !((version === '2.0' ? V2_OBJECTS : V1_OBJECTS) as readonly string[]).includes(object)) {
    add('event_object', vocabularyMessage('object', object, version))
  }

  const url = str('subscription_url')
  if (url !== undefined) {
    if (!isHttpUrl(url)) add('subscription_url', 'invalid or non-reachable URL')
    else if (isPipedriveApiUrl(url, sandboxBase)) add('subscription_url', 'cannot be a Pipedrive API URL')
  }

  const name = str('name')
  if (name !== undefined && name.length > 255) add('name', 'must be at most 255 characters')

  let userId: null | number = null
  if (body.user_id !== undefined && body.user_id !== null && body.user_id !== '') {
    const n = typeof body.user_id === 'string' && /^\d+$/.test(body.user_id) ? Number(body.user_id) : body.user_id
    if (typeof n === 'number' && Number.isInteger(n) && n > 0) userId = n
    else add('user_id', 'must be a positive integer')
  }

  const optional = (field: string): null | string => {
    const v = body[field]
    if (v === undefined || v === null || v === '') return null
    if (typeof v !== 'string') {
      add(field, 'must be a string')
      return null
    }

    return v
  }

  const authUser = optional('http_auth_user')
  const authPassword = optional('http_auth_password')
  if (Object.keys(errors).length > 0 || action === undefined || object === undefined || url === undefined || name === undefined) {
    return {ok: false, errors}
  }

  return {
    ok: true,
    value: {
      subscription_url: url,
      event_action: action,
      event_object: object,
      name,
      version,
      user_id: userId,
      http_auth_user: authUser,
      http_auth_password: authPassword,
    },
  }
}

/**
 * Does `webhook` receive a change of `object` with `action` (either vocabulary)? The action is compared in the
 * webhook's own vocabulary (`change`≈`updated`, `create`≈`added`, `delete`≈`deleted`, `merged`→`change` for v2);
 * `*` matches anything the webhook's version knows (a v1 webhook never receives `lead`, a v2 one never `activityType`).
 */
export function webhookMatches(webhook: Pick<PdWebhook, 'event_action' | 'event_object' | 'version'>, object: string, action: string): boolean {
  if (!isPipedriveAction(action)) return false
  const objects = (webhook.version === '1.0' ? V1_OBJECTS : V2_OBJECTS) as readonly string[]
  if (!objects.includes(object)) return false
  if (webhook.event_object !== '*' && webhook.event_object !== object) return false
  const a = webhook.version === '1.0' ? toV1Action(action) : toV2Action(action)
  return webhook.event_action === '*' || webhook.event_action === a
}

/** The API token of a request: `x-api-token`, `Authorization: Bearer …` or `?api_token=`. Empty string when none. */
export function extractToken(headers: IncomingHttpHeaders, query: URLSearchParams): string {
  const x = header(headers, 'x-api-token').trim()
  if (x) return x
  const auth = header(headers, 'authorization').trim()
  const m = /^bearer\s+(\S.*)$/i.exec(auth)
  if (m) return m[1].trim()
  return (query.get('api_token') ?? '').trim()
}

/** What the rate limiter says about one request. */
export interface RateInfo {
  allowed: boolean
  limit: number
  remaining: number
  /** Seconds until the window frees a slot. */
  reset: number
  dailyLeft: number
}

/**
 * Pipedrive burst limit: at most `limit` requests per token per rolling window (2 s); `limit` 0 = unlimited
 * (headers then report 10000). Also counts the daily requests left (never enforced).
 */
export class BurstLimiter {
  private day = ''
  private dailyUsed = 0
  private readonly hits = new Map<string, number[]>()

  constructor(
    readonly limit: number,
    readonly windowMs = BURST_WINDOW_MS,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Headers for a request that has no token (401): nothing consumed. */
  peek(now = this.clock()): RateInfo {
    this.rollDay(now)
    const limit = this.limit > 0 ? this.limit : 10_000
    return {
      allowed: true, limit, remaining: limit, reset: 0, dailyLeft: Math.max(0, DAILY_REQUESTS - this.dailyUsed),
    }
  }

  reset(): void {
    this.hits.clear()
    this.dailyUsed = 0
  }

  /** Counts a request of `key` (the token) unless it is over the limit. */
  take(key: string, now = this.clock()): RateInfo {
    this.rollDay(now)
    if (this.limit <= 0) {
      this.dailyUsed++
      return {
        allowed: true, limit: 10_000, remaining: 10_000, reset: 0, dailyLeft: Math.max(0, DAILY_REQUESTS - this.dailyUsed),
      }
    }

    const list = (this.hits.get(key) ?? []).filter(t => t > now - this.windowMs)
    this.hits.set(key, list)
    const resetOf = (): number => (list.length === 0 ? 0 : Math.max(1, Math.ceil((list[0] + this.windowMs - now) / 1000)))
    if (list.length >= this.limit) {
      return {
        allowed: false, limit: this.limit, remaining: 0, reset: resetOf(), dailyLeft: Math.max(0, DAILY_REQUESTS - this.dailyUsed),
      }
    }

    list.push(now)
    this.dailyUsed++
    return {
      allowed: true,
      limit: this.limit,
      remaining: this.limit - list.length,
      reset: resetOf(),
      dailyLeft: Math.max(0, DAILY_REQUESTS - this.dailyUsed),
    }
  }

  private rollDay(now: number): void {
    const day = new Date(now).toISOString().slice(0, 10)
    if (day !== this.day) {
      this.day = day
      this.dailyUsed = 0
    }
  }
}

export function rateHeaders(info: RateInfo): Record<string, string> {
  return {
    'x-ratelimit-limit': String(info.limit),
    'x-ratelimit-remaining': String(info.remaining),
    'x-ratelimit-reset': String(info.reset),
    'x-daily-requests-left': String(info.dailyLeft),
  }
}

/** What the Pipedrive handler needs from the sandbox. */
export interface PipedriveContext {
  readonly clock: Clock
  state: SandboxState
  limiter: BurstLimiter
  persist(): void
  /** Called after a webhook was deleted through the API (stop its retries and timers). */
  webhookRemoved(id: number): void
}

/** Strips `/v1` or `/api/v1`; undefined when the path is not a Pipedrive API path. */
export function pipedriveSubpath(path: string): string | undefined {
  const m = /^\/(?:api\/)?v1(\/.*)?$/.exec(path)
  if (!m) return undefined
  return m[1] ?? '/'
}

function userIdFor(ctx: PipedriveContext, token: string): number {
  const key = createHash('sha256').update(token).digest('hex').slice(0, 32)
  let id = ctx.state.pipedrive.users[key]
  if (id === undefined) {
    id = ctx.state.pipedrive.nextUserId++
    ctx.state.pipedrive.users[key] = id
    ctx.persist()
  }

  return id
}

/** The user object of GET /users/me. */
function sandboxUser(id: number, now = Date.now()): Record<string, unknown> {
  return {
    id,
    name: `Sandbox User ${id}`,
    default_currency: 'USD',
    locale: 'en_US',
    lang: 1,
    email: `user${id}@sandbox.example`,
    phone: null,
    activated: true,
    last_login: new Date(now).toISOString().replace('T', ' ').slice(0, 19),
    created: '2024-01-01 00:00:00',
    modified: '2024-01-01 00:00:00',
    has_created_company: id === 1,
    access: [{app: 'sales', admin: true, permission_set_id: 'sandbox-admin'}],
    active_flag: true,
    timezone_name: 'UTC',
    timezone_offset: '+00:00',
    role_id: 1,
    icon_url: null,
    is_you: true,
    is_deleted: false,
    company_id: SANDBOX_COMPANY_ID,
    company_name: 'Sandbox',
    company_domain: 'sandbox',
    company_country: 'US',
    company_industry: null,
    language: {language_code: 'en', country_code: 'US'},
    is_admin: true,
  }
}

/** Builds a webhook object from validated input. */
function newWebhook(id: number, input: WebhookInput, callerId: number, now = new Date()): PdWebhook {
  return {
    id,
    company_id: SANDBOX_COMPANY_ID,
    owner_id: callerId,
    user_id: input.user_id ?? callerId,
    event_action: input.event_action,
    event_object: input.event_object,
    subscription_url: input.subscription_url,
    version: input.version,
    is_active: 1,
    add_time: now.toISOString(),
    remove_time: null,
    type: 'general',
    http_auth_user: input.http_auth_user,
    http_auth_password: input.http_auth_password,
    remove_reason: null,
    last_delivery_time: null,
    last_http_status: null,
    admin_id: callerId,
    name: input.name,
  }
}

const notFoundId = (): Reply => json(404, {success: false, status: 'error', errors: {id: ['not found']}})

/** Handles a request whose path is under `/v1` or `/api/v1`. */
export function handlePipedrive(ctx: PipedriveContext, req: ApiRequest): Reply {
  const sub = pipedriveSubpath(req.path) ?? '/'
  const token = extractToken(req.headers, req.query)
  if (!token) {
    return json(401, UNAUTHORIZED_BODY, rateHeaders(ctx.limiter.peek()))
  }

  const rate = ctx.limiter.take(token)
  const headers = rateHeaders(rate)
  if (!rate.allowed) {
    return json(429, {success: false, error: 'Request over limit', errorCode: 429}, {...headers, 'retry-after': String(Math.max(1, rate.reset))})
  }

  const reply = route(ctx, req, sub, userIdFor(ctx, token))
  reply.headers = {...headers, ...reply.headers}
  return reply
}

function route(ctx: PipedriveContext, req: ApiRequest, sub: string, caller: number): Reply {
  const {method} = req
  if (sub === '/users/me' && method === 'GET') return json(200, {success: true, data: sandboxUser(caller, ctx.clock.now())})
  if (sub === '/webhooks' || sub === '/webhooks/') {
    if (method === 'GET') return json(200, {success: true, status: 'ok', data: ctx.state.pipedrive.webhooks})
    if (method === 'POST') return createWebhook(ctx, req, caller)
  }

  const m = /^\/webhooks\/([^/]+)\/?$/.exec(sub)
  if (m && method === 'DELETE') {
    const id = /^\d+$/.test(m[1]) ? Number(m[1]) : Number.NaN
    const list = ctx.state.pipedrive.webhooks
    const index = list.findIndex(w => w.id === id)
    if (index === -1) return notFoundId()
    list.splice(index, 1)
    delete ctx.state.pipedrive.health[String(id)]
    ctx.webhookRemoved(id)
    ctx.persist()
    return json(200, {success: true, status: 'ok'})
  }

  return json(404, {
    success: false, error: `Unknown method ${method} ${sub}`, errorCode: 404, error_info: 'Please check developers.pipedrive.com',
  })
}

function createWebhook(ctx: PipedriveContext, req: ApiRequest, caller: number): Reply {
  if (!isJsonContentType(req.headers)) {
    return json(415, {success: false, error: 'Unsupported Media Type: send a JSON body (Content-Type: application/json)', errorCode: 415})
  }

  const parsed = parseJson(req.rawBody)
  if (!parsed.ok) return validationError(errs('body', parsed.reason === 'empty' ? 'is required' : 'invalid JSON'))
  if (!isRecord(parsed.value)) return validationError(errs('body', 'must be a JSON object'))
  const v = validateWebhookInput(parsed.value, req.baseUrl)
  if (!v.ok) return validationError(v.errors)
  const owned = ctx.state.pipedrive.webhooks.filter(w => w.owner_id === caller).length
  if (owned >= WEBHOOK_LIMIT) {
    return json(422, {
      success: false,
      error: 'Webhooks limit reached',
      errorCode: 422,
      error_info: `A user can have at most ${WEBHOOK_LIMIT} webhooks; this user has ${owned}.`,
    })
  }

  const webhook = newWebhook(ctx.state.pipedrive.nextId++, v.value, caller, new Date(ctx.clock.now()))
  ctx.state.pipedrive.webhooks.push(webhook)
  ctx.state.pipedrive.health[String(webhook.id)] = {
    banCounter: 0, bannedUntil: null, lastSuccess: null, failingSince: null,
  }
  ctx.persist()
  return json(201, {success: true, status: 'ok', data: webhook})
}
