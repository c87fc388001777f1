import type {Settings} from '../core/config.js'

import {createChecked} from '../core/checked-create.js'
import {type ClientOptions, elementsClient} from '../core/clients.js'
import {
  ExitCode, notFoundError, PdhooksError, usageError,
} from '../core/errors.js'
import {isSecretKey, mask, registerConfigSecret} from '../core/mask.js'
import {closest} from '../core/suggest.js'
import {printable} from '../core/text.js'
import {checkTargetUrl, isSapHost} from '../core/urls.js'
import {type Webhook} from '../pipedrive/client.js'
import {callbackUrl, parseCallbackUrl} from './callback-url.js'
import {
  type ElementsClient, type Instance, type NewInstance, tagNames,
} from './client.js'

export type EventsMode = 'none' | 'polling' | 'webhook'
export const EVENTS_MODES: EventsMode[] = ['webhook', 'polling', 'none']
export const POLL_RESOURCES = ['accounts', 'contacts', 'opportunities'] as const
const DEFAULT_POLL_INTERVAL = 15
const MASKED = '********'

/** Configuration keys whose values are secrets (the platform answers them as `********`). */
const SECRET_CONFIG = /password|token|secret|signature\.key|api\.key/i

export interface InstanceSpec {
  callbackUrl?: string
  /** `--config key=value` entries: override anything. */
  config?: Record<string, unknown>
  email?: string
  events: EventsMode
  name: string
  password?: string
  poll?: string[]
  pollInterval?: number
  signatureKey?: string
  tags?: string[]
}

/**
 * `event.poller.configuration` for the given resources, with each platform's documented date keys:
 * `updatedDateField`… (Cloud Elements) or `updatedAtField`… (SAP Open Connectors hosts).
 */
export function pollerConfiguration(resources: string[], elementsBase: string): Record<string, unknown> {
  const sap = isSapHost(elementsBase)
  const out: Record<string, unknown> = {}
  for (const r of resources) {
    out[r] = {
      datesConfiguration: sap
        ? {
          createdAtField: 'add_time', createdAtFormat: 'yyyy-MM-dd HH:mm:ss', updatedAtField: 'update_time', updatedAtFormat: 'yyyy-MM-dd HH:mm:ss',
        }
        : {
          createdDateField: 'add_time', createdDateFormat: 'yyyy-MM-dd HH:mm:ss', updatedDateField: 'update_time', updatedDateFormat: 'yyyy-MM-dd HH:mm:ss',
        },
      idField: 'id',
      url: `/hubs/crm/${r}?where=update_time>'\${date:yyyy-MM-dd HH:mm:ss}'`,
    }
  }

  return out
}

/**
 * Resources the poller cannot watch: anything but the documented ones (accounts, contacts, opportunities); another
 * resource needs its whole `event.poller.configuration` entry (`--config`).
 */
export function unknownPollResources(resources: string[]): string[] {
  return resources.filter(r => !(POLL_RESOURCES as readonly string[]).includes(r))
}

/** Parses `--config key=value` entries; a value that looks like a JSON object or array is parsed. */
export function parseConfigEntries(entries: string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const entry of entries) registerConfigSecret(entry)
  for (const entry of entries) {
    const eq = entry.indexOf('=')
    if (eq <= 0) throw usageError(`Invalid --config "${entry}": expected key=value.`, 'Example: --config pipedrive.api.token=abc or --config \'event.poller.configuration={"contacts":{…}}\'.')
    const key = entry.slice(0, eq).trim()
    const raw = entry.slice(eq + 1)
    const t = raw.trim()
    if (t.startsWith('{') || t.startsWith('[')) {
      try {
        out[key] = JSON.parse(t)
      } catch (error) {
        throw usageError(`Invalid JSON in --config ${key}: ${(error as Error).message}.`)
      }
    } else out[key] = raw
  }

  return out
}

