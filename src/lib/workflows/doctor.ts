/**
 * `pdhooks doctor`: one report over the three services of a profile. The checks are pure (analyze) over what was read
 * (gather), so that each finding can be tested from a seeded state; the fix plan holds only what the issue allows
 * doctor to delete: duplicates (all but the healthiest, oldest one), webhooks aimed at an instance that does not exist
 * (orphans), and leftovers of `listen --register`. Nothing else is ever proposed for deletion.
 */
import type {Settings} from '../core/config.js'

import {
  type ClientOptions, elementsBase, elementsClient, pipedriveClient, pipelinerClient,
} from '../core/clients.js'
import {PdhooksError} from '../core/errors.js'
import {maskUrlCredentials, redactUrl} from '../core/mask.js'
import {sameUrl} from '../core/urls.js'
import {
  pidExists, pipedriveMarker, pipelinerMarker, type TemporaryMarker, thisHost,
} from '../deliveries/temporary.js'
import {parseCallbackUrl} from '../elements/callback-url.js'
import {type Instance} from '../elements/client.js'
import {eventsMode} from '../elements/instances.js'
import {type Webhook} from '../pipedrive/client.js'
import {isPipedriveAction} from '../pipedrive/events.js'
import {
  deleteWebhooks, health, type Health, parseDate, sameIdentity, viewWebhook, WEBHOOK_LIMIT,
} from '../pipedrive/webhooks.js'
import {type PipelinerWebhook} from '../pipeliner/client.js'
import {sameEventSet} from '../pipeliner/events.js'
import {deletePipelinerWebhooks, live} from '../pipeliner/webhooks.js'
import {pipelinerStack, webhookStack} from './apply/stack.js'

export type Severity = 'error' | 'info' | 'warning'
export type ServiceName = 'cloud-elements' | 'pipedrive' | 'pipeliner'
export type ObjectKind = 'instance' | 'pipedrive-webhook' | 'pipeliner-webhook'

export const SERVICE_LABEL: Record<ServiceName, string> = {
  'cloud-elements': 'Cloud Elements', pipedrive: 'Pipedrive', pipeliner: 'Pipeliner',
}

/** One object a finding is about (URLs masked). */
export interface FindingObject {
  /** e.g. `updated.deal (v1.0) → https://…` or an instance name. */
  label: string
  id: number | string
  kind: ObjectKind
  name?: null | string
  url?: string
}

export interface Finding {
  /** Stable machine code, e.g. `duplicate-webhooks`. */
  code: string
  /** The command (or the step) that fixes it; null when there is nothing to run. */
  fix: null | string
  /** True when `doctor --fix` fixes it (its deletions are in the plan). */
  fixable: boolean
  message: string
  objects: FindingObject[]
  profile: string
  service: ServiceName
  severity: Severity
}

/** One deletion of the --fix plan. */
export interface FixItem {
  id: number | string
  kind: 'pipedrive-webhook' | 'pipeliner-webhook'
  label: string
  profile: string
  /** Why: duplicate of N, orphan, leftover. */
  reason: string
  verb: 'delete'
}

export interface ServiceStatus {
  /** Counted objects (webhooks or instances). */
  count?: number
  /** Why it was skipped or failed. */
  reason?: string
  status: 'checked' | 'failed' | 'skipped'
}

export interface QuotaUse {
  count: number
  limit: number
  userId: null | number
}

/** What Pipedrive's rate-limit headers said on the list call. */
export interface ApiBudget {
  burstLimit: null | number
  burstRemaining: null | number
  dailyLeft: null | number
  resetSeconds: null | number
}

export interface ProfileReport {
  budget: ApiBudget | null
  findings: Finding[]
  plan: FixItem[]
  profile: string
  quota: QuotaUse[]
  services: Record<ServiceName, ServiceStatus>
}

/** What was read for one profile: undefined = skipped (no credentials); an error = the read failed. */
export interface Gathered {
  elements?: {base: string; instances: Instance[]} | {base: string; error: PdhooksError}
  pipedrive?: {budget: ApiBudget | null; webhooks: Webhook[]} | {error: PdhooksError}
  pipeliner?: {error: PdhooksError} | {webhooks: PipelinerWebhook[]}
  profile: string
  skipped: Partial<Record<ServiceName, string>>
}

