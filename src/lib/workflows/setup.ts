import {ExitCode, PdhooksError} from '../core/errors.js'
import {InterruptedError} from '../core/interrupt.js'
import {SECRET_CONFIG_KEY} from '../core/mask.js'
import {shellQuote} from '../core/shell.js'
import {callbackUrl} from '../elements/callback-url.js'
import {type ElementsClient, type Instance} from '../elements/client.js'
import {
  buildInstanceBody, compareInstance, createInstance, type EventsMode, type InstanceDifference, instancePatchBody, type InstanceSpec,
  type InstanceView, viewInstance,
} from '../elements/instances.js'
import {type PipedriveClient, type Webhook} from '../pipedrive/client.js'
import {parseEvent} from '../pipedrive/events.js'
import {
  addWebhook, deleteWebhooks, findIdentical, isActive, type WebhookIdentity,
} from '../pipedrive/webhooks.js'

export type SetupStepName = 'check' | 'credentials' | 'instance' | 'webhooks'

export interface SetupOptions {
  base: string
  ce: ElementsClient
  /** Called between steps: throws the InterruptedError once Ctrl-C / SIGTERM came. */
  checkpoint?: () => void
  /** Webhook events (default `*.*`). */
  events: string[]
  /** Reuse this instance instead of creating one. */
  instanceId?: string
  /** Progress lines (stderr). */
  log: (line: string) => void
  /** As soon as the instance exists (created, updated or reused): the command records it in the profile at once. */
  onInstance?: (state: SetupState) => Promise<void>
  pd: PipedriveClient
  /** Replace webhooks of the same identity whose settings differ (the new one first, then the old ones). */
  replace?: boolean
  /** The instance to create when `instanceId` is not given. */
  spec?: InstanceSpec
  /** The state to fill (read by an interruption report while the run goes on); a new one otherwise. */
  state?: SetupState
  /** PATCH an instance of the same name whose settings differ, instead of stopping with exit 5. */
  update?: boolean
  webhook: {httpAuthPassword?: string; httpAuthUser?: string; userId?: number; version?: string}
}

export interface SetupWebhook {
  active: boolean | null
  created: boolean
  event: string
  id: number
  /** Old webhooks of the same identity deleted by `--replace` after this one was created. */
  replaced?: Array<number | string>
  version: string
}

/** A create that is in flight, or whose outcome stayed unknown: what a rollback has to look up on the server. */
export interface PendingWebhook {
  event: string
  identity: WebhookIdentity
  kind: 'webhook'
  /** Absent while in flight; 'unknown' or 'not-found-yet' after an ambiguous failure. */
  outcome?: string
}

export interface PendingInstance {
  kind: 'instance'
  name: string
  outcome?: string
}

export type PendingCreate = PendingInstance | PendingWebhook

export interface SetupState {
  /** What existed before this run (ids), so that a lookup never takes an older object for one this run made. */
  before?: {instances: number[]; webhooks: number[]}
  callbackUrl?: string
  events: EventsMode
  instance?: InstanceView & {created: boolean; updated?: boolean}
  /** The raw instance token (kept out of every output; stored in the profile). */
  instanceToken?: string
  pending?: PendingCreate
  skipped?: string
  webhooks: SetupWebhook[]
}

export const newSetupState = (events: EventsMode = 'webhook'): SetupState => ({events, webhooks: []})

/** A failed step: what exists, so the command can print the resume command or roll back. */
export class SetupError extends PdhooksError {
  readonly state: SetupState
  readonly step: SetupStepName

  constructor(step: SetupStepName, cause: PdhooksError, state: SetupState) {
    super(`Setup failed at the ${step} step: ${cause.message}`, {
      code: cause.code, details: cause.details, exit: cause.exit, hint: cause.hint, status: cause.status,
    })
    this.step = step
    this.state = state
  }
}

/** Wraps a step's failure (an interruption goes through as it is). */
function stepFailed(step: SetupStepName, error: unknown, state: SetupState): Error {
  if (error instanceof InterruptedError || error instanceof SetupError) return error
  return new SetupError(step, PdhooksError.from(error), state)
}