/** The `POST /instances` body the platform documents for the Pipedrive element. */
export function buildInstanceBody(spec: InstanceSpec, elementsBase: string): NewInstance {
  if (!EVENTS_MODES.includes(spec.events)) throw usageError(`Invalid --events "${spec.events}".`, 'Use webhook, polling or none.')
  const configuration: Record<string, unknown> = {}
  if (spec.email !== undefined) configuration['pipedrive.email'] = spec.email
  if (spec.password !== undefined) configuration['pipedrive.password'] = spec.password
  configuration['event.notification.enabled'] = spec.events === 'none' ? 'false' : 'true'
  if (spec.events !== 'none') {
    configuration['event.notification.callback.url'] = spec.callbackUrl
    configuration['event.vendor.type'] = spec.events
  }

  if (spec.signatureKey) configuration['event.notification.signature.key'] = spec.signatureKey
  if (spec.events === 'polling') {
    const interval = spec.pollInterval ?? DEFAULT_POLL_INTERVAL
    configuration['event.poller.refresh_interval'] = String(interval)
    configuration['event.poller.configuration'] = pollerConfiguration(spec.poll?.length ? spec.poll : [...POLL_RESOURCES], elementsBase)
  }

  Object.assign(configuration, spec.config ?? {})
  // values the platform masked are never re-sent
  for (const [k, v] of Object.entries(configuration)) if (v === MASKED) delete configuration[k]
  return {
    configuration, element: {key: 'pipedrive'}, name: spec.name, tags: spec.tags ?? [],
  }
}

/** Checks the values an instance needs; returns the flags that are missing. */
function missingForCreate(spec: Partial<InstanceSpec>): string[] {
  const missing: string[] = []
  const hasToken = spec.config && Object.keys(spec.config).includes('pipedrive.api.token')
  if (!spec.name) missing.push('--name')
  if (!hasToken && !spec.email) missing.push('--pipedrive-email')
  if (!hasToken && !spec.password) missing.push('--pipedrive-password')
  if (spec.events !== 'none' && !spec.callbackUrl && !spec.config?.['event.notification.callback.url']) missing.push('--callback-url')
  return missing
}

export function eventsMode(i: Instance): EventsMode {
  const c = i.configuration ?? {}
  const enabled = String(c['event.notification.enabled'] ?? i.eventsEnabled ?? 'false') === 'true'
  if (!enabled) return 'none'
  return c['event.vendor.type'] === 'polling' ? 'polling' : 'webhook'
}

export interface InstanceView {
  callbackUrl: string
  configuration: Record<string, unknown>
  createdDate: null | string
  disabled: boolean | null
  element: null | string
  events: EventsMode
  id: number
  name: null | string
  notificationUrl: null | string
  tags: string[]
  token: null | string
  valid: boolean | null
}

/** The masked view of an instance used by every output path, with its Pipedrive webhook callback URL. */
export function viewInstance(i: Instance, elementsBase: string): InstanceView {
  const configuration: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(i.configuration ?? {})) {
    configuration[k] = typeof v === 'string' && (v === MASKED || SECRET_CONFIG.test(k) || isSecretKey(k)) ? mask(v) : v
  }

  const notify = i.configuration?.['event.notification.callback.url']
  return {
    callbackUrl: callbackUrl(elementsBase, i.id, i.element?.key ?? 'pipedrive'),
    configuration,
    createdDate: typeof i.createdDate === 'string' ? i.createdDate : null,
    disabled: typeof i.disabled === 'boolean' ? i.disabled : null,
    element: i.element?.key ?? null,
    events: eventsMode(i),
    id: i.id,
    name: i.name ?? null,
    notificationUrl: typeof notify === 'string' ? notify : null,
    tags: tagNames(i.tags),
    token: i.token ? mask(i.token) : null,
    valid: typeof i.valid === 'boolean' ? i.valid : null,
  }
}

