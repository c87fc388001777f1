import {randomBytes} from 'node:crypto'

import {createChecked} from '../core/checked-create.js'
import {ExitCode, PdhooksError} from '../core/errors.js'
import {mask} from '../core/mask.js'
import {sameUrl} from '../core/urls.js'
import {parseCallbackUrl} from '../elements/callback-url.js'
import {type NewWebhook, type PipedriveClient, type Webhook} from './client.js'
import {eventMatches, type ParsedEvent, splitEvent} from './events.js'

export const WEBHOOK_LIMIT = 40
const OWNED_PREFIX = 'pdhooks'
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

export interface WebhookIdentity {
  action: string
  object: string
  url: string
  version: string
}

/** Webhooks with the same identity: URL (any equivalent form), action, object and version. */
export function sameIdentity(hooks: Webhook[], want: WebhookIdentity): Webhook[] {
  return hooks.filter(w =>
    sameUrl(w.subscription_url, want.url)
    && w.event_action === want.action
    && w.event_object === want.object
    && (w.version ?? '1.0') === want.version)
}

export function findIdentical(hooks: Webhook[], want: WebhookIdentity): undefined | Webhook {
  return sameIdentity(hooks, want)[0]
}

export interface AddWebhookInput {
  allowDuplicate?: boolean
  event: ParsedEvent
  generateAuth?: boolean
  httpAuthPassword?: string
  httpAuthUser?: string
  name?: string
  /** Replace existing webhooks of the same identity whose settings differ (the new one first, then the old ones). */
  replace?: boolean
  url: string
  userId?: number
}

export interface AddWebhookResult {
  created: boolean
  /** Basic-auth credentials made by --generate-auth, shown once. */
  generatedAuth?: {password: string; user: string}
  /** True when the create call failed ambiguously and the webhook was found afterwards. */
  recovered?: boolean
  /** With `replace`: the old webhooks, deleted after the new one was created. */
  replaced?: DeleteResult[]
  /** What could not be compared (e.g. a password Pipedrive does not show). */
  warnings: string[]
  webhook: Webhook
}

export function generateAuth(): {password: string; user: string} {
  return {password: randomBytes(18).toString('base64url'), user: 'pdhooks'}
}

/** A password as Pipedrive may show it: absent, or masked. */
const unknownPassword = (p: null | string | undefined) => !p || /^\*+$/.test(p) || p.endsWith('…')

export interface WebhookComparison {
  /** How the existing webhook differs from what was asked (never a secret value). */
  differences: string[]
  /** What could not be compared. */
  unchecked: string[]
}

/**
 * How an existing webhook of the same identity differs from what `webhook add` was asked to create: its user id
 * (when one was asked), its basic-auth user, its basic-auth password (when Pipedrive shows it), and `--generate-auth`
 * (new credentials can only go to a new webhook). Secret values are never named.
 */
function compareWebhook(w: Webhook, input: Pick<AddWebhookInput, 'generateAuth' | 'httpAuthPassword' | 'httpAuthUser' | 'userId'>): WebhookComparison {
  const differences: string[] = []
  const unchecked: string[] = []
  if (input.userId !== undefined && w.user_id !== undefined && w.user_id !== null && Number(w.user_id) !== input.userId) {
    differences.push(`its user id is ${w.user_id}, not ${input.userId}`)
  }

  const haveUser = w.http_auth_user || undefined
  const havePassword = w.http_auth_password || undefined
  if (input.generateAuth) {
    differences.push(`--generate-auth makes new credentials, but it ${haveUser ? `sends basic auth as user "${haveUser}"` : 'sends no basic auth'}`)
    return {differences, unchecked}
  }

  const wantUser = input.httpAuthUser || undefined
  if (wantUser !== haveUser) {
    if (!wantUser) differences.push(`it sends basic auth as user "${haveUser}" (none was asked)`)
    else if (haveUser) differences.push(`its basic-auth user is "${haveUser}", not "${wantUser}"`)
    else differences.push(`it sends no basic auth (user "${wantUser}" was asked)`)
  } else if (wantUser && input.httpAuthPassword) {
    if (unknownPassword(havePassword)) unchecked.push(`Pipedrive does not show the basic-auth password of webhook ${w.id}: it was not compared.`)
    else if (havePassword !== input.httpAuthPassword) differences.push('its basic-auth password is another one')
  } else if (wantUser && !input.httpAuthPassword && havePassword) {
    differences.push('it sends a basic-auth password (none was asked)')
  }

  return {differences, unchecked}
}

