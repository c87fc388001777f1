import {ExitCode, PdhooksError} from '../core/errors.js'
import {isElementsEventsUrl, parseCallbackUrl} from '../elements/callback-url.js'
import {type PipedriveClient, type Webhook} from '../pipedrive/client.js'
import {isPipedriveAction, toV2Action, V2_OBJECTS} from '../pipedrive/events.js'
import {
  addWebhook, deleteWebhooks, QUOTA_HINT, WEBHOOK_LIMIT,
} from '../pipedrive/webhooks.js'
/**
 * `pdhooks webhook migrate`: Pipedrive webhooks v1 → v2. Pipedrive has no update call, so each webhook is replaced:
 * the v2 webhook first (same URL, user and basic auth; the action mapped added → create, updated and merged → change,
 * deleted → delete), then the old one deleted, one webhook at a time, so that one free quota place is enough and no
 * event is lost (for a moment both deliver). A create answered ambiguously (timeout, 429/5xx after applying it) is
 * looked up before anything else (addWebhook → createChecked): never a duplicate.
 */
import {webhookStack} from './apply/stack.js'
import {safeUrl} from './doctor.js'

/** What the receiver must change for v2 deliveries (Pipedrive's v2 migration guide, briefly). */
export const RECEIVER_CHANGES = [
  'The body is {"meta", "data", "previous"}: "current" is now "data", and "previous" holds only the fields that changed.',
  'meta.action is create / change / delete (was added / updated / merged / deleted); meta.object is now meta.entity, the object id is meta.entity_id, meta.v is meta.version ("2.0").',
  'Ids in meta are strings (permitted_user_ids too); custom fields are under data.custom_fields; retry is now meta.attempt.',
  'A merge arrives as a delete (meta.merged_to_id) and a change (meta.merged_from_id); one edit gives one change delivery (no deduplication needed).',
  'Try the receiver with a v2 sample first: pdhooks trigger change.deal --to URL --version 2.0',
]

export type MigrateStatus = 'both-active' | 'failed' | 'merged' | 'migrated' | 'planned' | 'skipped'

export interface MigrateItem {
  /** Basic-auth password to send when Pipedrive does not show the old one. */
  password?: string
  to: {action: string; object: string; version: '2.0'}
  webhook: Webhook
}

export interface MigrateResult {
  error?: string
  exit?: number
  from: string
  id: number
  /** The v2 webhook (created, or an identical one that already existed). */
  newId?: number
  /** Why it was skipped. */
  reason?: string
  status: MigrateStatus
  to: string
  url: string
}

export interface Selection {
  items: MigrateItem[]
  /** Not migrated, with why (already v2, Cloud Elements callback without --force, no v2 object, password unknown). */
  skipped: Array<{id: number; reason: string; webhook: Webhook}>
}

const unknownPassword = (p: null | string | undefined) => !p || /^\*+$/.test(p) || p.endsWith('…')
const label = (w: Webhook) => `${w.event_action}.${w.event_object} (v${w.version ?? '1.0'})`

/** Why a webhook cannot move to v2 as it is; undefined when it can. */
function whyNot(w: Webhook, o: {force?: boolean; password?: string}): {hard: boolean; reason: string} | undefined {
  if ((w.version ?? '1.0') !== '1.0') return {hard: false, reason: 'already v2'}
  if (w.event_action !== '*' && !isPipedriveAction(w.event_action)) return {hard: true, reason: `unknown action "${w.event_action}"`}
  if (w.event_object !== '*' && !(V2_OBJECTS as readonly string[]).includes(w.event_object)) return {hard: true, reason: `"${w.event_object}" has no webhooks v2 object`}
  if (!o.force && (parseCallbackUrl(w.subscription_url) || isElementsEventsUrl(w.subscription_url))) {
    return {hard: true, reason: 'aimed at a Cloud Elements / Open Connectors callback URL: the connector expects v1 deliveries (--force to migrate anyway)'}
  }

  const stack = webhookStack(w)
  if (stack && !o.force) {
    return {hard: true, reason: `owned by apply stack "${stack}": declare it with a v2 event in that stack's file and run pdhooks apply (a migration would fight the next apply; --force to migrate anyway)`}
  }

  if (w.http_auth_user && unknownPassword(w.http_auth_password) && !o.password) {
    return {hard: true, reason: `Pipedrive does not show its basic-auth password (user "${w.http_auth_user}"): give it with --http-auth-password or PDHOOKS_HTTP_AUTH_PASSWORD`}
  }

  return undefined
}

/**
 * The webhooks to migrate. Named ids: each must exist (exit 4 before anything) and be migratable (exit 2 naming the
 * reasons; one already v2 is only skipped). `all`: every v1 webhook, those that cannot move being skipped with why.
 */