/** The visible settings of an instance to compare (what `setup` and `apply` ask for). */
export interface InstanceSettings {
  callbackUrl?: string
  configuration?: Record<string, unknown>
  events: EventsMode
  poll?: string[]
  pollInterval?: number
  signatureKey?: string
  tags?: string[]
}

/** One visible setting in which an existing instance differs from what was asked. */
export interface InstanceDifference {
  /** events, callbackUrl, poll, pollInterval, tags, or a configuration key. */
  field: string
  have: string
  want: string
}

const shown = (v: unknown): string => (v === undefined || v === null || v === '' ? '-' : (typeof v === 'string' ? v : JSON.stringify(v)))

/**
 * How an existing instance differs from `want`, in the settings the platform shows: events mode, callback URL,
 * polled resources and interval, tags (when asked; `ignoreTag` leaves some out, e.g. apply's stack mark) and
 * configuration entries. Secrets come back masked: they are not compared.
 */
export function compareInstance(have: Instance, want: InstanceSettings, o: {ignoreTag?: (tag: string) => boolean} = {}): InstanceDifference[] {
  const c = have.configuration ?? {}
  const diff: InstanceDifference[] = []
  const mode = eventsMode(have)
  if (mode !== want.events) diff.push({field: 'events', have: mode, want: want.events})
  const cb = c['event.notification.callback.url']
  if (want.events !== 'none' && want.callbackUrl && cb !== want.callbackUrl) diff.push({field: 'callbackUrl', have: shown(cb), want: want.callbackUrl})
  if (want.events === 'polling') {
    const poller = c['event.poller.configuration']
    const havePoll = poller && typeof poller === 'object' ? Object.keys(poller).sort().join(',') : (typeof poller === 'string' ? poller : '')
    const wantPoll = [...(want.poll?.length ? want.poll : POLL_RESOURCES)].sort().join(',')
    if (typeof poller !== 'string' && havePoll !== wantPoll) diff.push({field: 'poll', have: havePoll || '-', want: wantPoll})
    const interval = String(want.pollInterval ?? DEFAULT_POLL_INTERVAL)
    if (String(c['event.poller.refresh_interval'] ?? '') !== interval) diff.push({field: 'pollInterval', have: shown(c['event.poller.refresh_interval']), want: interval})
  }

  if (want.tags) {
    const tags = tagNames(have.tags).filter(t => !o.ignoreTag?.(t))
    if ([...tags].sort().join(',') !== [...want.tags].sort().join(',')) diff.push({field: 'tags', have: tags.join(', ') || '-', want: want.tags.join(', ') || '-'})
  }

  for (const [k, v] of Object.entries(want.configuration ?? {})) {
    const cur = c[k]
    if (cur === MASKED || SECRET_CONFIG.test(k) || isSecretKey(k)) continue
    if (JSON.stringify(cur) !== JSON.stringify(v)) diff.push({field: k, have: shown(cur), want: shown(v)})
  }

  return diff
}

/**
 * The PATCH body that gives an existing instance `want`'s settings (visible ones, and the signature key when given).
 * `keepTags` are added to `want.tags` (an update never drops them).
 */
export function instancePatchBody(want: InstanceSettings, base: string, keepTags: string[] = []): Record<string, unknown> {
  const configuration: Record<string, unknown> = {
    'event.notification.enabled': want.events === 'none' ? 'false' : 'true',
  }
  if (want.events !== 'none') {
    configuration['event.notification.callback.url'] = want.callbackUrl
    configuration['event.vendor.type'] = want.events
  }

  if (want.events === 'polling') {
    configuration['event.poller.refresh_interval'] = String(want.pollInterval ?? DEFAULT_POLL_INTERVAL)
    configuration['event.poller.configuration'] = pollerConfiguration(want.poll?.length ? want.poll : [...POLL_RESOURCES], base)
  }

  if (want.signatureKey) configuration['event.notification.signature.key'] = want.signatureKey
  Object.assign(configuration, want.configuration ?? {})
  return {configuration, ...(want.tags ? {tags: [...want.tags, ...keepTags]} : {})}
}

