import {sameUrl} from '../../core/urls.js'
import {callbackUrl, parseCallbackUrl} from '../../elements/callback-url.js'
import {type Instance} from '../../elements/client.js'
import {compareInstance} from '../../elements/instances.js'
import {type Webhook} from '../../pipedrive/client.js'
import {type PipelinerWebhook} from '../../pipeliner/client.js'
import {sameEventSet} from '../../pipeliner/events.js'
import {live, sameOptions} from '../../pipeliner/webhooks.js'
import {
  type DesiredInstance, type DesiredPipedriveWebhook, type DesiredPipelinerWebhook, type DesiredState,
} from './file.js'
import {
  instanceStack, isStackMark, pipelinerStack, webhookStack, withoutStackOptions,
} from './stack.js'

export type Verb = 'create' | 'delete' | 'keep' | 'replace' | 'update'
export type Kind = 'instance' | 'pipedrive-webhook' | 'pipeliner-webhook'

export interface PlanItem {
  /** The existing object (keep, update, replace, delete). */
  existing?: Instance | PipelinerWebhook | Webhook
  /** For webhooks aimed at an instance: that instance's name. */
  instance?: string
  kind: Kind
  /** The stack recorded on the existing object (null: none, e.g. made by hand, by `webhook add` or by `setup`). */
  owner?: null | string
  /** Display identity: instance name, `event vX → url`, `[events] → url`. */
  label: string
  /** What differs (update, replace) or why (delete). */
  reason?: string
  verb: Verb
  /** The desired object (create, keep, update, replace). */
  want?: DesiredInstance | DesiredPipedriveWebhook | DesiredPipelinerWebhook
}

export interface ActualState {
  instances?: Instance[]
  pipedrive?: Webhook[]
  pipeliner?: PipelinerWebhook[]
}

export interface PlanOptions {
  /** Platform base URL (callback URLs). */
  base: string
  /** Delete the objects of the file's stack that the file no longer declares (needs `stack:`). */
  prune?: boolean
}

const short = (url: string) => {
  const cb = parseCallbackUrl(url)
  return cb ? `instance ${cb.instanceId}` : url
}

function pdLabel(w: DesiredPipedriveWebhook, url: string): string {
  return `${w.event.action}.${w.event.object} v${w.event.version} → ${short(url)}`
}

/** What differs between a desired instance and the existing one (visible values only: secrets come back masked). */
function instanceDiff(want: DesiredInstance, have: Instance): string[] {
  return compareInstance(have, {...want, configuration: want.configuration}, {ignoreTag: t => isStackMark(t)}).map(d => {
    if (d.field === 'events') return `events ${d.have} → ${d.want}`
    if (d.field === 'poll') return `poll ${d.have} → ${d.want}`
    if (d.field === 'pollInterval') return `pollInterval → ${d.want}`
    return d.field
  })
}

/** Why an existing Pipedrive webhook no longer matches (Pipedrive has no update call: any difference is a replace). */
function webhookDiff(want: DesiredPipedriveWebhook, have: Webhook): string[] {
  const diff: string[] = []
  if (want.userId !== undefined && have.user_id !== undefined && have.user_id !== want.userId) diff.push(`user ${have.user_id} → ${want.userId}`)
  const haveUser = have.http_auth_user || undefined
  if ((want.auth?.user ?? undefined) !== haveUser) diff.push('auth user')
  else if (want.auth && have.http_auth_password && !/^\*+$/.test(have.http_auth_password) && have.http_auth_password !== want.auth.password) diff.push('auth password')
  return diff
}

function matchPd(hooks: Webhook[], used: Set<number>, w: DesiredPipedriveWebhook, url: string): undefined | Webhook {
  const cb = parseCallbackUrl(url)
  const sameTarget = (h: Webhook) => {
    if (!cb) return h.subscription_url === url
    const other = parseCallbackUrl(h.subscription_url)
    return other?.instanceId === cb.instanceId && other.host === cb.host
  }

  const same = (h: Webhook) => h.event_action === w.event.action && h.event_object === w.event.object && (h.version ?? '1.0') === w.event.version
  return hooks.find(h => !used.has(h.id) && same(h) && sameTarget(h))
}

/**
 * Compares the file with what exists. Identity: an instance by name; a Pipedrive webhook by URL + action + object +
 * version; a Pipeliner webhook by URL + event set. With `prune`, the objects of the file's stack (recorded on the
 * server, see stack.ts) that the file no longer declares are deleted, only in the sections the file has.
 */
