import {randomBytes} from 'node:crypto'

import {parseCallbackUrl} from './callback-url.js'
import {ExitCode, PdhooksError} from './errors.js'
import {eventMatches, type ParsedEvent, splitEvent} from './events.js'
import {mask} from './mask.js'
import {type NewWebhook, type PipedriveClient, type Webhook} from './pipedrive.js'
import {sameUrl} from './urls.js'

export const WEBHOOK_LIMIT = 40
export const OWNED_PREFIX = 'pdhooks'
const AT_RISK_MS = 48 * 3600 * 1000

export type Health = 'at-risk' | 'failing' | 'inactive' | 'never-delivered' | 'ok'

/** Parses Pipedrive dates: ISO, or the older `2024-09-27 14:30:00` (UTC). */
export function parseDate(value: null | string | undefined): Date | undefined {
  if (!value) return undefined
  const s = /^\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)?$/.test(value) ? value.replace(' ', 'T') + 'Z' : value
  const d = new Date(s)
  return Number.isNaN(d.getTime()) ? undefined : d
}

export const isActive = (w: Webhook): boolean => w.is_active === true || w.is_active === 1 || w.is_active === undefined

/**
 * ok; failing (last status not 2xx); inactive; never-delivered; at-risk (failing and older than 48 h: Pipedrive deletes
 * a webhook after 3 days without a successful delivery).
 */
export function health(w: Webhook, now = Date.now()): Health {
  if (!isActive(w)) return 'inactive'
  const last = parseDate(w.last_delivery_time)
  if (!last && (w.last_http_status === null || w.last_http_status === undefined)) return 'never-delivered'
  const status = Number(w.last_http_status)
  if (status >= 200 && status < 300) return 'ok'
  const added = parseDate(w.add_time)
  if (added && now - added.getTime() > AT_RISK_MS) return 'at-risk'
  return 'failing'
}

export interface WebhookView {
  active: boolean
  addTime: null | string
  event: string
  health: Health
  httpAuthPassword: null | string
  httpAuthUser: null | string
  id: number
  instanceId: null | string
  lastDelivery: null | string
  lastStatus: null | number
  name: null | string
  target: string
  url: string
  userId: null | number
  version: string
}

/** The masked, flattened view of a webhook used by every output path. */
export function viewWebhook(w: Webhook, now = Date.now()): WebhookView {
  const cb = parseCallbackUrl(w.subscription_url)
  return {
    active: isActive(w),
    addTime: w.add_time ?? null,
    event: `${w.event_action}.${w.event_object}`,
    health: health(w, now),
    httpAuthPassword: w.http_auth_password ? mask(w.http_auth_password) : null,
    httpAuthUser: w.http_auth_user ?? null,
    id: w.id,
    instanceId: cb?.instanceId ?? null,
    lastDelivery: w.last_delivery_time ?? null,
    lastStatus: w.last_http_status ?? null,
    name: w.name ?? null,
    target: cb ? `instance ${cb.instanceId} (${cb.host})` : w.subscription_url,
    url: w.subscription_url,
    userId: w.user_id ?? null,
    version: w.version ?? '1.0',
  }
}

export interface WebhookFilter {
  event?: string
  instance?: string
  mine?: boolean
  unhealthy?: boolean
  url?: string
}

export function filterWebhooks(hooks: Webhook[], f: WebhookFilter, now = Date.now()): Webhook[] {
  const ev = f.event ? splitEvent(f.event) : undefined
  return hooks.filter(w => {
    if (f.url && !w.subscription_url.includes(f.url)) return false
    if (ev && !eventMatches(ev, {action: w.event_action, object: w.event_object})) return false
    if (f.instance && parseCallbackUrl(w.subscription_url)?.instanceId !== String(f.instance)) return false
    if (f.mine && !(w.name ?? '').startsWith(OWNED_PREFIX)) return false
    if (f.unhealthy && health(w, now) === 'ok') return false
    return true
  })
}

export function findIdentical(hooks: Webhook[], want: {action: string; object: string; url: string; version: string}) {
  return hooks.find(w =>
    sameUrl(w.subscription_url, want.url)
    && w.event_action === want.action
    && w.event_object === want.object
    && (w.version ?? '1.0') === want.version)
}

export interface AddWebhookInput {
  allowDuplicate?: boolean
  event: ParsedEvent
  generateAuth?: boolean
  httpAuthPassword?: string
  httpAuthUser?: string
  name?: string
  url: string
  userId?: number
}

export interface AddWebhookResult {
  created: boolean
  /** Basic-auth credentials made by --generate-auth, shown once. */
  generatedAuth?: {password: string; user: string}
  /** True when the create call failed ambiguously and the webhook was found afterwards. */
  recovered?: boolean
  webhook: Webhook
}

export function generateAuth(): {password: string; user: string} {
  return {password: randomBytes(18).toString('base64url'), user: 'pdhooks'}
}

