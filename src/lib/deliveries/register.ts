/**
 * The temporary webhooks of `pdhooks listen --register / --pipeliner`: the sweep of earlier runs' leftovers, the
 * registration (quota first, never a duplicate after an ambiguous create), and the cleanup on every way out.
 *
 * Each webhook carries this run's marker (see temporary.ts): the Pipedrive webhook's name, an entry of the Pipeliner
 * webhook's options.skip_keys. The cleanup deletes what the run knows it made, then looks on the server for anything else
 * with its marker (a create whose answer was lost), so nothing is left behind unless the service refuses.
 */
import {ExitCode, PdhooksError} from '../core/errors.js'
import {type PipedriveClient, type Webhook} from '../pipedrive/client.js'
import {type ParsedEvent} from '../pipedrive/events.js'
import {
  addWebhook, type DeleteResult, deleteWebhooks, QUOTA_HINT, quotaUsage, WEBHOOK_LIMIT,
} from '../pipedrive/webhooks.js'
import {type PipelinerClient, type PipelinerWebhook} from '../pipeliner/client.js'
import {addPipelinerWebhook, deletePipelinerWebhooks, live} from '../pipeliner/webhooks.js'
import {
  classifyMarker, pipedriveMarker, pipelinerMarker, sameMarker, type TemporaryMarker, temporaryMarker,
} from './temporary.js'

export type Service = 'pipedrive' | 'pipeliner'

export interface Registered {
  /** What it receives, for people: `change.deal (v2)` or `Account.Create, Opportunity.*`. */
  events: string
  id: string
  recovered?: boolean
  service: Service
}

export interface Swept {
  id: string
  marker: TemporaryMarker
  service: Service
}

export interface CleanupResult {
  deleted: Registered[]
  /** Not deleted: with why and the command that deletes them. */
  failed: Array<Registered & {error: string}>
  /** The servers could not be searched for webhooks of this run beyond those it knew (why). */
  unchecked: string[]
}

export interface TemporaryPlan {
  marker: TemporaryMarker
  /** The subscription URL: the public URL and the path token. */
  url: string
  pipedrive?: {
    auth: {password: string; user: string}
    client: PipedriveClient
    events: ParsedEvent[]
    userId?: number
  }
  pipeliner?: {
    client: PipelinerClient
    events: string[]
    signature: string
  }
  /** Status lines (stderr). */
  notify: (line: string) => void
}

/** The command that deletes webhooks by hand. */
export function deleteCommand(service: Service, ids: string[]): string {
  return `pdhooks ${service === 'pipedrive' ? 'webhook' : 'pipeliner webhook'} delete ${ids.join(' ')} --yes`
}

const label = (service: Service) => (service === 'pipedrive' ? 'Pipedrive webhook' : 'Pipeliner webhook')
const pdEvents = (w: Pick<Webhook, 'event_action' | 'event_object' | 'version'>) => `${w.event_action}.${w.event_object} (v${w.version ?? '1.0'})`
const plEvents = (w: PipelinerWebhook) => (Array.isArray(w.events) ? w.events.join(', ') : '?')
const whose = (m: TemporaryMarker) => `pdhooks listen on ${m.host} (pid ${m.pid}, started ${m.started})`
const why = (error: unknown) => PdhooksError.from(error).message.replace(/\.$/, '')

/** A run's temporary webhooks, from the sweep at start to the cleanup at exit. */
export class TemporaryWebhooks {
  /** What this run made (in order), until deleted. */
  readonly made: Registered[] = []
  readonly swept: Swept[] = []
  private readonly plan: TemporaryPlan
  private pdExisting: Webhook[] = []

  constructor(plan: TemporaryPlan) {
    this.plan = plan
  }

  get markerText(): string {
    return temporaryMarker(this.plan.marker)
  }

