import {callbackUrl} from './callback-url.js'
import {type ElementsClient} from './elements.js'
import {ExitCode, PdhooksError} from './errors.js'
import {parseEvent} from './events.js'
import {instanceCreateFlags} from './flags.js'
import {
  buildInstanceBody, createInstance, type EventsMode, type InstanceSpec, type InstanceView, viewInstance,
} from './instances.js'
import {type PipedriveClient, type Webhook} from './pipedrive.js'
import {addWebhook, deleteWebhooks, isActive} from './webhooks.js'

export type SetupStepName = 'check' | 'credentials' | 'instance' | 'webhooks'

export interface SetupOptions {
  base: string
  ce: ElementsClient
  /** Webhook events (default `*.*`). */
  events: string[]
  /** Reuse this instance instead of creating one. */
  instanceId?: string
  /** Progress lines (stderr). */
  log: (line: string) => void
  pd: PipedriveClient
  /** The instance to create when `instanceId` is not given. */
  spec?: InstanceSpec
  webhook: {httpAuthPassword?: string; httpAuthUser?: string; userId?: number; version?: string}
}

export interface SetupWebhook {
  active: boolean | null
  created: boolean
  event: string
  id: number
  version: string
}

export interface SetupState {
  callbackUrl?: string
  events: EventsMode
  instance?: InstanceView & {created: boolean}
  /** The raw instance token (kept out of every output; stored in the profile). */
  instanceToken?: string
  skipped?: string
  webhooks: SetupWebhook[]
}

/** A failed step: what exists, so the command can print the resume command or roll back. */
export class SetupError extends PdhooksError {
  readonly cause0: PdhooksError
  readonly state: SetupState
  readonly step: SetupStepName

  constructor(step: SetupStepName, cause: PdhooksError, state: SetupState) {
    super(`Setup failed at the ${step} step: ${cause.message}`, {
      code: cause.code, exit: cause.exit, hint: cause.hint, status: cause.status,
    })
    this.step = step
    this.state = state
    this.cause0 = cause
  }
}

const asPd = (error: unknown) => (error instanceof PdhooksError ? error : new PdhooksError(String((error as Error)?.message ?? error)))

/**
 * The documented workflow: credentials → instance (new, or reused) → callback URL → Pipedrive webhooks (idempotent)
 * → a live check that every webhook is listed and active. A failing step throws a SetupError carrying what exists.
 */
export async function runSetup(o: SetupOptions): Promise<SetupState> {
  const state: SetupState = {events: o.spec?.events ?? 'webhook', webhooks: []}
  let existing: Webhook[]
  let instances: Awaited<ReturnType<ElementsClient['listInstances']>>
  // 1. credentials: one cheap read each (nothing is created before both work)
  try {
    o.log('Checking credentials…')
    instances = await o.ce.listInstances()
    existing = await o.pd.listWebhooks()
  } catch (error) {
    throw new SetupError('credentials', asPd(error), state)
  }

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
      // running the same setup again reuses the instance it created (by name) instead of making a second one
      const same = instances.find(i => i.name === o.spec!.name && (i.element?.key ?? 'pipedrive') === 'pipedrive')
      if (same) {
        state.instance = {...viewInstance(same, o.base), created: false}
        state.events = state.instance.events === 'none' && o.spec.events !== 'none' ? o.spec.events : state.instance.events
        state.instanceToken = same.token
        o.log(`Instance "${o.spec.name}" already exists (id ${same.id}): using it. Pass another --name to create a new one.`)
      }
    }

    if (!state.instance && o.spec) {
      const {instance} = await createInstance(o.ce, buildInstanceBody(o.spec, o.base))
      state.instance = {...viewInstance(instance, o.base), created: true, events: o.spec.events}
      state.instanceToken = instance.token
      o.log(`Created instance ${instance.id} "${instance.name ?? o.spec.name}" (events: ${o.spec.events})`)
    }
  } catch (error) {
    throw new SetupError('instance', asPd(error), state)
  }

  // 3. callback URL
  if (!state.instance) throw new SetupError('instance', new PdhooksError('No instance to use.'), state)
  state.callbackUrl = callbackUrl(o.base, state.instance.id, state.instance.element ?? 'pipedrive')
  o.log(`Callback URL: ${state.callbackUrl}`)

  // 4. webhooks
  if (state.events !== 'webhook') {
    state.skipped = state.events === 'polling'
      ? 'Polling mode: the platform polls Pipedrive itself, so no Pipedrive webhook is registered.'
      : 'Events are off for this instance, so no Pipedrive webhook is registered.'
    o.log(state.skipped)
    return state
  }

  try {
    const parsed = o.events.map(e => parseEvent(e, {url: state.callbackUrl, version: o.webhook.version}))
    for (const ev of parsed) {
      const res = await addWebhook(o.pd, {
        event: ev,
        httpAuthPassword: o.webhook.httpAuthPassword,
        httpAuthUser: o.webhook.httpAuthUser,
        url: state.callbackUrl,
        userId: o.webhook.userId,
      }, existing)
      if (res.created) existing = [...existing, res.webhook]
      state.webhooks.push({
        active: isActive(res.webhook), created: res.created, event: `${ev.action}.${ev.object}`, id: res.webhook.id, version: ev.version,
      })
      o.log(`${res.created ? 'Created' : 'Kept existing'} webhook ${res.webhook.id}: ${ev.action}.${ev.object} (v${ev.version})`)
    }
  } catch (error) {
    throw new SetupError('webhooks', asPd(error), state)
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
    throw new SetupError('check', asPd(error), state)
  }

  return state
}