const eventLabel = (w: Webhook) => `${w.event_action}.${w.event_object} (v${w.version ?? '1.0'}) → ${w.subscription_url}`

/**
 * Creates a Pipedrive webhook, idempotently: an identical one (URL, action, object, version and the same user id and
 * basic auth) is reported instead of duplicated; one with the same identity but other settings is a conflict (exit 5
 * naming the differences) unless `replace`, which creates the new webhook first and then deletes the old ones
 * (Pipedrive has no update call). The 40-per-user quota is checked first. The create is never resent blindly: after
 * a timeout or a 429/5xx answer the webhook is looked up first (createChecked).
 */
export async function addWebhook(client: PipedriveClient, input: AddWebhookInput, existing?: Webhook[]): Promise<AddWebhookResult> {
  const {action, object, version} = input.event
  const want = {
    action, object, url: input.url, version,
  }
  const hooks = existing ?? await client.listWebhooks()
  const warnings: string[] = []
  let replacing: Webhook[] = []
  if (!input.allowDuplicate) {
    const same = sameIdentity(hooks, want).map(w => ({...compareWebhook(w, input), w}))
    const match = same.find(c => c.differences.length === 0)
    if (match) return {created: false, warnings: match.unchecked, webhook: match.w}
    if (same.length > 0 && !input.replace) throw conflictError(same)
    replacing = same.map(c => c.w)
  }

  await checkQuota(client, hooks, input.userId, replacing.length)
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
  let made: {recovered: boolean; value: Webhook}
  try {
    made = await createChecked({
      check: 'pdhooks webhook list',
      create: () => client.createWebhook(body),
      find: async () => findCreatedWebhook(await client.listWebhooks(), hooks, want),
      what: 'webhook',
    })
  } catch (error) {
    if (error instanceof PdhooksError && error.status === 422) {
      throw new PdhooksError(`${error.message.replace(/\.$/, '')} (limit: ${WEBHOOK_LIMIT} webhooks per user).`, {
        code: 'quota', exit: ExitCode.conflict, hint: QUOTA_HINT, status: 422,
      })
    }

    throw error
  }

  const result: AddWebhookResult = {
    created: true, generatedAuth: auth, ...(made.recovered ? {recovered: true} : {}), warnings, webhook: made.value,
  }
  if (replacing.length > 0) {
    result.replaced = await deleteWebhooks(client, replacing.map(w => w.id), false)
    const failed = result.replaced.filter(r => r.status === 'failed')
    if (failed.length > 0) {
      throw new PdhooksError(`Created webhook ${made.value.id}, but the old webhook(s) ${failed.map(f => f.id).join(', ')} could not be deleted: ${failed.map(f => f.error).join('; ')}`, {
        code: 'partial_failure',
        details: {report: {created: made.value.id, notDeleted: failed.map(f => f.id)}},
        exit: Math.max(...failed.map(f => f.exit ?? ExitCode.unexpected)),
        hint: `Both now deliver: delete the old one with "pdhooks webhook delete ${failed.map(f => f.id).join(' ')}".`,
      })
    }
  }

  return result
}

/** The webhook an earlier create attempt made: same identity, and not among those listed before it. */
function findCreatedWebhook(after: Webhook[], before: Webhook[], want: WebhookIdentity): undefined | Webhook {
  const old = new Set(before.map(h => h.id))
  return findIdentical(after.filter(w => !old.has(w.id)), want)
}