/** How an instance's difference reads in a sentence. */
function differenceText(d: InstanceDifference): string {
  if (d.field === 'events') return `its events mode is ${d.have}, not ${d.want}`
  if (d.field === 'callbackUrl') return `its callback URL is ${d.have}, not ${d.want}`
  if (d.field === 'poll') return `it polls ${d.have}, not ${d.want}`
  if (d.field === 'pollInterval') return `it polls every ${d.have} min, not ${d.want}`
  if (d.field === 'tags') return `its tags are ${d.have}, not ${d.want}`
  if (d.field === 'element') return `it is a ${d.have} instance, not a pipedrive one`
  return `its ${d.field} is ${d.have}, not ${d.want}`
}

/**
 * The instance named `spec.name`: none (undefined: create it), one that matches (reuse it), or one whose visible
 * settings differ (exit 5 naming the differences, unless `update`: then the differences are returned to PATCH).
 * Two or more with that name: exit 5, ambiguous.
 */
function sameName(instances: Instance[], spec: InstanceSpec, update: boolean): undefined | {differences: InstanceDifference[]; instance: Instance} {
  const same = instances.filter(i => i.name === spec.name)
  if (same.length === 0) return undefined
  if (same.length > 1) {
    const ids = same.map(i => i.id)
    throw new PdhooksError(`Instance name "${spec.name}" is ambiguous: instances ${ids.join(', ')} have it.`, {
      code: 'ambiguous',
      details: {report: {ids}},
      exit: ExitCode.conflict,
      hint: `Pick one with --instance ID (e.g. --instance ${ids[0]}), or choose another --name.`,
    })
  }

  const [instance] = same
  const key = instance.element?.key ?? 'pipedrive'
  if (key !== 'pipedrive') {
    throw new PdhooksError(`An instance named "${spec.name}" exists (id ${instance.id}), but it is a ${key} instance, not a pipedrive one.`, {
      code: 'conflict', details: {report: {differences: [`element ${key}`], id: instance.id}}, exit: ExitCode.conflict, hint: 'Choose another --name.',
    })
  }

  const differences = compareInstance(instance, {
    callbackUrl: spec.callbackUrl ?? (spec.config?.['event.notification.callback.url'] as string | undefined),
    configuration: spec.config,
    events: spec.events,
    poll: spec.poll,
    pollInterval: spec.pollInterval,
    tags: spec.tags,
  })
  if (differences.length > 0 && !update) {
    throw new PdhooksError(`An instance named "${spec.name}" exists (id ${instance.id}) with other settings: ${differences.map(d => differenceText(d)).join('; ')}.`, {
      code: 'conflict',
      details: {report: {differences: differences.map(d => ({field: d.field, have: d.have, want: d.want})), id: instance.id}},
      exit: ExitCode.conflict,
      hint: `Pass --update to change it to these settings, --instance ${instance.id} to use it as it is, or choose another --name.`,
    })
  }

  return {differences, instance}
}

/**
 * After a failed create: keeps `state.pending` (with its outcome) only when the object may exist (the create's
 * outcome is unknown, or it was not found yet); a create that surely did not happen (a refusal, a conflict, a resend
 * limit reached with nothing made) leaves nothing to look up.
 */
function keepIfUncertain(state: SetupState, error: unknown): void {
  if (!state.pending) return
  const outcome = (error as PdhooksError | undefined)?.details?.outcome
  if (outcome === 'unknown' || outcome === 'not-found-yet') state.pending.outcome = outcome
  else state.pending = undefined
}

/**
 * The documented workflow: credentials → instance (new, reused by name when its settings match, updated with
 * `update`, or `instanceId`) → callback URL → Pipedrive webhooks (idempotent) → a live check that every webhook is
 * listed and active. Creates are never sent twice blindly (createInstance and addWebhook look them up after an
 * ambiguous failure); a create whose outcome stays unknown is left in `state.pending` for the report and the
 * rollback. A failing step throws a SetupError carrying what exists; `checkpoint` stops between steps.
 */