/**
 * Creates a Pipedrive webhook, idempotently: an identical one (URL, action, object, version) is reported instead of
 * duplicated; the 40-per-user quota is checked first; after an ambiguous failure (timeout, reset, 502/504) the list is
 * read again to see whether the webhook exists before anything is reported.
 */
export async function addWebhook(client: PipedriveClient, input: AddWebhookInput, existing?: Webhook[]): Promise<AddWebhookResult> {
  const {action, object, version} = input.event
  const want = {
    action, object, url: input.url, version,
  }
  const hooks = existing ?? await client.listWebhooks()
  if (!input.allowDuplicate) {
    const found = findIdentical(hooks, want)
    if (found) return {created: false, webhook: found}
  }

  await checkQuota(client, hooks, input.userId)
  const auth = input.generateAuth ? generateAuth() : undefined
  const body: NewWebhook = {
    event_action: action,
    event_object: object,
    name: (input.name ?? `${OWNED_PREFIX} ${action}.${object}`).slice(0, 255),
    subscription_url: input.url,
    version,
  }
  if (input.userId !== undefined) body.user_id = input.userId
  const user = auth?.user ?? input.httpAuthUser
  const password = auth?.password ?? input.httpAuthPassword
  if (user) body.http_auth_user = user
  if (password) body.http_auth_password = password
  try {
    const webhook = await client.createWebhook(body)
    return {created: true, generatedAuth: auth, webhook}
  } catch (error) {
    if (error instanceof PdhooksError && error.details?.ambiguous) {
      const after = await client.listWebhooks().catch(() => {})
      const found = after && findIdentical(after.filter(w => !hooks.some(h => h.id === w.id)), want)
      if (found) return {
        created: true, generatedAuth: auth, recovered: true, webhook: found,
      }
      if (after) {
        throw new PdhooksError(`${error.message.replace(/\.$/, '')}; the webhook was not created.`, {
          code: error.code, exit: error.exit, hint: 'Run the same command again.', status: error.status,
        })
      }

      throw new PdhooksError(`${error.message.replace(/\.$/, '')}; it is unknown whether the webhook was created.`, {
        code: error.code, exit: error.exit, hint: 'Run "pdhooks webhook list" to check, then run the same command again (it will not duplicate).', status: error.status,
      })
    }

    if (error instanceof PdhooksError && error.status === 422) {
      throw new PdhooksError(`${error.message.replace(/\.$/, '')} (limit: ${WEBHOOK_LIMIT} webhooks per user).`, {
        code: 'quota', exit: ExitCode.conflict, hint: 'Delete unused webhooks with "pdhooks webhook delete".', status: 422,
      })
    }

    throw error
  }
}

async function checkQuota(client: PipedriveClient, hooks: Webhook[], userId?: number): Promise<void> {
  if (hooks.length < WEBHOOK_LIMIT) return
  const uid = userId ?? await client.currentUserId().catch(() => {})
  const count = uid === undefined ? hooks.length : hooks.filter(w => w.user_id === uid || (w.user_id === undefined && w.owner_id === uid)).length
  if (count >= WEBHOOK_LIMIT) {
    throw new PdhooksError(`Webhook limit reached: user ${uid ?? '(current)'} already has ${count} webhooks (Pipedrive allows ${WEBHOOK_LIMIT} per user).`, {
      code: 'quota',
      details: {count, limit: WEBHOOK_LIMIT},
      exit: ExitCode.conflict,
      hint: 'Delete unused ones with "pdhooks webhook delete ID" or "pdhooks webhook delete --all --unhealthy".',
    })
  }
}

export interface DeleteResult {
  error?: string
  exit?: number
  id: number | string
  status: 'deleted' | 'failed' | 'gone' | 'not-found'
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = Array.from({length: items.length})
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i])
    }
  }

  await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker))
  return out
}

/**
 * Deletes webhooks with bounded concurrency (the client's rate gate paces them from the rate-limit headers).
 * `explicit`: ids the user named, where a 404 is "not-found" (exit 4); otherwise a 404 means deleted meanwhile ("gone").
 */
export async function deleteWebhooks(client: PipedriveClient, ids: Array<number | string>, explicit: boolean, concurrency = 4): Promise<DeleteResult[]> {
  // ids are numbers in every output, like in `webhook list`
  const numeric = ids.map(id => (typeof id === 'string' && /^\d+$/.test(id) ? Number(id) : id))
  return pool(numeric, concurrency, async (id): Promise<DeleteResult> => {
    try {
      await client.deleteWebhook(id)
      return {id, status: 'deleted'}
    } catch (error) {
      if (error instanceof PdhooksError && error.status === 404) {
        return explicit
          ? {
            error: `No webhook ${id}.`, exit: ExitCode.notFound, id, status: 'not-found',
          }
          : {id, status: 'gone'}
      }

      const e = error instanceof PdhooksError ? error : new PdhooksError(String((error as Error)?.message ?? error))
      return {
        error: e.line, exit: e.exit, id, status: 'failed',
      }
    }
  })
}