function conflictError(same: Array<WebhookComparison & {w: Webhook}>): PdhooksError {
  const first = same[0].w
  const what = same.map(c => `webhook ${c.w.id}: ${c.differences.join('; ')}`).join(' / ')
  return new PdhooksError(`A webhook for ${eventLabel(first)} already exists with other settings (${what}).`, {
    code: 'conflict',
    details: {report: {conflicts: same.map(c => ({differences: c.differences, id: c.w.id}))}},
    exit: ExitCode.conflict,
    hint: `Pass --replace to replace ${same.length > 1 ? 'them' : 'it'} (the new webhook is created first, then the old one deleted).`,
  })
}

/** What the quota errors suggest: look first, then delete by id (a filter like --unhealthy would hit brand-new webhooks). */
export const QUOTA_HINT = 'See which ones you no longer need with "pdhooks webhook list", then delete them by id with "pdhooks webhook delete ID…".'

/**
 * How many of `hooks` count against the quota of `userId` (or of the token's user): all of them when the user cannot
 * be known. Asks for the current user only when the list could be full.
 */
export async function quotaUsage(client: PipedriveClient, hooks: Webhook[], userId?: number, needed = 1): Promise<{count: number; uid?: number}> {
  if (hooks.length + needed <= WEBHOOK_LIMIT) return {count: hooks.length, uid: userId}
  const uid = userId ?? (await client.currentUserId().catch(() => null) ?? undefined)
  const count = uid === undefined ? hooks.length : hooks.filter(w => w.user_id === uid || (w.user_id === undefined && w.owner_id === uid)).length
  return {count, uid}
}

async function checkQuota(client: PipedriveClient, hooks: Webhook[], userId?: number, replacing = 0): Promise<void> {
  if (hooks.length < WEBHOOK_LIMIT) return
  const {count, uid} = await quotaUsage(client, hooks, userId)
  if (count >= WEBHOOK_LIMIT) {
    throw new PdhooksError(`Webhook limit reached: user ${uid ?? '(current)'} already has ${count} webhooks (Pipedrive allows ${WEBHOOK_LIMIT} per user)${replacing > 0 ? '; --replace creates the new webhook before deleting the old one, so it needs one free place' : ''}.`, {
      code: 'quota',
      details: {count, limit: WEBHOOK_LIMIT},
      exit: ExitCode.conflict,
      hint: QUOTA_HINT,
    })
  }
}

export interface DeleteResult {
  error?: string
  exit?: number
  id: number | string
  status: 'deleted' | 'failed' | 'gone' | 'not-found'
}

/** What a bulk delete did (`webhook delete`, `pipeliner webhook delete`): how many are gone, and each result. */
export interface BulkDeleteResult {
  /** Deleted, or already gone. */
  deleted: number
  results: DeleteResult[]
}

/** A bulk delete's results summed up: the result, the failures, and the line that names them (`what`: "webhook(s)"). */
export function sumDeletes(results: DeleteResult[], what: string): {failures: DeleteResult[]; message: string; result: BulkDeleteResult} {
  const failures = results.filter(r => r.exit)
  return {
    failures,
    message: `${failures.length} of ${results.length} ${what} not deleted: ${failures.map(f => `${f.id} (${f.status === 'not-found' ? 'not found' : f.error})`).join(', ')}.`,
    result: {deleted: results.filter(r => r.status === 'deleted' || r.status === 'gone').length, results},
  }
}

export interface PoolHooks<T> {
  /** Before an item starts. */
  onStart?: (item: T) => void
  /** Aborted: no new item is started (those in flight finish). */
  signal?: AbortSignal
}

/**
 * Runs `fn` over `items` with at most `limit` in flight. When `signal` is aborted no new item starts; the result then
 * has holes (undefined) for the items never started.
 */