/** Pipedrive webhooks aimed at an instance's callback URL (decoded id, any host form). */
export function webhooksForInstance(hooks: Webhook[], instanceId: number | string): Webhook[] {
  return hooks.filter(w => parseCallbackUrl(w.subscription_url)?.instanceId === String(instanceId))
}

export interface CreateResult {
  instance: Instance
  recovered?: boolean
}

export interface CreateInstanceOptions {
  /** Create even when instances with the same name exist. */
  allowDuplicate?: boolean
  /** The instances as just listed (saves a request); listed here otherwise. */
  existing?: Instance[]
}

/** Exit 5: instances with this name exist (`instance create` without --allow-duplicate). */
export function nameConflict(name: string, same: Instance[]): PdhooksError {
  const ids = same.map(i => i.id)
  return new PdhooksError(`An instance named "${name}" already exists (id${ids.length > 1 ? 's' : ''} ${ids.join(', ')}).`, {
    code: 'conflict',
    details: {report: {ids}},
    exit: ExitCode.conflict,
    hint: `Use it (pdhooks webhook add '*.*' --instance ${ids[0]}), choose another --name, or pass --allow-duplicate to create another one.`,
  })
}

/**
 * `POST /instances`, after checking that no instance has the same name (exit 5 unless `allowDuplicate`). Never resent
 * blindly: after a timeout or a 429/5xx answer the instances are listed again, and one with the same name that was not
 * there before is taken as created (createChecked).
 */
export async function createInstance(client: ElementsClient, body: NewInstance, o: CreateInstanceOptions = {}): Promise<CreateResult> {
  const before = o.existing ?? await client.listInstances()
  if (!o.allowDuplicate) {
    const same = before.filter(i => i.name === body.name)
    if (same.length > 0) throw nameConflict(body.name, same)
  }

  const old = new Set(before.map(i => i.id))
  const made = await createChecked({
    check: 'pdhooks instance list',
    create: () => client.createInstance(body),
    find: async () => (await client.listInstances()).find(i => i.name === body.name && !old.has(i.id)),
    what: 'instance',
  })
  return {instance: made.value, ...(made.recovered ? {recovered: true} : {})}
}

export interface InstanceFlags {
  'callback-url'?: string
  config?: string[]
  events?: string
  name?: string
  'pipedrive-email'?: string
  'pipedrive-password'?: string
  poll?: string
  'poll-interval'?: number
  'signature-key'?: string
  tag?: string[]
}

export interface Asker {
  input(message: string, opts?: {default?: string; validate?: (v: string) => boolean | string}): Promise<string>
  password(message: string): Promise<string>
}

/**
 * The instance to create from flags and PDHOOKS_PIPEDRIVE_EMAIL / PDHOOKS_PIPEDRIVE_PASSWORD; what is still missing is
 * asked through `ask` (a terminal) or is a usage error naming the flags.
 */