export function selectMigrations(hooks: Webhook[], o: {all?: boolean; force?: boolean; ids?: string[]; password?: string}): Selection {
  const out: Selection = {items: [], skipped: []}
  let chosen: Webhook[]
  if (o.all) {
    chosen = hooks.filter(w => (w.version ?? '1.0') === '1.0')
  } else {
    const byId = new Map(hooks.map(w => [String(w.id), w]))
    const unknown = (o.ids ?? []).filter(id => !byId.has(id))
    if (unknown.length > 0) {
      throw new PdhooksError(`No webhook ${unknown.join(', ')}: nothing was migrated.`, {
        code: 'not_found', exit: ExitCode.notFound, hint: 'See the ids with "pdhooks webhook list".', status: 404,
      })
    }

    chosen = (o.ids ?? []).map(id => byId.get(id)!)
  }

  const refused: string[] = []
  for (const w of chosen) {
    const why = whyNot(w, o)
    if (!why) {
      const user = w.http_auth_user || undefined
      out.items.push({
        ...(user ? {password: unknownPassword(w.http_auth_password) ? o.password : w.http_auth_password!} : {}),
        to: {action: w.event_action === '*' ? '*' : toV2Action(w.event_action), object: w.event_object, version: '2.0'},
        webhook: w,
      })
      continue
    }

    if (why.hard && !o.all) refused.push(`${w.id}: ${why.reason}`)
    out.skipped.push({id: w.id, reason: why.reason, webhook: w})
  }

  if (refused.length > 0) {
    throw new PdhooksError(`Cannot migrate ${refused.length === 1 ? 'webhook' : 'webhooks'} ${refused.join('; ')}. Nothing was migrated.`, {
      code: 'usage', exit: ExitCode.usage,
    })
  }

  return out
}

/** Webhooks of the user a new webhook counts against (user_id, else owner_id). */
const userOf = (w: Webhook) => (typeof w.user_id === 'number' ? w.user_id : (typeof w.owner_id === 'number' ? w.owner_id : undefined))

/**
 * The quota, checked before anything: each new webhook is made before its old one is deleted, so every user concerned
 * needs one free place (exit 5 otherwise, nothing changed).
 */
export function checkMigrationQuota(hooks: Webhook[], items: MigrateItem[]): void {
  const users = new Set(items.map(i => userOf(i.webhook)))
  for (const uid of users) {
    const count = uid === undefined ? hooks.length : hooks.filter(w => userOf(w) === uid).length
    if (count >= WEBHOOK_LIMIT) {
      throw new PdhooksError(`Webhook limit reached: user ${uid ?? '(current)'} has ${count} webhooks (Pipedrive allows ${WEBHOOK_LIMIT} per user), and each migration creates the v2 webhook before deleting the v1 one, so it needs one free place. Nothing was migrated.`, {
        code: 'quota', details: {count, limit: WEBHOOK_LIMIT}, exit: ExitCode.conflict, hint: QUOTA_HINT,
      })
    }
  }
}

export const describeItem = (i: MigrateItem): {from: string; id: number; to: string; url: string} => ({
  from: label(i.webhook), id: i.webhook.id, to: `${i.to.action}.${i.to.object} (v2.0)`, url: safeUrl(i.webhook.subscription_url),
})

export interface MigrateHooks {
  onResult?: (r: MigrateResult) => void
  onStart?: (i: MigrateItem) => void
  /** Aborted: no new migration starts (the one in flight finishes, its old webhook deleted). */
  signal?: AbortSignal
}

/**
 * Migrates one webhook after the other: the v2 webhook first (addWebhook: an identical v2 one is reused, an ambiguous
 * create looked up, the quota checked), then the v1 one deleted. A failure is reported for that webhook and the
 * others go on. `hooks` is the list as read before (kept up to date here).
 */
export async function migrateWebhooks(client: PipedriveClient, items: MigrateItem[], hooks: Webhook[], h: MigrateHooks = {}): Promise<MigrateResult[]> {
  const list = [...hooks]
  const out: MigrateResult[] = []
  for (const item of items) {
    if (h.signal?.aborted) break
    h.onStart?.(item)
    const r = await migrateOne(client, item, list)
    out.push(r)
    h.onResult?.(r)
  }

  return out
}

async function migrateOne(client: PipedriveClient, item: MigrateItem, list: Webhook[]): Promise<MigrateResult> {
  const w = item.webhook
  const base = describeItem(item)
  let made
  try {
    made = await addWebhook(client, {
      event: {...item.to, warnings: []},
      httpAuthPassword: w.http_auth_user ? item.password : undefined,
      httpAuthUser: w.http_auth_user || undefined,
      name: w.name || undefined,
      url: w.subscription_url,
      userId: typeof w.user_id === 'number' ? w.user_id : undefined,
    }, list)
  } catch (error) {
    const e = PdhooksError.from(error)
    return {
      ...base, error: `${e.line} Webhook ${w.id} is unchanged.`, exit: e.exit, status: 'failed',
    }
  }

  if (made.created) list.push(made.webhook)
  const [d] = await deleteWebhooks(client, [w.id], false, 1)
  if (d.status === 'failed') {
    return {
      ...base,
      error: `Created v2 webhook ${made.webhook.id}, but deleting v1 webhook ${w.id} failed: ${d.error} Both deliver now (the receiver gets each change twice): delete the old one with "pdhooks webhook delete ${w.id}".`,
      exit: d.exit ?? ExitCode.unexpected,
      newId: made.webhook.id,
      status: 'both-active',
    }
  }

  const at = list.findIndex(x => x.id === w.id)
  if (at !== -1) list.splice(at, 1)
  return {...base, newId: made.webhook.id, status: made.created ? 'migrated' : 'merged'}
}