export interface RollbackResult {
  instance?: {error?: string; id: number; status: 'deleted' | 'failed'}
  webhooks: Array<{error?: string; id: number | string; status: string}>
}

/** Deletes what this run created (webhooks first, then the instance); never what existed before. */
export async function rollback(o: {ce: ElementsClient; pd: PipedriveClient}, state: SetupState): Promise<RollbackResult> {
  const created = state.webhooks.filter(w => w.created).map(w => w.id)
  const out: RollbackResult = {webhooks: []}
  if (created.length > 0) out.webhooks = await deleteWebhooks(o.pd, created, false)
  if (state.instance?.created) {
    try {
      await o.ce.deleteInstance(state.instance.id)
      out.instance = {id: state.instance.id, status: 'deleted'}
    } catch (error) {
      out.instance = {error: asPd(error).line, id: state.instance.id, status: 'failed'}
    }
  }

  return out
}

/** Flags of `setup` whose values are secrets: never repeated in a resume command (a variable stands in). */
export const SETUP_SECRET_FLAGS = new Set([
  'http-auth-password', 'org-secret', 'pipedrive-access-token', 'pipedrive-password', 'pipedrive-token', 'signature-key', 'user-secret',
])

/**
 * The exact command that resumes a failed setup: the same flags, with `--instance` once the instance exists (its
 * creation flags are then dropped), secrets replaced by variables, and `--yes`.
 */
export function resumeCommand(flags: Record<string, unknown>, o: {events: string[]; instanceId?: number; json: boolean}): string {
  const parts = ['pdhooks', 'setup']
  const q = (v: string) => (/^[\w./:@=-]+$/.test(v) ? v : `'${v.replaceAll("'", String.raw`'\''`)}'`)
  const skip = new Set(['event', 'instance', 'json', 'profile', 'rollback', 'timeout', 'yes'])
  if (o.instanceId !== undefined) {
    parts.push('--instance', String(o.instanceId))
    for (const k of Object.keys(instanceCreateFlags)) skip.add(k)
  }

  for (const e of o.events) parts.push('--event', q(e))
  for (const [k, v] of Object.entries(flags)) {
    if (skip.has(k) || v === undefined || v === false || (k === 'events' && v === 'webhook')) continue
    for (const one of Array.isArray(v) ? v : [v]) {
      if (v === true) parts.push(`--${k}`)
      else parts.push(`--${k}`, SETUP_SECRET_FLAGS.has(k) ? `"$${k.toUpperCase().replaceAll('-', '_')}"` : q(String(one)))
    }
  }

  if (typeof flags.profile === 'string') parts.push('--profile', q(flags.profile))
  if (typeof flags.timeout === 'number' && flags.timeout !== 30) parts.push('--timeout', String(flags.timeout))
  if (o.json) parts.push('--json')
  parts.push('--yes')
  return parts.join(' ')
}
