import {
  elementsBase, elementsClient, pipedriveClient, pipelinerClient,
} from '../../core/clients.js'
import {configDir, ConfigStore, Settings} from '../../core/config.js'
import {ExitCode, PdhooksError} from '../../core/errors.js'
import {registerSecret} from '../../core/mask.js'
import {
  type Clients, errorOf, executePlan, type ExecuteProgress,
} from './execute.js'
import {type DesiredInstance, type DesiredState, loadDesiredState} from './file.js'
import {type ActualState, computePlan, type PlanItem} from './plan.js'

export interface PlanItemView {
  id?: number | string
  instance?: string
  kind: PlanItem['kind']
  label: string
  /** The stack recorded on the existing object (null: none). */
  owner?: null | string
  reason?: string
  verb: PlanItem['verb']
}

export interface ResultView extends PlanItemView {
  error?: {code: string; exit: number; message: string; outcome?: string}
  status: 'done' | 'failed' | 'skipped' | 'unchanged'
}

export interface ApplyProfileResult {
  error?: {code: string; exit: number; message: string}
  /** Things to know that are not errors (e.g. ownership recorded by an older pdhooks). */
  notes?: string[]
  plan: PlanItemView[]
  profile: string
  results?: Array<ResultView & {item: PlanItemView}>
}

export async function loadDesired(file: string): Promise<DesiredState> {
  const desired = await loadDesiredState(file)
  for (const s of desired.secrets) registerSecret(s)
  return desired
}

const view = (i: PlanItem): PlanItemView => ({
  ...((i.existing as {id?: number | string} | undefined)?.id === undefined ? {} : {id: (i.existing as {id: number | string}).id}),
  ...(i.instance ? {instance: i.instance} : {}),
  kind: i.kind,
  label: i.label,
  ...(i.owner === undefined ? {} : {owner: i.owner}),
  ...(i.reason ? {reason: i.reason} : {}),
  verb: i.verb,
})

export interface PlanContext {
  configDir?: string
  profile: string
  prune?: boolean
  timeoutMs: number
  userAgent: string
}

export interface ExecuteContext {
  /** Progress lines as each object is applied. */
  log?: (line: string) => void
  /** Filled while executing: what an interruption reports. */
  progress?: ExecuteProgress
  /** Aborted on Ctrl-C: no new object is started. */
  signal?: AbortSignal
}

/** One profile's plan: what it shows (`result`, also the --json output), and `execute()`, which applies it. */
export interface ProfilePlan {
  /** Applies the plan (the clients and the state read while planning); a plan that failed returns its result as is. */
  execute(ctx?: ExecuteContext): Promise<ApplyProfileResult>
  readonly result: ApplyProfileResult
}

/** Plans the desired state for one profile. Errors are reported in the result, not thrown. */
export async function planProfile(desired: DesiredState, ctx: PlanContext): Promise<ProfilePlan> {
  const out: ApplyProfileResult = {plan: [], profile: ctx.profile}
  const failed = (): ProfilePlan => ({execute: async () => out, result: out})
  const store = new ConfigStore(configDir(ctx.configDir))
  const clients: Clients = {}
  const actual: ActualState = {}
  let base: string
  let items: PlanItem[]
  try {
    const settings = new Settings({profile: ctx.profile, store})
    const opts = {timeoutMs: ctx.timeoutMs, userAgent: ctx.userAgent}
    const {sections} = desired
    base = await elementsBase(settings)
    if (sections.instances) {
      clients.ce = await elementsClient(settings, opts)
      actual.instances = await clients.ce.listInstances()
    }

    if (sections.instances || sections.pipedrive) {
      clients.pd = await pipedriveClient(settings, opts)
      actual.pipedrive = await clients.pd.listWebhooks()
    }

    if (sections.pipeliner) {
      clients.pl = await pipelinerClient(settings, opts)
      actual.pipeliner = await clients.pl.listAll()
    }

    const legacy = (await store.getProfile(ctx.profile))?.owned?.pipeliner ?? []
    if (legacy.length > 0) {
      out.notes = [`Profile "${ctx.profile}" lists ${legacy.length} Pipeliner webhook(s) an older pdhooks created (${legacy.join(', ')}). Ownership is now recorded on the server (the file's stack), so --prune never deletes these; delete them with "pdhooks pipeliner webhook delete ID…" if they are not wanted. The list is removed from the profile when this plan is applied.`]
    }

    items = computePlan(desired, actual, {base, prune: ctx.prune})
    for (const i of items) {
      const want = i.want as DesiredInstance | undefined
      if (i.kind === 'instance' && i.verb === 'create' && !(want?.login?.email && want.login.password) && !want?.configuration?.['pipedrive.api.token']) {
        throw new PdhooksError(`${want!.where}: instance "${want!.name}" must be created, but it has no login {email, password}.`, {
          code: 'invalid_file', exit: ExitCode.usage, hint: 'Add login (or configuration pipedrive.api.token) to the instance.',
        })
      }
    }

    out.plan = items.map(i => view(i))
  } catch (error) {
    out.error = errorOf(error)
    return failed()
  }

  return {
    async execute(run: ExecuteContext = {}): Promise<ApplyProfileResult> {
      const res = await executePlan(items, clients, {
        base,
        existingPipedrive: actual.pipedrive,
        existingPipeliner: actual.pipeliner,
        log: run.log,
        progress: run.progress,
        signal: run.signal,
        stack: desired.stack,
      })
      // ownership lives on the server now: the list an older pdhooks kept in the profile goes (see notes)
      if (out.notes?.length) {
        await store.updateProfile(ctx.profile, p => {
          const rest = {...p}
          delete rest.owned
          return rest
        })
      }

      return {
        ...out,
        results: res.results.map(r => ({
          ...view(r.item), item: view(r.item), status: r.status, ...(r.id === undefined ? {} : {id: r.id}), ...(r.error ? {error: r.error} : {}),
        })),
      }
    },
    result: out,
  }
}