export interface AnalyzeOptions {
  /** This machine's host name (listen leftovers of this host are checked against running processes). */
  host?: string
  /** Is this process id running on this machine? (Default: it exists; doctor does not second-guess a reused pid.) */
  isAlive?: (pid: number) => boolean
  now?: number
}

/** A leftover of another machine is only proposed for deletion once it is this old (it may still be in use there). */
const FOREIGN_LEFTOVER_MS = 24 * 3600 * 1000
/** Daily requests left below this: a warning (0: an error). */
const LOW_DAILY_BUDGET = 1000
/** Webhooks of one user from which the quota is a warning. */
const QUOTA_WARN = 35

/** A URL as doctor prints it: credentials and secret query parameters masked. */
export const safeUrl = (url: string): string => redactUrl(maskUrlCredentials(url))

const pdLabel = (w: Webhook) => {
  const cb = parseCallbackUrl(w.subscription_url)
  return `${w.event_action}.${w.event_object} (v${w.version ?? '1.0'}) → ${cb ? `instance ${cb.instanceId} (${cb.host})` : safeUrl(w.subscription_url)}`
}

const pdObject = (w: Webhook): FindingObject => ({
  id: w.id, kind: 'pipedrive-webhook', label: pdLabel(w), name: w.name ?? null, url: safeUrl(w.subscription_url),
})
const plLabel = (w: PipelinerWebhook) => `[${(w.events ?? []).join(', ')}] → ${safeUrl(String(w.url ?? ''))}`
const plObject = (w: PipelinerWebhook): FindingObject => ({
  id: String(w.id), kind: 'pipeliner-webhook', label: plLabel(w), url: safeUrl(String(w.url ?? '')),
})
const instObject = (i: Instance): FindingObject => ({
  id: i.id, kind: 'instance', label: i.name ? `"${i.name}"` : `instance ${i.id}`, name: i.name ?? null,
})

const quote = (s: string) => (/^[\w%+,./:=@-]+$/.test(s) ? s : `'${s.replaceAll("'", String.raw`'\''`)}'`)
const profileFlag = (profile: string) => (profile === (process.env.PDHOOKS_PROFILE || 'default') ? '' : ` --profile ${quote(profile)}`)

/** Health, best first: which duplicate is kept. */
const HEALTH_RANK: Record<Health, number> = {
  'at-risk': 3, failing: 2, inactive: 4, 'never-delivered': 1, ok: 0,
}
const time = (s: null | string | undefined) => parseDate(s)?.getTime() ?? Number.MAX_SAFE_INTEGER

/** The duplicate to keep: the healthiest, then one an apply stack owns (`pdhooks:<stack>`), then the oldest, then the lowest id. */
export function keeper(group: Webhook[], now = Date.now()): Webhook {
  const key = (w: Webhook) => [HEALTH_RANK[health(w, now)], webhookStack(w) === undefined ? 1 : 0, time(w.add_time), Number(w.id)]
  return [...group].sort((a, b) => compareKeys(key(a), key(b)))[0]
}

/** Pipeliner duplicate to keep: signed, then verifying TLS, then one an apply stack owns, then the oldest. */
export function pipelinerKeeper(group: PipelinerWebhook[]): PipelinerWebhook {
  const key = (w: PipelinerWebhook) => [typeof w.signature === 'string' && w.signature !== '' ? 0 : 1, w.insecure_ssl === true ? 1 : 0, pipelinerStack(w) === undefined ? 1 : 0, time(w.created)]
  return [...group].sort((a, b) => compareKeys(key(a), key(b)) || String(a.id).localeCompare(String(b.id)))[0]
}

function compareKeys(a: number[], b: number[]): number {
  for (const [i, x] of a.entries()) if (x !== b[i]) return x - b[i]
  return 0
}

const noCredentials = (e: unknown) => e instanceof PdhooksError && e.code === 'no_credentials'

