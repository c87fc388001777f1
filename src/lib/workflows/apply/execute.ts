import {createChecked} from '../../core/checked-create.js'
import {ExitCode, PdhooksError} from '../../core/errors.js'
import {callbackUrl} from '../../elements/callback-url.js'
import {type ElementsClient, type Instance} from '../../elements/client.js'
import {buildInstanceBody, createInstance, instancePatchBody} from '../../elements/instances.js'
import {type PipedriveClient, type Webhook} from '../../pipedrive/client.js'
import {addWebhook} from '../../pipedrive/webhooks.js'
import {type NewPipelinerWebhook, type PipelinerClient, type PipelinerWebhook} from '../../pipeliner/client.js'
import {findCreatedPipeliner} from '../../pipeliner/webhooks.js'
import {type DesiredInstance, type DesiredPipedriveWebhook, type DesiredPipelinerWebhook} from './file.js'
import {type PlanItem} from './plan.js'
import {
  markTags, stackTag, stackWebhookName, withStackOptions,
} from './stack.js'

export type ResultStatus = 'done' | 'failed' | 'skipped' | 'unchanged'

export interface ItemError {
  code: string
  exit: number
  message: string
  /** For a create that failed ambiguously: 'unknown' | 'not-found-yet' | 'not-created' (see checked-create.ts). */
  outcome?: string
}

export interface ItemResult {
  error?: ItemError
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
  /** True when the run stopped early on a signal (the results of the items never started are 'skipped'). */
  interrupted: boolean
  results: ItemResult[]
}

/** Where a run is, for the report of an interruption: the results so far and what is in flight. */
export interface ExecuteProgress {
  /** The items that change something, set when the run starts. */
  changes?: PlanItem[]
  done: ItemResult[]
  inFlight: Set<PlanItem>
}

export interface ExecuteOptions {
  base: string
  /** The Pipedrive webhooks listed when planning (a create's lookup ignores them). */
  existingPipedrive?: Webhook[]
  /** The Pipeliner webhooks listed when planning (a create's lookup ignores them). */
  existingPipeliner?: PipelinerWebhook[]
  log?: (line: string) => void
  progress?: ExecuteProgress
  /** Aborted (Ctrl-C): no new item starts; the one in flight finishes. */
  signal?: AbortSignal
  /** The file's stack, recorded on every object created (see stack.ts). */
  stack?: string
}

/** A failure as apply reports it (per object, and per profile): the one normalisation, PdhooksError.from. */
export const errorOf = (error: unknown): ItemError => {
  const e = PdhooksError.from(error)
  const outcome = e.details?.outcome
  return {
    code: e.code, exit: e.exit, message: e.line, ...(typeof outcome === 'string' ? {outcome} : {}),
  }
}

function need<T>(client: T | undefined, what: string): T {
  if (!client) throw new PdhooksError(`No ${what} credentials for this profile.`, {code: 'no_credentials', exit: ExitCode.auth})
  return client
}

/** After a replace's create: deletes the old object; a failure says that the new one exists and both deliver. */
async function deleteReplaced(made: number | string, old: number | string, del: (id: number | string) => Promise<void>, what: string): Promise<void> {
  try {
    await del(old)
  } catch (error) {
    if (error instanceof PdhooksError && error.status === 404) return
    const e = errorOf(error)
    throw new PdhooksError(`Created ${what} ${made}, but the old one (${old}) could not be deleted, so both deliver: ${e.message}`, {
      code: 'partial_failure', details: {created: made}, exit: e.exit,
    })
  }
}

/**
 * Applies a plan in a safe order: instances first (webhooks need their callback URLs), then Pipedrive and Pipeliner
 * webhooks (a replace creates the new one before deleting the old one, so no event is missed), then the deletions of
 * pruned objects (webhooks before instances). Every item gets its own result; one failure does not stop the others,
 * except the webhooks of an instance that could not be created. No create is sent twice blindly: after an ambiguous
 * failure the object is looked up (createChecked). Once `signal` is aborted no new item starts.
 */