  /**
   * Deletes every webhook made by this run (those it knows, then any other with its marker found on the server),
   * unless `signal` is aborted first (those not started are reported as not deleted).
   */
  async cleanup(signal?: AbortSignal): Promise<CleanupResult> {
    const result: CleanupResult = {deleted: [], failed: [], unchecked: []}
    const {pipedrive, pipeliner} = this.plan
    for (const service of ['pipedrive', 'pipeliner'] as const) {
      const client = service === 'pipedrive' ? pipedrive?.client : pipeliner?.client
      if (!client) continue
      const known = this.made.filter(r => r.service === service)
      // a create whose answer was lost may have made one more: look on the server (not after a second Ctrl-C)
      let extra: Registered[] = []
      if (!signal?.aborted) {
        try {
          extra = await this.findOwn(service)
        } catch (error) {
          result.unchecked.push(`could not list the ${label(service)}s to look for others of this run (${why(error)})`)
        }
      }

      const all = [...known, ...extra.filter(e => !known.some(k => k.id === e.id))]
      if (all.length === 0) continue
      const byId = new Map(all.map(r => [r.id, r]))
      const ids = all.map(r => r.id)
      const results: DeleteResult[] = service === 'pipedrive'
        ? await deleteWebhooks(pipedrive!.client, ids, false, 4, {signal})
        : await deletePipelinerWebhooks(pipeliner!.client, ids, false, 4, {signal})
      const seen = new Set<string>()
      for (const r of results) {
        const reg = byId.get(String(r.id))!
        seen.add(String(r.id))
        if (r.status === 'deleted' || r.status === 'gone') {
          result.deleted.push(reg)
          this.forget(reg)
        } else result.failed.push({...reg, error: r.error ?? 'failed'})
      }

      for (const id of ids) if (!seen.has(id)) result.failed.push({...byId.get(id)!, error: 'not deleted: stopped before its turn'})
    }

    return result
  }

  /** Creates the webhooks (Pipedrive first, quota checked before anything is made). Stops between creates once `signal` is aborted. */
  async register(signal?: AbortSignal): Promise<void> {
    const {pipedrive, pipeliner, url} = this.plan
    if (pipedrive) {
      const needed = pipedrive.events.length
      const {count, uid} = await quotaUsage(pipedrive.client, this.pdExisting, pipedrive.userId, needed)
      if (count + needed > WEBHOOK_LIMIT) {
        throw new PdhooksError(`Webhook limit: user ${uid ?? '(current)'} has ${count} webhooks and --register needs ${needed} more (Pipedrive allows ${WEBHOOK_LIMIT} per user). Nothing was registered.`, {
          code: 'quota', details: {report: {count, limit: WEBHOOK_LIMIT, needed}}, exit: ExitCode.conflict, hint: QUOTA_HINT,
        })
      }

      for (const event of pipedrive.events) {
        if (signal?.aborted) return
        const res = await addWebhook(pipedrive.client, {
          allowDuplicate: true,
          event,
          httpAuthPassword: pipedrive.auth.password,
          httpAuthUser: pipedrive.auth.user,
          name: this.markerText,
          url,
          userId: pipedrive.userId,
        }, this.pdExisting)
        this.pdExisting = [...this.pdExisting, res.webhook]
        const reg: Registered = {
          events: pdEvents(res.webhook), id: String(res.webhook.id), ...(res.recovered ? {recovered: true} : {}), service: 'pipedrive',
        }
        this.made.push(reg)
        this.plan.notify(`Registered Pipedrive webhook ${reg.id}: ${reg.events} → ${url}${res.recovered ? ' (confirmed after the create call failed)' : ''}`)
      }
    }

    if (pipeliner && !signal?.aborted) {
      const res = await addPipelinerWebhook(pipeliner.client, {
        events: pipeliner.events, insecureSsl: false, options: {skip_keys: [this.markerText]}, signature: pipeliner.signature, url,
      })
      const reg: Registered = {
        events: plEvents(res.webhook), id: String(res.webhook.id), ...(res.recovered ? {recovered: true} : {}), service: 'pipeliner',
      }
      this.made.push(reg)
      this.plan.notify(`Registered Pipeliner webhook ${reg.id}: ${reg.events} → ${url}${res.recovered ? ' (confirmed after the create call failed)' : ''}`)
    }
  }

  /**
   * Deletes the leftovers of earlier runs on this host whose process is gone; says which leftovers of other hosts (and
   * of runs still alive here) it leaves alone, with the command to delete them.
   */
  async sweep(): Promise<void> {
    const {pipedrive, pipeliner} = this.plan
    if (pipedrive) {
      const hooks = await pipedrive.client.listWebhooks()
      const gone = await this.sweepService('pipedrive', hooks.map(w => ({
        id: String(w.id), label: `${pdEvents(w)} → ${w.subscription_url}`, marker: pipedriveMarker(w),
      })))
      this.pdExisting = hooks.filter(w => !gone.has(String(w.id)))
    }

    if (pipeliner) {
      const hooks = live(await pipeliner.client.listAll())
      await this.sweepService('pipeliner', hooks.map(w => ({id: String(w.id), label: `${plEvents(w)} → ${w.url}`, marker: pipelinerMarker(w)})))
    }
  }