export function computePlan(desired: DesiredState, actual: ActualState, o: PlanOptions): PlanItem[] {
  const items: PlanItem[] = []
  const pdUsed = new Set<number>()
  const pdHooks = actual.pipedrive ?? []

  for (const want of desired.instances) {
    const have = (actual.instances ?? []).find(i => i.name === want.name)
    if (!have) {
      items.push({
        kind: 'instance', label: want.name, verb: 'create', want,
      })
      for (const w of want.webhooks) items.push({
        instance: want.name, kind: 'pipedrive-webhook', label: `${w.event.action}.${w.event.object} v${w.event.version} → instance "${want.name}"`, verb: 'create', want: w,
      })
      continue
    }

    const diff = instanceDiff(want, have)
    items.push({
      existing: have, kind: 'instance', label: `${want.name} (${have.id})`, owner: instanceStack(have) ?? null, reason: diff.join(', ') || undefined, verb: diff.length > 0 ? 'update' : 'keep', want,
    })
    const url = callbackUrl(o.base, have.id, have.element?.key ?? 'pipedrive')
    for (const w of want.webhooks) items.push(pdItem(w, url, pdHooks, pdUsed, want.name))
  }

  for (const w of desired.pipedrive) items.push(pdItem(w, w.url!, pdHooks, pdUsed))

  const plUsed = new Set<string>()
  for (const want of desired.pipeliner) {
    const have = live(actual.pipeliner ?? []).find(h => !plUsed.has(h.id) && sameUrl(h.url, want.url) && sameEventSet(h.events ?? [], want.events))
    const label = `[${want.events.join(', ')}] → ${want.url}`
    if (!have) {
      items.push({
        kind: 'pipeliner-webhook', label, verb: 'create', want,
      })
      continue
    }

    plUsed.add(have.id)
    const diff: string[] = []
    if (Boolean(have.insecure_ssl) !== want.insecureSsl) diff.push('insecureSsl')
    if ((want.signature ?? null) !== (have.signature ?? null) && !(have.signature && /^\*+|…$/.test(have.signature))) diff.push('signature')
    // options the file does not give are the service's business (it may fill in defaults)
    if (want.options && !sameOptions(withoutStackOptions(have.options), want.options)) diff.push('options')
    items.push({
      existing: have, kind: 'pipeliner-webhook', label, owner: pipelinerStack(have) ?? null, reason: diff.join(', ') || undefined, verb: diff.length > 0 ? 'replace' : 'keep', want,
    })
  }

  const {stack} = desired
  if (o.prune && stack) {
    if (desired.sections.instances || desired.sections.pipedrive) {
      for (const h of pdHooks) {
        if (pdUsed.has(h.id) || webhookStack(h) !== stack) continue
        items.push({
          existing: h, kind: 'pipedrive-webhook', label: `${h.event_action}.${h.event_object} v${h.version ?? '1.0'} → ${short(h.subscription_url)} (${h.id})`, owner: stack, reason: 'not in the file', verb: 'delete',
        })
      }
    }

    for (const i of desired.sections.instances ? actual.instances ?? [] : []) {
      if (desired.instances.some(d => d.name === i.name) || instanceStack(i) !== stack) continue
      items.push({
        existing: i, kind: 'instance', label: `${i.name} (${i.id})`, owner: stack, reason: 'not in the file', verb: 'delete',
      })
    }

    for (const h of desired.sections.pipeliner ? live(actual.pipeliner ?? []) : []) {
      if (plUsed.has(h.id) || pipelinerStack(h) !== stack) continue
      items.push({
        existing: h, kind: 'pipeliner-webhook', label: `[${(h.events ?? []).join(', ')}] → ${h.url} (${h.id})`, owner: stack, reason: 'not in the file', verb: 'delete',
      })
    }
  }

  return items
}

function pdItem(w: DesiredPipedriveWebhook, url: string, hooks: Webhook[], used: Set<number>, instance?: string): PlanItem {
  const have = matchPd(hooks, used, w, url)
  const label = pdLabel(w, url)
  if (!have) return {
    instance, kind: 'pipedrive-webhook', label, verb: 'create', want: w,
  }
  used.add(have.id)
  const diff = webhookDiff(w, have)
  return {
    existing: have, instance, kind: 'pipedrive-webhook', label: `${label} (${have.id})`, owner: webhookStack(have) ?? null, reason: diff.join(', ') || undefined, verb: diff.length > 0 ? 'replace' : 'keep', want: w,
  }
}