export async function executePlan(plan: PlanItem[], clients: Clients, o: ExecuteOptions): Promise<ExecuteResult> {
  const results = new Map<PlanItem, ItemResult>()
  const progress = o.progress ?? {done: [], inFlight: new Set()}
  progress.changes = plan.filter(p => p.verb !== 'keep')
  const log = o.log ?? (() => {})
  const ids = new Map<string, number>()
  const failedInstances = new Set<string>()
  const set = (item: PlanItem, r: Omit<ItemResult, 'item'>) => {
    const result = {item, ...r}
    results.set(item, result)
    progress.inFlight.delete(item)
    progress.done.push(result)
    log(`${r.status === 'failed' ? '✗' : (r.status === 'skipped' ? '-' : '✓')} ${item.verb} ${item.kind} ${item.label}${r.error ? `: ${r.error.message}` : ''}`)
  }

  /** Runs the items of one step in order, each marked in flight while it runs, until the signal comes. */
  const each = async (items: PlanItem[], fn: (item: PlanItem) => Promise<void>) => {
    for (const item of items) {
      if (o.signal?.aborted) return
      progress.inFlight.add(item)
      await fn(item)
      progress.inFlight.delete(item)
    }
  }

  for (const item of plan) {
    if (item.verb === 'keep') {
      results.set(item, {id: (item.existing as {id: number | string} | undefined)?.id, item, status: 'unchanged'})
      if (item.kind === 'instance') ids.set((item.want as DesiredInstance).name, (item.existing as Instance).id)
    }
  }

  // 1. instances
  await each(plan.filter(p => p.kind === 'instance' && (p.verb === 'create' || p.verb === 'update')), async item => {
    const want = item.want as DesiredInstance
    try {
      const ce = need(clients.ce, 'Cloud Elements')
      if (item.verb === 'create') {
        const tags = o.stack ? [...(want.tags ?? []), stackTag(o.stack)] : want.tags
        const {instance} = await createInstance(ce, buildInstanceBody({
          callbackUrl: want.callbackUrl, config: want.configuration, email: want.login?.email, events: want.events, name: want.name,
          password: want.login?.password, poll: want.poll, pollInterval: want.pollInterval, signatureKey: want.signatureKey, tags,
        }, o.base))
        ids.set(want.name, instance.id)
        set(item, {id: instance.id, status: 'done'})
      } else {
        const have = item.existing as Instance
        await ce.patchInstance(have.id, instancePatchBody(want, o.base, markTags(have.tags)))
        ids.set(want.name, have.id)
        set(item, {id: have.id, status: 'done'})
      }
    } catch (error) {
      failedInstances.add(want.name)
      set(item, {error: errorOf(error), status: 'failed'})
    }
  })

  // 2. Pipedrive webhooks
  let hooks = o.existingPipedrive ?? []
  await each(plan.filter(p => p.kind === 'pipedrive-webhook' && (p.verb === 'create' || p.verb === 'replace')), async item => {
    const want = item.want as DesiredPipedriveWebhook
    if (item.instance && failedInstances.has(item.instance)) {
      set(item, {error: {code: 'blocked', exit: ExitCode.unexpected, message: `instance "${item.instance}" was not applied`}, status: 'skipped'})
      return
    }

    try {
      const pd = need(clients.pd, 'Pipedrive')
      const url = want.url ?? callbackUrl(o.base, ids.get(item.instance!)!)
      const res = await addWebhook(pd, {
        allowDuplicate: item.verb === 'replace',
        event: want.event,
        httpAuthPassword: want.auth?.password,
        httpAuthUser: want.auth?.user,
        name: o.stack ? stackWebhookName(o.stack, want.name ?? `${want.event.action}.${want.event.object}`) : want.name,
        url,
        userId: want.userId,
      }, hooks)
      hooks = [...hooks, res.webhook]
      if (item.verb === 'replace') await deleteReplaced(res.webhook.id, (item.existing as Webhook).id, id => pd.deleteWebhook(id), 'webhook')
      set(item, {id: res.webhook.id, status: 'done'})
    } catch (error) {
      set(item, {error: errorOf(error), status: 'failed'})
    }
  })

  // 3. Pipeliner webhooks
  const before = o.existingPipeliner ?? []
  await each(plan.filter(p => p.kind === 'pipeliner-webhook' && (p.verb === 'create' || p.verb === 'replace')), async item => {
    const want = item.want as DesiredPipelinerWebhook
    try {
      const pl = need(clients.pl, 'Pipeliner')
      const options = withStackOptions(want.options, o.stack)
      const body: NewPipelinerWebhook = {
        events: want.events, insecure_ssl: want.insecureSsl, url: want.url, ...(want.signature ? {signature: want.signature} : {}), ...(options ? {options} : {}),
      }
      const made = await createChecked({
        check: 'pdhooks pipeliner webhook list',
        create: () => pl.createWebhook(body),
        find: async () => findCreatedPipeliner(await pl.listAll(), before, want),
        what: 'Pipeliner webhook',
      })
      if (item.verb === 'replace') await deleteReplaced(made.value.id, (item.existing as PipelinerWebhook).id, id => pl.deleteWebhook(String(id)), 'Pipeliner webhook')
      set(item, {id: made.value.id, status: 'done'})
    } catch (error) {
      set(item, {error: errorOf(error), status: 'failed'})
    }
  })

  // 4. deletions (pruned objects): webhooks before instances
  const order: Record<string, number> = {instance: 2, 'pipedrive-webhook': 0, 'pipeliner-webhook': 1}
  await each(plan.filter(p => p.verb === 'delete').sort((a, b) => order[a.kind] - order[b.kind]), async item => {
    const {id} = (item.existing as {id: number | string})
    try {
      if (item.kind === 'pipedrive-webhook') await need(clients.pd, 'Pipedrive').deleteWebhook(id)
      else if (item.kind === 'pipeliner-webhook') await need(clients.pl, 'Pipeliner').deleteWebhook(String(id))
      else await need(clients.ce, 'Cloud Elements').deleteInstance(id)
      set(item, {id, status: 'done'})
    } catch (error) {
      if (error instanceof PdhooksError && error.status === 404) set(item, {id, status: 'done'})
      else set(item, {error: errorOf(error), status: 'failed'})
    }
  })

  const interrupted = o.signal?.aborted === true
  return {
    interrupted,
    results: plan.map(p => results.get(p) ?? {
      item: p,
      status: 'skipped',
      ...(interrupted ? {error: {code: 'interrupted', exit: ExitCode.interrupted, message: 'not started: the run was interrupted'}} : {}),
    }),
  }
}