/** Groups by a key; only groups of two or more. */
function groups<T>(items: T[], same: (a: T, b: T) => boolean): T[][] {
  const out: T[][] = []
  for (const item of items) {
    const g = out.find(x => same(x[0], item))
    if (g) g.push(item)
    else out.push([item])
  }

  return out.filter(g => g.length > 1)
}

const hostOf = (url: string) => {
  try {
    return new URL(url).host.toLowerCase()
  } catch {
    return ''
  }
}

/** Reads a profile's three services; a service without credentials is skipped, a failed read is kept as its error. */
export async function gather(settings: Settings, opts: ClientOptions): Promise<Gathered> {
  const out: Gathered = {profile: settings.profile, skipped: {}}
  /** Makes the client (no credentials: skipped; another error, e.g. a profile that does not exist: thrown), then reads. */
  async function read<C>(name: ServiceName, make: () => Promise<C>, use: (client: C) => Promise<void>, failed: (e: PdhooksError) => void): Promise<void> {
    let client: C
    try {
      client = await make()
    } catch (error) {
      if (!noCredentials(error)) throw error
      out.skipped[name] = `no ${SERVICE_LABEL[name]} credentials`
      return
    }

    try {
      await use(client)
    } catch (error) {
      failed(PdhooksError.from(error))
    }
  }

  // an invalid platform URL is reported by elementsClient, only when Cloud Elements is configured
  const base = await elementsBase(settings).catch(() => '')
  await Promise.all([
    read('pipedrive', () => pipedriveClient(settings, opts), async c => {
      const webhooks = await c.listWebhooks()
      out.pipedrive = {budget: budgetFrom(c.lastHeaders), webhooks}
    }, error => {
      out.pipedrive = {error}
    }),
    read('cloud-elements', () => elementsClient(settings, opts), async c => {
      out.elements = {base, instances: await c.listInstances()}
    }, error => {
      out.elements = {base, error}
    }),
    read('pipeliner', () => pipelinerClient(settings, opts), async c => {
      out.pipeliner = {webhooks: await c.listAll()}
    }, error => {
      out.pipeliner = {error}
    }),
  ])
  return out
}

function header(h: Record<string, string | string[] | undefined> | undefined, name: string): null | number {
  const v = h?.[name]
  const s = Array.isArray(v) ? v[0] : v
  if (s === undefined || s.trim() === '') return null
  const n = Number(s)
  return Number.isFinite(n) ? n : null
}

/** The API budget from `x-ratelimit-*` and `x-daily-requests-left`; null when none of them came. */
export function budgetFrom(h: Record<string, string | string[] | undefined> | undefined): ApiBudget | null {
  const b: ApiBudget = {
    burstLimit: header(h, 'x-ratelimit-limit'),
    burstRemaining: header(h, 'x-ratelimit-remaining'),
    dailyLeft: header(h, 'x-daily-requests-left'),
    resetSeconds: header(h, 'x-ratelimit-reset'),
  }
  return Object.values(b).every(v => v === null) ? null : b
}

/** Every finding and the fix plan for what one profile's services answered. */