export async function pool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>, hooks: PoolHooks<T> = {}): Promise<R[]> {
  const out: R[] = Array.from({length: items.length})
  let next = 0
  const worker = async () => {
    while (next < items.length && !hooks.signal?.aborted) {
      const i = next++
      hooks.onStart?.(items[i])
      out[i] = await fn(items[i])
    }
  }

  await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker))
  return out
}

export interface DeleteHooks {
  /** As each deletion completes (print it at once). */
  onResult?: (result: DeleteResult) => void
  /** As each deletion starts. */
  onStart?: (id: number | string) => void
  /** An id reported started that will not be sent after all (stopped before its turn). */
  onUnstarted?: (id: number | string) => void
  /** Aborted: no new deletion starts; those in flight finish. */
  signal?: AbortSignal
}

/**
 * Deletes webhooks with bounded concurrency (the client's rate gate paces them from the rate-limit headers).
 * `explicit`: ids the user named, where a 404 is "not-found" (exit 4); otherwise a 404 means deleted meanwhile ("gone").
 * Returns the results of the deletions that ran (all of them unless `hooks.signal` was aborted), in the order of `ids`.
 */
export async function deleteWebhooks(client: PipedriveClient, ids: Array<number | string>, explicit: boolean, concurrency = 4, hooks: DeleteHooks = {}): Promise<DeleteResult[]> {
  // ids are numbers in every output, like in `webhook list`
  const numeric = ids.map(id => (typeof id === 'string' && /^\d+$/.test(id) ? Number(id) : id))
  const results = await pool(numeric, concurrency, async (id): Promise<DeleteResult> => {
    const r = await deleteOne(client, id, explicit)
    hooks.onResult?.(r)
    return r
  }, {onStart: hooks.onStart, signal: hooks.signal})
  return results.filter(Boolean)
}

async function deleteOne(client: PipedriveClient, id: number | string, explicit: boolean): Promise<DeleteResult> {
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

    const e = PdhooksError.from(error)
    return {
      error: e.line, exit: e.exit, id, status: 'failed',
    }
  }
}

/**
 * Progress of a bulk deletion, for the interruption report: done (with their results), in flight (may or may not be
 * deleted when the process is stopped), and not started.
 */
export class BulkProgress<I extends number | string> {
  readonly done: DeleteResult[] = []
  readonly inFlight = new Set<I>()

  constructor(readonly ids: I[]) {}

  finished(r: DeleteResult): void {
    this.inFlight.delete(r.id as I)
    this.done.push(r)
  }

  /** Ids not started yet. */
  notStarted(): I[] {
    const seen = new Set<number | string>([...this.done.map(r => r.id), ...this.inFlight])
    return this.ids.filter(id => !seen.has(id))
  }

  started(id: I): void {
    this.inFlight.add(id)
  }

  unstarted(id: I): void {
    this.inFlight.delete(id)
  }

  /** The interruption report: what was deleted, what may have been, what was not, and the command to finish. */
  summary(what: string, resume: (ids: I[]) => string): {details: Record<string, unknown>; lines: string[]; message: string} {
    const deleted = this.done.filter(r => r.status === 'deleted' || r.status === 'gone')
    const failed = this.done.filter(r => r.status === 'failed' || r.status === 'not-found')
    const inFlight = [...this.inFlight]
    const left = this.notStarted()
    const lines: string[] = []
    if (inFlight.length > 0) lines.push(`In flight when stopped (may or may not be deleted): ${inFlight.join(', ')}.`)
    if (failed.length > 0) lines.push(`Failed: ${failed.map(f => f.id).join(', ')}.`)
    if (left.length > 0) lines.push(`Not deleted: ${left.join(', ')}.`)
    const rest = [...inFlight, ...failed.map(f => f.id as I), ...left]
    if (rest.length > 0) lines.push(`To finish: ${resume(rest)}`)
    return {
      details: {
        deleted: deleted.length, inFlight, notStarted: left, results: this.done,
      },
      lines,
      message: `deleted ${deleted.length} of ${this.ids.length} ${what}`,
    }
  }
}