export async function collectInstanceSpec(flags: InstanceFlags, ask?: Asker): Promise<InstanceSpec> {
  const config = parseConfigEntries(flags.config)
  const events = (flags.events ?? 'webhook') as EventsMode
  if (!EVENTS_MODES.includes(events)) throw usageError(`Invalid --events "${flags.events}".`, 'Use webhook, polling or none.')
  const poll = flags.poll?.split(',').map(s => s.trim()).filter(Boolean)
  const unknown = unknownPollResources(poll ?? [])
  if (unknown.length > 0) {
    const guess = unknown.length === 1 ? closest(unknown[0], POLL_RESOURCES) : undefined
    throw usageError(
      `Unknown --poll resource${unknown.length === 1 ? '' : 's'} ${unknown.map(r => `"${printable(r)}"`).join(', ')}.`,
      `${guess ? `Did you mean "${guess}"? ` : ''}Valid resources: ${POLL_RESOURCES.join(', ')}; for another, give the whole poller with --config 'event.poller.configuration={…}'.`,
    )
  }

  if (poll && events !== 'polling') throw usageError('--poll needs --events polling.')
  const spec: InstanceSpec = {
    callbackUrl: flags['callback-url'],
    config,
    email: flags['pipedrive-email'] || process.env.PDHOOKS_PIPEDRIVE_EMAIL || undefined,
    events,
    name: flags.name ?? '',
    password: flags['pipedrive-password'] || process.env.PDHOOKS_PIPEDRIVE_PASSWORD || undefined,
    poll,
    pollInterval: flags['poll-interval'],
    signatureKey: flags['signature-key'],
    tags: flags.tag,
  }
  if (spec.callbackUrl) checkTargetUrl(spec.callbackUrl, '--callback-url')
  if (ask) {
    const need = new Set(missingForCreate(spec))
    if (need.has('--name')) spec.name = await ask.input('Instance name:', {default: 'pdhooks pipedrive', validate: v => Boolean(v.trim()) || 'A name is required.'})
    if (need.has('--pipedrive-email')) spec.email = await ask.input('Pipedrive login email (for the connector):', {validate: v => v.includes('@') || 'An email address.'})
    if (need.has('--pipedrive-password')) spec.password = await ask.password('Pipedrive login password:')
    if (need.has('--callback-url')) {
      spec.callbackUrl = await ask.input("Your app's URL for the platform's events (event.notification.callback.url):", {
        validate(v) {
          try {
            checkTargetUrl(v, 'URL')
            return true
          } catch (error) {
            return (error as Error).message
          }
        },
      })
    }
  }

  const missing = missingForCreate(spec)
  if (missing.length > 0) {
    const env = missing.filter(m => m.startsWith('--pipedrive-')).map(m => (m === '--pipedrive-email' ? 'PDHOOKS_PIPEDRIVE_EMAIL' : 'PDHOOKS_PIPEDRIVE_PASSWORD'))
    throw usageError(`Missing ${missing.join(', ')}.`, `Pass ${missing.length > 1 ? 'them' : 'it'}${env.length > 0 ? ` (or set ${env.join(' / ')})` : ''}; on a terminal pdhooks asks.`, 'missing_value')
  }

  return spec
}

/**
 * Before a Pipedrive webhook is aimed at an instance's callback URL: does the instance exist? A 404 is exit 4 (a
 * webhook aimed at a missing instance fails, and Pipedrive deletes it after 3 days). Returns warnings when it could not
 * be checked (no Cloud Elements credentials, the platform unavailable) or when its events do not come from webhooks.
 */
export async function checkInstanceTarget(settings: Settings, id: number | string, base: string, opts: ClientOptions): Promise<string[]> {
  let ce: ElementsClient
  try {
    ce = await elementsClient(settings, {...opts, baseUrl: base})
  } catch (error) {
    if (error instanceof PdhooksError && error.code === 'no_credentials') {
      return [`Instance ${id} was not checked: no Cloud Elements credentials (set PDHOOKS_USER_SECRET and PDHOOKS_ORG_SECRET to check it).`]
    }

    throw error
  }

  let inst: Instance
  try {
    inst = await ce.getInstance(id)
  } catch (error) {
    if (error instanceof PdhooksError && error.exit === ExitCode.notFound) {
      throw notFoundError(`No instance ${id} on ${ce.http.host}: a webhook aimed at it would fail.`, 'List the instances with "pdhooks instance list".')
    }

    return [`Instance ${id} could not be checked: ${PdhooksError.from(error).message}`]
  }

  const mode = eventsMode(inst)
  return mode === 'webhook' ? [] : [`Instance ${id}${inst.name ? ` "${inst.name}"` : ''} has events ${mode === 'none' ? 'off' : 'by polling'}: the platform will not use Pipedrive's deliveries.`]
}