export function analyze(g: Gathered, o: AnalyzeOptions = {}): ProfileReport {
  const now = o.now ?? Date.now()
  const host = (o.host ?? thisHost()).toLowerCase()
  const alive = o.isAlive ?? pidExists
  const {profile} = g
  const pf = profileFlag(profile)
  const findings: Finding[] = []
  const plan: FixItem[] = []
  const planned = new Set<string>()
  const add = (f: Omit<Finding, 'profile'>) => findings.push({...f, profile})
  const del = (kind: FixItem['kind'], id: number | string, label: string, reason: string) => {
    const key = `${kind}:${id}`
    if (planned.has(key)) return
    planned.add(key)
    plan.push({
      id, kind, label, profile, reason, verb: 'delete',
    })
  }

  /**
   * A webhook marked by `listen --register` (the marker read by deliveries/temporary.ts, as listen reads it): a
   * leftover (in the plan), one in use, kept on purpose, or unreadable. Doctor's rule is not listen's sweep: a leftover
   * of another host is proposed once it is over FOREIGN_LEFTOVER_MS old (listen never deletes another host's).
   */
  const leftover = (m: null | TemporaryMarker | undefined, o: FindingObject, service: ServiceName, deleteCmd: string) => {
    if (m === undefined) return
    const what = o.kind === 'pipeliner-webhook' ? 'Pipeliner webhook' : 'Webhook'
    const base = {objects: [o], service}
    if (m === null) {
      add({
        ...base, code: 'listen-leftover-unknown', fix: `If no "pdhooks listen" uses it: ${deleteCmd}`, fixable: false, message: `${what} ${o.id} is marked like a "listen --register" webhook, but its host, process and start time cannot be read: not deleted by --fix.`, severity: 'info',
      })
      return
    }

    const local = m.host.toLowerCase() === host
    const started = Date.parse(m.started)
    const age = Math.round((now - started) / 60_000)
    if (m.kept) {
      add({
        ...base, code: 'listen-kept', fix: `When you no longer need it: ${deleteCmd}`, fixable: false, message: `${what} ${o.id} was kept on purpose by "pdhooks listen --keep" (host ${m.host}, ${age} min ago).`, severity: 'info',
      })
      return
    }

    if (local && alive(m.pid)) return
    if (!local && now - started < FOREIGN_LEFTOVER_MS) {
      add({
        ...base, code: 'listen-in-use', fix: `Once that listen has stopped: ${deleteCmd}`, fixable: false, message: `${what} ${o.id} was registered by "pdhooks listen" on host ${m.host} (process ${m.pid}) ${age} min ago: it may still be in use there.`, severity: 'info',
      })
      return
    }

    const why = local ? `process ${m.pid} on this host is not running` : `host ${m.host}, started ${new Date(started).toISOString()}`
    del(o.kind as FixItem['kind'], o.id, o.label, `leftover of listen --register (${why})`)
    add({
      ...base, code: 'listen-leftover', fix: deleteCmd, fixable: true, message: `${what} ${o.id} is a leftover of "pdhooks listen" (${why}): nothing receives its deliveries.`, severity: 'warning',
    })
  }

  const status = (name: ServiceName, got: undefined | {error: PdhooksError} | object, count?: number): ServiceStatus => {
    if (g.skipped[name]) return {reason: g.skipped[name], status: 'skipped'}
    if (got && 'error' in got) return {reason: got.error.message, status: 'failed'}
    return {count, status: 'checked'}
  }

  const pd = g.pipedrive && 'webhooks' in g.pipedrive ? g.pipedrive.webhooks : undefined
  const ce = g.elements && 'instances' in g.elements ? g.elements : undefined
  const pl = g.pipeliner && 'webhooks' in g.pipeliner ? live(g.pipeliner.webhooks) : undefined
  for (const [service, got] of [['pipedrive', g.pipedrive], ['cloud-elements', g.elements], ['pipeliner', g.pipeliner]] as const) {
    if (got && 'error' in got) {
      add({
        code: 'check-failed',
        fix: got.error.hint ?? null,
        fixable: false,
        message: `${SERVICE_LABEL[service]} could not be checked: ${got.error.message}`,
        objects: [],
        service,
        severity: 'error',
      })
    }
  }

  const quota: QuotaUse[] = []
  let budget: ApiBudget | null = null
  if (pd) {
    budget = g.pipedrive && 'budget' in g.pipedrive ? g.pipedrive.budget : null
    // --- Cloud Elements callback URLs: the instance must exist and take Pipedrive's events
    const aimed = pd.filter(w => parseCallbackUrl(w.subscription_url))
    if (ce) {
      const ceHost = hostOf(ce.base)
      const byId = new Map(ce.instances.map(i => [String(i.id), i]))
      const otherHost = aimed.filter(w => parseCallbackUrl(w.subscription_url)!.host.toLowerCase() !== ceHost)
      for (const w of aimed) {
        const cb = parseCallbackUrl(w.subscription_url)!
        if (cb.host.toLowerCase() !== ceHost) continue
        const inst = byId.get(cb.instanceId)
        if (!inst) {
          del('pipedrive-webhook', w.id, pdLabel(w), `orphan: no instance ${cb.instanceId}`)
          add({
            code: 'orphan-webhook',
            fix: `pdhooks webhook delete ${w.id}${pf}`,
            fixable: true,
            message: `Webhook ${w.id} is aimed at instance ${cb.instanceId}, which does not exist on ${cb.host}: its deliveries fail, and Pipedrive deletes it after 3 days.`,
            objects: [pdObject(w)],
            service: 'pipedrive',
            severity: 'error',
          })
          continue
        }

        const mode = eventsMode(inst)
        if (mode !== 'webhook' || inst.disabled === true) {
          const what = inst.disabled === true ? 'is disabled' : (mode === 'none' ? 'has events off' : 'takes its events by polling')
          add({
            code: 'instance-events-off',
            fix: `Turn webhook events on for instance ${inst.id} (event.notification.enabled true, event.vendor.type webhook: on the platform, or declared in a pdhooks apply file), or delete the webhook: pdhooks webhook delete ${w.id}${pf}`,
            fixable: false,
            message: `Webhook ${w.id} is aimed at instance ${inst.id}${inst.name ? ` "${inst.name}"` : ''}, which ${what}: the platform ignores Pipedrive's deliveries.`,
            objects: [pdObject(w), instObject(inst)],
            service: 'cloud-elements',
            severity: 'warning',
          })
        }
      }

      if (otherHost.length > 0) {
        add({
          code: 'callback-not-checked',
          fix: null,
          fixable: false,
          message: `${otherHost.length} webhook(s) are aimed at another platform (${[...new Set(otherHost.map(w => parseCallbackUrl(w.subscription_url)!.host))].join(', ')}) than this profile's (${ceHost}): their instances were not checked.`,
          objects: otherHost.map(w => pdObject(w)),
          service: 'cloud-elements',
          severity: 'info',
        })
      }

      // --- instances in webhook mode that no Pipedrive webhook feeds
      const fed = new Set(aimed.filter(w => parseCallbackUrl(w.subscription_url)!.host.toLowerCase() === ceHost).map(w => parseCallbackUrl(w.subscription_url)!.instanceId))
      for (const inst of ce.instances) {
        if ((inst.element?.key ?? 'pipedrive') !== 'pipedrive' || eventsMode(inst) !== 'webhook' || inst.disabled === true) continue
        if (fed.has(String(inst.id))) continue
        add({
          code: 'instance-without-webhook',
          fix: `pdhooks webhook add '*.*' --instance ${inst.id}${pf}`,
          fixable: false,
          message: `Instance ${inst.id}${inst.name ? ` "${inst.name}"` : ''} waits for Pipedrive's events (webhook mode), but no Pipedrive webhook is aimed at its callback URL.`,
          objects: [instObject(inst)],
          service: 'cloud-elements',
          severity: 'warning',
        })
      }
    } else if (aimed.length > 0) {
      add({
        code: 'callback-not-checked',
        fix: g.skipped['cloud-elements'] ? 'Set PDHOOKS_USER_SECRET and PDHOOKS_ORG_SECRET (or pdhooks auth login --user-secret … --org-secret …) to check them.' : null,
        fixable: false,
        message: `${aimed.length} webhook(s) are aimed at Cloud Elements callback URLs; their instances were not checked (${g.skipped['cloud-elements'] ?? 'Cloud Elements could not be read'}).`,
        objects: aimed.map(w => pdObject(w)),
        service: 'cloud-elements',
        severity: 'info',
      })
    }

    // --- leftovers of listen --register
    for (const w of pd) leftover(pipedriveMarker(w), pdObject(w), 'pipedrive', `pdhooks webhook delete ${w.id}${pf}`)

    // --- duplicates: same URL, event and version (among what is not already deleted as an orphan or a leftover)
    const dupGroups = groups(pd.filter(w => !planned.has(`pipedrive-webhook:${w.id}`)), (a, b) => sameIdentity([b], {
      action: a.event_action, object: a.event_object, url: a.subscription_url, version: a.version ?? '1.0',
    }).length > 0)
    for (const group of dupGroups) {
      const keep = keeper(group, now)
      const rest = group.filter(w => w !== keep)
      const deletable = rest.filter(w => w.type !== 'application')
      for (const w of deletable) del('pipedrive-webhook', w.id, pdLabel(w), `duplicate of webhook ${keep.id}`)
      add({
        code: 'duplicate-webhooks',
        fix: deletable.length > 0 ? `pdhooks webhook delete ${deletable.map(w => w.id).join(' ')}${pf}` : null,
        fixable: deletable.length > 0,
        message: `${group.length} webhooks for ${pdLabel(keep)}: every change is delivered ${group.length} times. Keep ${keep.id} (${health(keep, now)}${keep.add_time ? `, added ${keep.add_time}` : ''}), delete ${rest.map(w => w.id).join(', ')}${rest.length > deletable.length ? ' (marketplace app webhooks are left to their app)' : ''}.`,
        objects: group.map(w => pdObject(w)),
        service: 'pipedrive',
        severity: 'warning',
      })
    }

    // --- health of what stays
    const staying = pd.filter(w => !planned.has(`pipedrive-webhook:${w.id}`))
    for (const w of staying) {
      const h = health(w, now)
      const v = viewWebhook(w, now)
      const recreate = `pdhooks webhook delete ${w.id} --yes${pf} && pdhooks webhook add ${quote(v.event)} --url ${quote(w.subscription_url)} --version ${v.version}${pf}`
      if (h === 'inactive') {
        add({
          code: 'webhook-inactive',
          fix: `Fix the receiver, then re-create it (Pipedrive has no way to re-activate one): ${safeUrl(recreate)}${w.http_auth_user ? ' (with its basic auth)' : ''}`,
          fixable: false,
          message: `Webhook ${w.id} is inactive: Pipedrive no longer delivers to it${w.remove_reason ? ` (remove_reason: ${w.remove_reason})` : ''}.`,
          objects: [pdObject(w)],
          service: 'pipedrive',
          severity: 'error',
        })
      } else if (h === 'at-risk' || h === 'failing') {
        const st = w.last_http_status === 0 ? 'no answer' : `HTTP ${w.last_http_status}`
        add({
          code: h === 'at-risk' ? 'webhook-at-risk' : 'webhook-failing',
          fix: `Make ${safeUrl(w.subscription_url)} answer 2xx within 10 s, then watch it: pdhooks webhook list --url ${quote(safeUrl(w.subscription_url))}${pf}`,
          fixable: false,
          message: h === 'at-risk'
            ? `Webhook ${w.id} is failing (last delivery ${w.last_delivery_time ?? '?'}: ${st}) and older than 48 h: Pipedrive deletes a webhook after 3 days without a successful delivery.`
            : `Webhook ${w.id} is failing (last delivery ${w.last_delivery_time ?? '?'}: ${st}): 10 failed deliveries in a row ban it for 30 min, 3 days without success delete it.`,
          objects: [pdObject(w)],
          service: 'pipedrive',
          severity: h === 'at-risk' ? 'error' : 'warning',
        })
      }
    }

    // --- v1 webhooks that could move to v2 (never those aimed at a Cloud Elements callback: the connector expects v1)
    const v1All = staying.filter(w => (w.version ?? '1.0') === '1.0' && !parseCallbackUrl(w.subscription_url) && w.event_object !== 'activityType' && (w.event_action === '*' || isPipedriveAction(w.event_action)) && w.type !== 'application')
    // an apply stack's webhook moves by changing its file (migrating it would fight the next apply)
    const v1 = v1All.filter(w => webhookStack(w) === undefined)
    const stacks = [...new Set(v1All.map(w => webhookStack(w)).filter(Boolean))] as string[]
    for (const stack of stacks) {
      const own = v1All.filter(w => webhookStack(w) === stack)
      add({
        code: 'v1-webhooks-of-stack',
        fix: `In the apply file of stack "${stack}", declare these webhooks with v2 events (change.deal, not updated.deal), then run pdhooks apply${pf}`,
        fixable: false,
        message: `${own.length} webhook(s) of apply stack "${stack}" still use webhooks v1.`,
        objects: own.map(w => pdObject(w)),
        service: 'pipedrive',
        severity: 'info',
      })
    }

    if (v1.length > 0) {
      add({
        code: 'v1-webhooks',
        fix: `pdhooks webhook migrate ${v1.map(w => w.id).join(' ')} --dry-run${pf}   (then without --dry-run)`,
        fixable: false,
        message: `${v1.length} webhook(s) still use webhooks v1 (v2 is Pipedrive's default since March 2025: one delivery per change, smaller payloads).`,
        objects: v1.map(w => pdObject(w)),
        service: 'pipedrive',
        severity: 'info',
      })
    }

    // --- quota per user
    const perUser = new Map<null | number, number>()
    for (const w of pd) {
      const uid = typeof w.user_id === 'number' ? w.user_id : (typeof w.owner_id === 'number' ? w.owner_id : null)
      perUser.set(uid, (perUser.get(uid) ?? 0) + 1)
    }

    for (const [userId, count] of [...perUser].sort((a, b) => b[1] - a[1])) {
      quota.push({count, limit: WEBHOOK_LIMIT, userId})
      if (count < QUOTA_WARN) continue
      const full = count >= WEBHOOK_LIMIT
      add({
        code: 'quota',
        fix: `See which webhooks you no longer need: pdhooks webhook list${pf}; then pdhooks webhook delete ID…${pf}`,
        fixable: false,
        message: full
          ? `User ${userId ?? '(unknown)'} has ${count} webhooks, Pipedrive's limit (${WEBHOOK_LIMIT}): no webhook can be added, and "webhook migrate" and "webhook add --replace" need one free place.`
          : `User ${userId ?? '(unknown)'} has ${count} of ${WEBHOOK_LIMIT} webhooks.`,
        objects: [],
        service: 'pipedrive',
        severity: 'warning',
      })
    }

    // --- API budget
    if (budget) {
      const parts = [
        budget.dailyLeft === null ? undefined : `${budget.dailyLeft} requests left today`,
        budget.burstLimit === null ? undefined : `burst limit ${budget.burstLimit} per 2 s${budget.burstRemaining === null ? '' : ` (${budget.burstRemaining} left in this window)`}`,
      ].filter(Boolean)
      const low = budget.dailyLeft !== null && budget.dailyLeft < LOW_DAILY_BUDGET
      add({
        code: 'api-budget',
        fix: low ? 'Fewer API calls until the daily budget resets (GET /webhooks costs 10 tokens, a delete 6).' : null,
        fixable: false,
        message: `API budget: ${parts.join('; ')}.`,
        objects: [],
        service: 'pipedrive',
        severity: budget.dailyLeft !== null && budget.dailyLeft <= 0 ? 'error' : (low ? 'warning' : 'info'),
      })
    }
  }

  // --- Pipeliner
  if (pl) {
    for (const w of pl) leftover(pipelinerMarker(w), plObject(w), 'pipeliner', `pdhooks pipeliner webhook delete ${w.id}${pf}`)
    for (const group of groups(pl.filter(w => !planned.has(`pipeliner-webhook:${w.id}`)), (a, b) => typeof a.url === 'string' && typeof b.url === 'string' && sameUrl(a.url, b.url) && Array.isArray(a.events) && Array.isArray(b.events) && sameEventSet(a.events, b.events))) {
      const keep = pipelinerKeeper(group)
      const rest = group.filter(w => w !== keep)
      for (const w of rest) del('pipeliner-webhook', String(w.id), plLabel(w), `duplicate of ${keep.id}`)
      add({
        code: 'pipeliner-duplicates',
        fix: `pdhooks pipeliner webhook delete ${rest.map(w => w.id).join(' ')}${pf}`,
        fixable: true,
        message: `${group.length} Pipeliner webhooks for ${plLabel(keep)}: every change is delivered ${group.length} times. Keep ${keep.id}, delete ${rest.map(w => w.id).join(', ')}.`,
        objects: group.map(w => plObject(w)),
        service: 'pipeliner',
        severity: 'warning',
      })
    }

    for (const w of pl.filter(x => !planned.has(`pipeliner-webhook:${x.id}`))) {
      const insecure = w.insecure_ssl === true
      const unsigned = !(typeof w.signature === 'string' && w.signature !== '')
      if (!insecure && !unsigned) continue
      const events = (w.events ?? []).map(e => `--event ${quote(String(e))}`).join(' ')
      const opts = w.options && typeof w.options === 'object' && Object.keys(w.options).length > 0 ? ' (give its options again: see pdhooks pipeliner webhook list --json)' : ''
      add({
        code: insecure ? 'pipeliner-insecure-ssl' : 'pipeliner-unsigned',
        fix: `pdhooks pipeliner webhook add ${events} --url ${quote(safeUrl(String(w.url)))} --sign --replace${pf}${opts}`,
        fixable: false,
        message: insecure
          ? `Pipeliner webhook ${w.id} has insecure_ssl: deliveries skip TLS certificate checks${unsigned ? ', and it is not signed' : ''}.`
          : `Pipeliner webhook ${w.id} is not signed: the receiver cannot tell its deliveries from anyone else's.`,
        objects: [plObject(w)],
        service: 'pipeliner',
        severity: 'warning',
      })
    }
  }

  const order: Record<Severity, number> = {error: 0, info: 2, warning: 1}
  findings.sort((a, b) => order[a.severity] - order[b.severity])
  return {
    budget,
    findings,
    plan,
    profile,
    quota,
    services: {
      'cloud-elements': status('cloud-elements', g.elements, ce?.instances.length),
      pipedrive: status('pipedrive', g.pipedrive, pd?.length),
      pipeliner: status('pipeliner', g.pipeliner, pl?.length),
    },
  }
}