  /** Webhooks on the server with this run's marker. */
  private async findOwn(service: Service): Promise<Registered[]> {
    const own = this.plan.marker
    if (service === 'pipedrive') {
      const hooks = await this.plan.pipedrive!.client.listWebhooks()
      return hooks.filter(w => {
        const m = pipedriveMarker(w)
        return m && sameMarker(m, own)
      }).map(w => ({events: pdEvents(w), id: String(w.id), service}))
    }

    const hooks = live(await this.plan.pipeliner!.client.listAll())
    return hooks.filter(w => {
      const m = pipelinerMarker(w)
      return m && sameMarker(m, own)
    }).map(w => ({events: plEvents(w), id: String(w.id), service}))
  }

  private forget(r: Registered): void {
    const i = this.made.findIndex(m => m.service === r.service && m.id === r.id)
    if (i !== -1) this.made.splice(i, 1)
  }

  /** Returns the ids deleted. */
  private async sweepService(service: Service, hooks: Array<{id: string; label: string; marker?: null | TemporaryMarker}>): Promise<Set<string>> {
    const {notify} = this.plan
    const own = this.plan.marker
    const stale = hooks.filter(h => h.marker && classifyMarker(h.marker, own) === 'gone')
    for (const h of hooks) {
      if (!h.marker) continue
      const kind = classifyMarker(h.marker, own)
      if (kind === 'foreign') {
        notify(`Notice: ${label(service)} ${h.id} (${h.label}) was left by ${whose(h.marker)}: not deleted from here (that run may still be alive there). If it is over: ${deleteCommand(service, [h.id])}`)
      } else if (kind === 'alive') {
        notify(`Notice: ${label(service)} ${h.id} belongs to ${whose(h.marker)}, which is still running: left alone.`)
      }
    }

    const deleted = new Set<string>()
    if (stale.length === 0) return deleted
    const ids = stale.map(h => h.id)
    const results = service === 'pipedrive'
      ? await deleteWebhooks(this.plan.pipedrive!.client, ids, false)
      : await deletePipelinerWebhooks(this.plan.pipeliner!.client, ids, false)
    for (const r of results) {
      const h = stale.find(s => s.id === String(r.id))!
      if (r.status === 'deleted' || r.status === 'gone') {
        deleted.add(h.id)
        this.swept.push({id: h.id, marker: h.marker!, service})
        notify(`Swept ${label(service)} ${h.id} (${h.label}): left by ${whose(h.marker!)}, whose process is gone.`)
      } else {
        notify(`Warning: could not delete the leftover ${label(service)} ${h.id} of ${whose(h.marker!)} (${r.error ?? 'failed'}). Delete it with: ${deleteCommand(service, [h.id])}`)
      }
    }

    return deleted
  }
}

/** `Pipedrive 12, 13; Pipeliner 9f…` */
function names(list: Registered[]): string {
  const pd = list.filter(x => x.service === 'pipedrive').map(x => x.id)
  const pl = list.filter(x => x.service === 'pipeliner').map(x => x.id)
  return [pd.length > 0 ? `Pipedrive ${pd.join(', ')}` : '', pl.length > 0 ? `Pipeliner ${pl.join(', ')}` : ''].filter(Boolean).join('; ')
}

/** The exit line(s) of a cleanup: what was deleted, what could not be (ids and the command). */
export function cleanupLines(r: CleanupResult): string[] {
  const out: string[] = []
  if (r.deleted.length > 0) out.push(`Deleted ${r.deleted.length} temporary ${r.deleted.length === 1 ? 'webhook' : 'webhooks'} (${names(r.deleted)}).`)
  for (const service of ['pipedrive', 'pipeliner'] as const) {
    const failed = r.failed.filter(f => f.service === service)
    if (failed.length === 0) continue
    out.push(`Warning: could not delete ${failed.length} temporary ${label(service)}${failed.length === 1 ? '' : 's'} (${failed.map(f => `${f.id}: ${f.error}`).join('; ')}). Delete ${failed.length === 1 ? 'it' : 'them'} with: ${deleteCommand(service, failed.map(f => f.id))}`)
  }

  for (const u of r.unchecked) out.push(`Warning: ${u}; "pdhooks webhook list" / "pdhooks pipeliner webhook list" show them (named "pdhooks-listen …").`)
  if (out.length === 0) out.push('No temporary webhook to delete.')
  return out
}