export async function runSetup(o: SetupOptions): Promise<SetupState> {
  const state = o.state ?? newSetupState()
  state.events = o.spec?.events ?? 'webhook'
  const checkpoint = o.checkpoint ?? (() => {})
  let existing: Webhook[]
  let instances: Instance[]
  // 1. credentials: one cheap read each (nothing is created before both work)
  try {
    o.log('Checking credentials…')
    instances = await o.ce.listInstances()
    existing = await o.pd.listWebhooks()
    state.before = {instances: instances.map(i => i.id), webhooks: existing.map(w => w.id)}
  } catch (error) {
    throw stepFailed('credentials', error, state)
  }

  checkpoint()
  // 2. instance
  try {
    if (o.instanceId) {
      const inst = await o.ce.getInstance(o.instanceId)
      state.instance = {...viewInstance(inst, o.base), created: false}
      state.events = state.instance.events
      state.instanceToken = inst.token
      o.log(`Using instance ${inst.id}${inst.name ? ` "${inst.name}"` : ''} (events: ${state.events})`)
    } else {
      if (!o.spec) throw new PdhooksError('Nothing to create: no instance specification.')
      const {spec} = o
      const found = sameName(instances, spec, Boolean(o.update))
      if (found && found.differences.length > 0) {
        const patched = await o.ce.patchInstance(found.instance.id, instancePatchBody({...spec, configuration: spec.config}, o.base))
        const inst = {...found.instance, ...(patched && typeof patched === 'object' && !Array.isArray(patched) ? patched : {}), id: found.instance.id}
        state.instance = {
          ...viewInstance(inst, o.base), created: false, events: spec.events, updated: true,
        }
        state.instanceToken = found.instance.token
        o.log(`Updated instance ${inst.id} "${spec.name}": ${found.differences.map(d => differenceText(d)).join('; ')} (now as asked).`)
      } else if (found) {
        state.instance = {...viewInstance(found.instance, o.base), created: false}
        state.events = state.instance.events
        state.instanceToken = found.instance.token
        o.log(`Instance "${spec.name}" already exists with these settings (id ${found.instance.id}): using it.`)
      } else {
        state.pending = {kind: 'instance', name: spec.name}
        const {instance, recovered} = await createInstance(o.ce, buildInstanceBody(spec, o.base), {existing: instances})
        state.pending = undefined
        state.instance = {...viewInstance(instance, o.base), created: true, events: spec.events}
        state.instanceToken = instance.token
        o.log(`Created instance ${instance.id} "${instance.name ?? spec.name}" (events: ${spec.events})${recovered ? ' (the platform failed to answer, but it was made: found by name)' : ''}`)
      }
    }
  } catch (error) {
    keepIfUncertain(state, error)
    throw stepFailed('instance', error, state)
  }

  // recorded in the profile at once: a later failure or Ctrl-C never loses it
  try {
    await o.onInstance?.(state)
  } catch (error) {
    throw stepFailed('instance', error, state)
  }

  // 3. callback URL
  state.callbackUrl = callbackUrl(o.base, state.instance.id, state.instance.element ?? 'pipedrive')
  o.log(`Callback URL: ${state.callbackUrl}`)
  checkpoint()

  // 4. webhooks
  if (state.events !== 'webhook') {
    state.skipped = state.events === 'polling'
      ? 'Polling mode: the platform polls Pipedrive itself, so no Pipedrive webhook is registered.'
      : 'Events are off for this instance, so no Pipedrive webhook is registered.'
    o.log(state.skipped)
    return state
  }

  try {
    const parsed = o.events.map(e => parseEvent(e, {target: 'elements', version: o.webhook.version}))
    for (const ev of parsed) {
      checkpoint()
      const event = `${ev.action}.${ev.object}`
      state.pending = {
        event, identity: {
          action: ev.action, object: ev.object, url: state.callbackUrl, version: ev.version,
        }, kind: 'webhook',
      }
      const res = await addWebhook(o.pd, {
        event: ev,
        httpAuthPassword: o.webhook.httpAuthPassword,
        httpAuthUser: o.webhook.httpAuthUser,
        replace: o.replace,
        url: state.callbackUrl,
        userId: o.webhook.userId,
      }, existing)
      state.pending = undefined
      if (res.created) existing = [...existing.filter(w => !res.replaced?.some(r => r.id === w.id)), res.webhook]
      state.webhooks.push({
        active: isActive(res.webhook), created: res.created, event, id: res.webhook.id, ...(res.replaced?.length ? {replaced: res.replaced.map(r => r.id)} : {}), version: ev.version,
      })
      o.log(`${res.created ? 'Created' : 'Kept existing'} webhook ${res.webhook.id}: ${event} (v${ev.version})${res.replaced?.length ? `, replacing ${res.replaced.map(r => r.id).join(', ')}` : ''}`)
    }
  } catch (error) {
    keepIfUncertain(state, error)
    throw stepFailed('webhooks', error, state)
  }

  // 5. live check
  try {
    const listed = new Map((await o.pd.listWebhooks()).map(w => [w.id, w]))
    const problems: string[] = []
    for (const w of state.webhooks) {
      const found = listed.get(w.id)
      w.active = found ? isActive(found) : null
      if (!found) problems.push(`webhook ${w.id} (${w.event}) is not listed`)
      else if (!w.active) problems.push(`webhook ${w.id} (${w.event}) is inactive`)
    }

    if (problems.length > 0) throw new PdhooksError(`Live check failed: ${problems.join('; ')}.`, {code: 'check_failed', exit: ExitCode.unexpected})
    o.log(`Live check: ${state.webhooks.length} webhook(s) listed and active.`)
  } catch (error) {
    throw stepFailed('check', error, state)
  }

  return state
}