export interface FixResult {
  error?: string
  exit?: number
  id: number | string
  kind: FixItem['kind']
  profile: string
  status: 'deleted' | 'failed' | 'gone' | 'not-found'
}

export interface FixHooks {
  onResult?: (r: FixResult) => void
  onStart?: (item: FixItem) => void
  signal?: AbortSignal
}

/**
 * Carries out one profile's fix plan: deletes exactly the plan's objects, by id (a 404 means deleted meanwhile:
 * "gone"). Nothing outside the plan is touched. Returns the results of what ran (all unless `hooks.signal` aborted).
 */
export async function applyFix(settings: Settings, plan: FixItem[], opts: ClientOptions, hooks: FixHooks = {}): Promise<FixResult[]> {
  const out: FixResult[] = []
  const {profile} = settings
  const pdItems = plan.filter(i => i.kind === 'pipedrive-webhook')
  const plItems = plan.filter(i => i.kind === 'pipeliner-webhook')
  const record = (kind: FixItem['kind']) => (r: {error?: string; exit?: number; id: number | string; status: FixResult['status']}) => {
    const res: FixResult = {
      ...(r.error ? {error: r.error} : {}), ...(r.exit ? {exit: r.exit} : {}), id: r.id, kind, profile, status: r.status,
    }
    out.push(res)
    hooks.onResult?.(res)
  }

  const onStart = (kind: FixItem['kind']) => (id: number | string) => {
    const item = plan.find(i => i.kind === kind && String(i.id) === String(id))
    if (item) hooks.onStart?.(item)
  }

  if (pdItems.length > 0 && !hooks.signal?.aborted) {
    const client = await pipedriveClient(settings, opts)
    await deleteWebhooks(client, pdItems.map(i => i.id), false, 4, {onResult: record('pipedrive-webhook'), onStart: onStart('pipedrive-webhook'), signal: hooks.signal})
  }

  if (plItems.length > 0 && !hooks.signal?.aborted) {
    const client = await pipelinerClient(settings, opts)
    await deletePipelinerWebhooks(client, plItems.map(i => String(i.id)), false, 4, {onResult: record('pipeliner-webhook'), onStart: onStart('pipeliner-webhook'), signal: hooks.signal})
  }

  return out
}

/** Is a finding fixed by these results: fixable, and each of its objects in the plan deleted (or gone)? */
export function isFixed(f: Finding, plan: FixItem[], results: FixResult[]): boolean {
  if (!f.fixable) return false
  const inPlan = f.objects.filter(o => plan.some(p => p.profile === f.profile && p.kind === o.kind && String(p.id) === String(o.id)))
  return inPlan.length > 0 && inPlan.every(o => results.some(r => r.profile === f.profile && r.kind === o.kind && String(r.id) === String(o.id) && (r.status === 'deleted' || r.status === 'gone')))
}
