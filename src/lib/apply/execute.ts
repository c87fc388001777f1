import {callbackUrl} from '../callback-url.js'
import {type ElementsClient, type Instance} from '../elements.js'
import {ExitCode, PdhooksError} from '../errors.js'
import {
  buildInstanceBody, createInstance, POLL_RESOURCES, pollerConfiguration,
} from '../instances.js'
import {type PipedriveClient, type Webhook} from '../pipedrive.js'
import {type PipelinerClient, type PipelinerWebhook} from '../pipeliner.js'
import {addWebhook} from '../webhooks.js'
import {type DesiredInstance, type DesiredPipedriveWebhook, type DesiredPipelinerWebhook} from './file.js'
import {type PlanItem} from './plan.js'

export type ResultStatus = 'done' | 'failed' | 'skipped' | 'unchanged'

export interface ItemResult {
  error?: {code: string; exit: number; message: string}
  id?: number | string
  item: PlanItem
  status: ResultStatus
}

export interface Clients {
  ce?: ElementsClient
  pd?: PipedriveClient
  pl?: PipelinerClient
}

export interface ExecuteResult {
  /** Pipeliner webhook ids created / deleted (ownership is recorded in the profile). */
  pipeliner: {created: string[]; deleted: string[]}
  results: ItemResult[]
}

const errorOf = (error: unknown) => {
  const e = error instanceof PdhooksError ? error : new PdhooksError(String((error as Error)?.message ?? error))
  return {code: e.code, exit: e.exit, message: e.line}
}

function need<T>(client: T | undefined, what: string): T {
  if (!client) throw new PdhooksError(`No ${what} credentials for this profile.`, {code: 'no_credentials', exit: ExitCode.auth})
  return client
}

/** The PATCH body for an instance update (visible values only). */
function instancePatch(want: DesiredInstance, base: string): Record<string, unknown> {
  const configuration: Record<string, unknown> = {
    'event.notification.enabled': want.events === 'none' ? 'false' : 'true',
  }
  if (want.events !== 'none') {
    configuration['event.notification.callback.url'] = want.callbackUrl
    configuration['event.vendor.type'] = want.events
  }

  if (want.events === 'polling') {
    configuration['event.poller.refresh_interval'] = String(want.pollInterval ?? 15)
    configuration['event.poller.configuration'] = pollerConfiguration(want.poll ?? [...POLL_RESOURCES], base)
  }

  if (want.signatureKey) configuration['event.notification.signature.key'] = want.signatureKey
  Object.assign(configuration, want.configuration ?? {})
  return {configuration, ...(want.tags ? {tags: want.tags} : {})}
}

/**
 * Applies a plan in a safe order: instances first (webhooks need their callback URLs), then Pipedrive and Pipeliner
 * webhooks (a replace creates the new one before deleting the old one, so no event is missed), then the deletions of
 * pruned objects (webhooks before instances). Every item gets its own result; one failure does not stop the others,
 * except the webhooks of an instance that could not be created.
 */