export interface RollbackResult {
  /** What could not be determined (a lookup failed, or the service may still be creating it), and how to check. */
  undetermined: string[]
  instance?: {error?: string; found?: boolean; id: number; status: 'deleted' | 'failed'}
  webhooks: Array<{error?: string; found?: boolean; id: number | string; status: string}>
}

const why = (error: unknown) => PdhooksError.from(error).message.replace(/\.$/, '')

/**
 * Deletes what this run created (webhooks first, then the instance); never what existed before. A create whose
 * outcome was unknown is looked up on the server first (an instance by name, a webhook by identity, among those that
 * were not there before the run); what cannot be determined is said, with how to check.
 */
export async function rollback(o: {ce: ElementsClient; pd: PipedriveClient}, state: SetupState): Promise<RollbackResult> {
  const out: RollbackResult = {undetermined: [], webhooks: []}
  const before = {instances: new Set(state.before?.instances ?? []), webhooks: new Set(state.before?.webhooks ?? [])}
  const ids: Array<number | string> = state.webhooks.filter(w => w.created).map(w => w.id)
  const found = new Set<number | string>()
  const {pending} = state
  if (pending?.kind === 'webhook') {
    const what = `webhook ${pending.event} → ${pending.identity.url}`
    try {
      const made = findIdentical((await o.pd.listWebhooks()).filter(w => !before.webhooks.has(w.id) && !ids.includes(w.id)), pending.identity)
      if (made) {
        ids.push(made.id)
        found.add(made.id)
      } else if (pending.outcome === 'not-found-yet') {
        out.undetermined.push(`${what}: not found, but Pipedrive may still be creating it. Check in a moment with "pdhooks webhook list --url ${pending.identity.url}".`)
      }
    } catch (error) {
      out.undetermined.push(`whether ${what} was created: looking it up failed (${why(error)}). Check with "pdhooks webhook list --url ${pending.identity.url}".`)
    }
  }

  if (ids.length > 0) out.webhooks = (await deleteWebhooks(o.pd, ids, false)).map(r => (found.has(r.id) ? {...r, found: true} : r))
  let instanceId: number | undefined
  let instanceFound = false
  if (state.instance?.created) instanceId = state.instance.id
  else if (pending?.kind === 'instance') {
    try {
      const made = (await o.ce.listInstances()).find(i => i.name === pending.name && !before.instances.has(i.id))
      if (made) {
        instanceId = made.id
        instanceFound = true
      } else if (pending.outcome === 'not-found-yet') {
        out.undetermined.push(`instance "${pending.name}": not found, but the platform may still be creating it. Check in a moment with "pdhooks instance list".`)
      }
    } catch (error) {
      out.undetermined.push(`whether instance "${pending.name}" was created: looking it up failed (${why(error)}). Check with "pdhooks instance list".`)
    }
  }

  if (instanceId !== undefined) {
    try {
      await o.ce.deleteInstance(instanceId)
      out.instance = {id: instanceId, status: 'deleted', ...(instanceFound ? {found: true} : {})}
    } catch (error) {
      out.instance = {
        error: PdhooksError.from(error).line, id: instanceId, status: 'failed', ...(instanceFound ? {found: true} : {}),
      }
    }
  }

  return out
}