export async function executePlan(plan: PlanItem[], clients: Clients, o: {base: string; existingPipedrive?: Webhook[]; log?: (line: string) => void}): Promise<ExecuteResult> {
  const results = new Map<PlanItem, ItemResult>()
  const out: ExecuteResult = {pipeliner: {created: [], deleted: []}, results: []}
  const log = o.log ?? (() => {})
  const ids = new Map<string, number>()
  const failedInstances = new Set<string>()
  const set = (item: PlanItem, r: Omit<ItemResult, 'item'>) => {
    results.set(item, {item, ...r})
    log(`${r.status === 'failed' ? '✗' : (r.status === 'skipped' ? '-' : '✓')} ${item.verb} ${item.kind} ${item.label}${r.error ? `: ${r.error.message}` : ''}`)
  }

  for (const item of plan) {
    if (item.verb === 'keep') {
      results.set(item, {id: (item.existing as {id: number | string} | undefined)?.id, item, status: 'unchanged'})
      if (item.kind === 'instance') ids.set((item.want as DesiredInstance).name, (item.existing as Instance).id)
    }
  }

  // 1. instances
  for (const item of plan.filter(p => p.kind === 'instance' && (p.verb === 'create' || p.verb === 'update'))) {
    const want = item.want as DesiredInstance
    try {
      const ce = need(clients.ce, 'Cloud Elements')
      if (item.verb === 'create') {
        const {instance} = await createInstance(ce, buildInstanceBody({
          callbackUrl: want.callbackUrl, config: want.configuration, email: want.login?.email, events: want.events, name: want.name,
          password: want.login?.password, poll: want.poll, pollInterval: want.pollInterval, signatureKey: want.signatureKey, tags: want.tags,
        }, o.base))
        ids.set(want.name, instance.id)
        set(item, {id: instance.id, status: 'done'})
      } else {
        const {id} = (item.existing as Instance)
        await ce.patchInstance(id, instancePatch(want, o.base))
        ids.set(want.name, id)
        set(item, {id, status: 'done'})
      }
    } catch (error) {
      failedInstances.add(want.name)
      set(item, {error: errorOf(error), status: 'failed'})
    }
  }

  // 2. Pipedrive webhooks
  let hooks = o.existingPipedrive ?? []
  for (const item of plan.filter(p => p.kind === 'pipedrive-webhook' && (p.verb === 'create' || p.verb === 'replace'))) {
    const want = item.want as DesiredPipedriveWebhook
    if (item.instance && failedInstances.has(item.instance)) {
      set(item, {error: {code: 'blocked', exit: ExitCode.unexpected, message: `instance "${item.instance}" was not applied`}, status: 'skipped'})
      continue
    }

    try {
      const pd = need(clients.pd, 'Pipedrive')
      const url = want.url ?? callbackUrl(o.base, ids.get(item.instance!)!)
      const res = await addWebhook(pd, {
        allowDuplicate: item.verb === 'replace',
        event: want.event,
        httpAuthPassword: want.auth?.password,
        httpAuthUser: want.auth?.user,
        name: want.name,
        url,
        userId: want.userId,
      }, hooks)
      hooks = [...hooks, res.webhook]
      if (item.verb === 'replace') await pd.deleteWebhook((item.existing as Webhook).id)
      set(item, {id: res.webhook.id, status: 'done'})
    } catch (error) {
      set(item, {error: errorOf(error), status: 'failed'})
    }
  }

  // 3. Pipeliner webhooks
  for (const item of plan.filter(p => p.kind === 'pipeliner-webhook' && (p.verb === 'create' || p.verb === 'replace'))) {
    const want = item.want as DesiredPipelinerWebhook
    try {
      const pl = need(clients.pl, 'Pipeliner')
      const created = await pl.createWebhook({
        events: want.events, insecure_ssl: want.insecureSsl, url: want.url, ...(want.signature ? {signature: want.signature} : {}), ...(want.options ? {options: want.options} : {}),
      })
      out.pipeliner.created.push(created.id)
      if (item.verb === 'replace') {
        await pl.deleteWebhook((item.existing as PipelinerWebhook).id)
        out.pipeliner.deleted.push((item.existing as PipelinerWebhook).id)
      }

      set(item, {id: created.id, status: 'done'})
    } catch (error) {
      set(item, {error: errorOf(error), status: 'failed'})
    }
  }

  // 4. deletions (pruned objects): webhooks before instances
  const order: Record<string, number> = {instance: 2, 'pipedrive-webhook': 0, 'pipeliner-webhook': 1}
  for (const item of plan.filter(p => p.verb === 'delete').sort((a, b) => order[a.kind] - order[b.kind])) {
    const {id} = (item.existing as {id: number | string})
    try {
      if (item.kind === 'pipedrive-webhook') await need(clients.pd, 'Pipedrive').deleteWebhook(id)
      else if (item.kind === 'pipeliner-webhook') {
        await need(clients.pl, 'Pipeliner').deleteWebhook(String(id))
        out.pipeliner.deleted.push(String(id))
      } else await need(clients.ce, 'Cloud Elements').deleteInstance(id)
      set(item, {id, status: 'done'})
    } catch (error) {
      if (error instanceof PdhooksError && error.status === 404) set(item, {id, status: 'done'})
      else set(item, {error: errorOf(error), status: 'failed'})
    }
  }

  out.results = plan.map(p => results.get(p) ?? {item: p, status: 'skipped'})
  return out
}