/** Is there anything a rollback would delete or look up? */
export const hasSomethingToRollBack = (state: SetupState): boolean =>
  Boolean(state.instance?.created || state.webhooks.some(w => w.created) || state.pending?.outcome)

/** The environment variable a resume command uses for a `--config` entry that holds a secret. */
const configVariable = (key: string): string => `PDHOOKS_CONFIG_${key.toUpperCase().replaceAll(/[^\dA-Z]+/g, '_').replaceAll(/^_|_$/g, '')}`

export interface ResumeVariable {
  /** What it stands for: `--pipedrive-password`, `--config pipedrive.api.token`. */
  for: string
  name: string
}

export interface Resume {
  command: string
  /** The variables the command reads: set them before running it. */
  variables: ResumeVariable[]
}

const dq = (v: string) => v.replaceAll(/["$\\`]/g, m => `\\${m}`)

/**
 * The exact command that resumes a failed setup from `values` (the flags, with what the wizard asked filled in): the
 * same values, with `--instance` once the instance exists (its creation flags are then dropped), every secret as the
 * environment variable that stands for it (a secret flag's own twin, `"$PDHOOKS_PIPEDRIVE_PASSWORD"`; a `--config`
 * secret `"key=$PDHOOKS_CONFIG_KEY"`), and `--yes`. Running it after setting those variables works as printed.
 * The command passes what only it knows of its flags: `instanceFlags`, the names dropped once the instance exists, and
 * `secretEnv`, the environment variable standing for a secret flag (undefined for a flag that is not a secret).
 */
export function resumeCommand(values: Record<string, unknown>, o: {events: string[]; instanceFlags: readonly string[]; instanceId?: number; json: boolean; secretEnv: (flag: string) => string | undefined}): Resume {
  const parts = ['pdhooks', 'setup']
  const variables: ResumeVariable[] = []
  const variable = (name: string, what: string) => {
    if (!variables.some(v => v.name === name)) variables.push({for: what, name})
    return `"$${name}"`
  }

  const skip = new Set(['event', 'instance', 'json', 'profile', 'rollback', 'timeout', 'yes'])
  if (o.instanceId !== undefined) {
    parts.push('--instance', String(o.instanceId))
    for (const k of [...o.instanceFlags, 'update']) skip.add(k)
  }

  for (const e of o.events) parts.push('--event', shellQuote(e))
  for (const [k, v] of Object.entries(values)) {
    if (skip.has(k) || v === undefined || v === null || v === false || v === '' || (k === 'events' && v === 'webhook')) continue
    if (v === true) {
      parts.push(`--${k}`)
      continue
    }

    for (const one of (Array.isArray(v) ? v : [v]).map(String)) {
      const env = o.secretEnv(k)
      if (env) parts.push(`--${k}`, variable(env, `--${k}`))
      else if (k === 'config') {
        const eq = one.indexOf('=')
        const key = eq > 0 ? one.slice(0, eq).trim() : ''
        if (key && SECRET_CONFIG_KEY.test(key)) {
          const name = configVariable(key)
          variable(name, `--config ${key}`)
          parts.push('--config', `"${dq(one.slice(0, eq))}=$${name}"`)
        } else parts.push('--config', shellQuote(one))
      } else parts.push(`--${k}`, shellQuote(one))
    }
  }

  if (typeof values.profile === 'string') parts.push('--profile', shellQuote(values.profile))
  if (typeof values.timeout === 'number' && values.timeout !== 30) parts.push('--timeout', String(values.timeout))
  if (o.json) parts.push('--json')
  parts.push('--yes')
  return {command: parts.join(' '), variables}
}
