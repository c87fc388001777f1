import {randomUUID} from 'node:crypto'
import {readFileSync} from 'node:fs'

import {createChecked} from '../core/checked-create.js'
import {ExitCode, PdhooksError, usageError} from '../core/errors.js'
import {mask} from '../core/mask.js'
import {sameUrl} from '../core/urls.js'
import {checkPipelinerKey} from '../deliveries/signatures.js'
import {type DeleteHooks, type DeleteResult, pool} from '../pipedrive/webhooks.js'
import {
  type NewPipelinerWebhook, type PipelinerClient, type PipelinerWebhook,
} from './client.js'
import {
  canonicalEntity, didYouMean, entitiesOf, eventsOverlap, normalizeEventLoose, PIPELINER_ENTITIES, sameEventSet,
} from './events.js'

export interface OptionInputs {
  chunkDelay?: number
  chunkSize?: number
  customEntity?: string[]
  expand?: string[]
  filter?: string[]
  filterOp?: string[]
  loadOnly?: string[]
  onFieldChange?: string[]
  optionsFile?: string
  skipKey?: string[]
}

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => Boolean(v) && typeof v === 'object' && !Array.isArray(v)
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(x => typeof x === 'string')

const RELATED_ENTITY = 'related_entity'
const isRelated = (s: string) => /^related[_-]?entity$/i.test(s.trim())
const FIELD = /^[A-Za-z_][\w.]*$/
const OP = /^[A-Za-z][\w-]*$/
const TOP_KEYS = new Set(['chunk_delay', 'chunk_size', 'custom_entity_api_name', 'entity', 'related_entity', 'skip_keys'])
const ENTITY_KEYS = new Set(['expand', 'filter', 'filter-op', 'load-only', 'load_only', 'on-field-change'])

/**
 * An entity named in an option flag: a table entity (canonical spelling), or one of the `--custom-entity` API names
 * (kept as given). Anything else is a usage error with a did-you-mean.
 */
function optionEntity(name: string, flag: string, value: string, custom: string[]): string {
  const canonical = canonicalEntity(name)
  if (canonical) return canonical
  const c = custom.find(x => x === name.trim())
  if (c) return c
  const guess = didYouMean(name, [...PIPELINER_ENTITIES, ...custom])
  throw usageError(
    `Unknown entity "${name}" in ${flag} "${value}".`,
    `${guess ? `Did you mean "${guess}"? ` : ''}Entities: ${PIPELINER_ENTITIES.join(', ')}${custom.length > 0 ? `, or a --custom-entity name (${custom.join(', ')})` : ''}.`,
    'bad_option',
  )
}

function fieldList(text: string, flag: string, value: string): string[] {
  const fields = text.split(',').map(f => f.trim()).filter(Boolean)
  if (fields.length === 0) throw usageError(`${flag} "${value}" names no field.`, `Use ${flag} Entity:field,field.`, 'bad_option')
  const bad = fields.find(f => !FIELD.test(f))
  if (bad) throw usageError(`Invalid field "${bad}" in ${flag} "${value}".`, 'Fields are API names such as value, closing_date or primary_account.name.', 'bad_option')
  return fields
}

/** `Entity:field,…` → [entity, fields]. */
function entityFields(value: string, flag: string, custom: string[], allowRelated: boolean): [string, string[]] {
  const i = value.indexOf(':')
  if (i <= 0) {
    throw usageError(`Invalid ${flag} "${value}": expected Entity:field,….`, `E.g. ${flag} Opportunity:value,closing_date${allowRelated ? ` or ${flag} related_entity:contact` : ''}.`, 'bad_option')
  }

  const name = value.slice(0, i)
  const fields = fieldList(value.slice(i + 1), flag, value)
  if (isRelated(name)) {
    if (!allowRelated) throw usageError(`${flag} cannot target related_entity: only expand and load-only apply to it.`, undefined, 'bad_option')
    return [RELATED_ENTITY, fields]
  }

  return [optionEntity(name, flag, value, custom), fields]
}

/** `Entity.field=value` → [entity, field, value]. */
function entityFieldValue(value: string, flag: string, custom: string[]): [string, string, string] {
  const eq = value.indexOf('=')
  const left = eq === -1 ? value : value.slice(0, eq)
  const dot = left.indexOf('.')
  if (eq === -1 || dot <= 0 || dot === left.length - 1) {
    throw usageError(
      `Invalid ${flag} "${value}": expected Entity.field=${flag === '--filter-op' ? 'op' : 'value'}.`,
      flag === '--filter-op' ? 'E.g. --filter-op Opportunity.value=gt.' : 'E.g. --filter Opportunity.status=1 (the same field twice makes a list of values).',
      'bad_option',
    )
  }

  const entity = optionEntity(left.slice(0, dot), flag, value, custom)
  const field = left.slice(dot + 1).trim()
  if (!FIELD.test(field)) throw usageError(`Invalid field "${field}" in ${flag} "${value}".`, undefined, 'bad_option')
  return [entity, field, value.slice(eq + 1)]
}

const push = (list: string[], items: string[]) => {
  for (const x of items) if (!list.includes(x)) list.push(x)
}

/** Builds `options` from the option flags alone (no file). Exported for tests. */
function optionsFromFlags(f: OptionInputs, customFromFile: string[] = []): Obj {
  const custom = [...new Set([...(f.customEntity ?? []).map(c => c.trim()).filter(Boolean), ...customFromFile])]
  const out: Obj = {}
  const entity: Record<string, Obj> = {}
  const related: Obj = {}
  const forEntity = (name: string): Obj => {
    entity[name] ??= {}
    return entity[name]
  }

  const lists: Array<[keyof OptionInputs, string, string, boolean]> = [
    ['onFieldChange', '--on-field-change', 'on-field-change', false],
    ['expand', '--expand', 'expand', true],
    ['loadOnly', '--load-only', 'load-only', true],
  ]
  for (const [prop, flag, key, allowRelated] of lists) {
    for (const v of (f[prop] as string[] | undefined) ?? []) {
      const [name, fields] = entityFields(v, flag, custom, allowRelated)
      const target = name === RELATED_ENTITY ? related : forEntity(name)
      target[key] ??= []
      push(target[key] as string[], fields)
    }
  }

  for (const v of f.filter ?? []) {
    const [name, field, value] = entityFieldValue(v, '--filter', custom)
    const e = forEntity(name)
    const filter = (e.filter ??= {}) as Obj
    const prev = filter[field]
    if (prev === undefined) filter[field] = value
    else if (Array.isArray(prev)) {
      if (!prev.includes(value)) prev.push(value)
    } else if (prev !== value) filter[field] = [prev, value]
  }

  for (const v of f.filterOp ?? []) {
    const [name, field, op] = entityFieldValue(v, '--filter-op', custom)
    if (!OP.test(op)) throw usageError(`Invalid operator "${op}" in --filter-op "${v}".`, 'Operators are words such as eq (the default), gt or like.', 'bad_option')
    const e = forEntity(name)
    const ops = (e['filter-op'] ??= {}) as Obj
    if (ops[field] !== undefined && ops[field] !== op) {
      throw usageError(`Two operators for ${name}.${field}: ${String(ops[field])} and ${op}.`, 'Give one --filter-op per field.', 'bad_option')
    }

    ops[field] = op
  }

  if (Object.keys(entity).length > 0) out.entity = entity
  if (Object.keys(related).length > 0) out.related_entity = related
  if (f.skipKey && f.skipKey.length > 0) {
    const keys = f.skipKey.map(k => k.trim()).filter(Boolean)
    if (keys.length !== f.skipKey.length) throw usageError('Empty --skip-key.', undefined, 'bad_option')
    out.skip_keys = [...new Set(keys)]
  }

  if (f.chunkSize !== undefined) {
    if (!Number.isInteger(f.chunkSize) || f.chunkSize < 1 || f.chunkSize > 100) {
      throw usageError(`Invalid --chunk-size ${f.chunkSize}: from 1 to 100.`, undefined, 'bad_option')
    }

    out.chunk_size = f.chunkSize
  }

  if (f.chunkDelay !== undefined) {
    if (!Number.isFinite(f.chunkDelay) || f.chunkDelay < 0) throw usageError(`Invalid --chunk-delay ${f.chunkDelay}: seconds, 0 or more.`, undefined, 'bad_option')
    out.chunk_delay = f.chunkDelay
  }

  if (f.customEntity && f.customEntity.length > 0) {
    const names = f.customEntity.map(c => c.trim())
    if (names.includes('')) throw usageError('Empty --custom-entity.', undefined, 'bad_option')
    out.custom_entity_api_name = [...new Set(names)]
  }

  return out
}

/** Reads and checks `--options-file`: a JSON object shaped like the webhook's `options`. Problems are exit 2 naming it. */
function readOptionsFile(path: string): {options: Obj; warnings: string[]} {
  const bad = (why: string, hint?: string) => usageError(`Invalid --options-file "${path}": ${why}`, hint, 'bad_options_file')
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error: any) {
    const why = error?.code === 'ENOENT' ? 'no such file.' : (error?.code === 'EISDIR' ? 'it is a folder.' : `cannot read it (${error?.code ?? error?.message}).`)
    throw bad(why)
  }

  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error: any) {
    throw bad(`not valid JSON (${String(error?.message ?? error).split('\n')[0]}).`)
  }

  if (!isObj(value)) throw bad('it must hold a JSON object (the webhook\'s "options").', 'E.g. {"skip_keys":["my-integration"],"chunk_size":50}.')
  const warnings: string[] = []
  const check = (ok: boolean, why: string) => {
    if (!ok) throw bad(why)
  }

  for (const key of Object.keys(value)) if (!TOP_KEYS.has(key)) warnings.push(`--options-file: unknown option "${key}" (sent as given).`)
  const o = value
  if (o.chunk_size !== undefined) check(Number.isInteger(o.chunk_size) && (o.chunk_size as number) >= 1 && (o.chunk_size as number) <= 100, 'chunk_size must be an integer from 1 to 100.')
  if (o.chunk_delay !== undefined) check(typeof o.chunk_delay === 'number' && Number.isFinite(o.chunk_delay) && o.chunk_delay >= 0, 'chunk_delay must be a number of seconds, 0 or more.')
  for (const k of ['skip_keys', 'custom_entity_api_name']) if (o[k] !== undefined) check(isStringArray(o[k]), `${k} must be an array of strings.`)
  if (o.related_entity !== undefined) {
    check(isObj(o.related_entity), 'related_entity must be an object.')
    for (const [k, v] of Object.entries(o.related_entity as Obj)) {
      if (k === 'expand' || k === 'load-only' || k === 'load_only') check(isStringArray(v), `related_entity.${k} must be an array of strings.`)
    }
  }

  if (o.entity !== undefined) {
    check(isObj(o.entity), 'entity must be an object keyed by entity name.')
    const custom = isStringArray(o.custom_entity_api_name) ? o.custom_entity_api_name : []
    for (const [name, spec] of Object.entries(o.entity as Obj)) {
      check(isObj(spec), `entity.${name} must be an object.`)
      if (!canonicalEntity(name) && !custom.includes(name)) {
        const guess = didYouMean(name, PIPELINER_ENTITIES)
        warnings.push(`--options-file: entity "${name}" is not a Pipeliner entity${guess ? ` (did you mean "${guess}"?)` : ''}; sent as given.`)
      } else if (canonicalEntity(name) && canonicalEntity(name) !== name) {
        warnings.push(`--options-file: entity "${name}" is spelled "${canonicalEntity(name)}" by Pipeliner; sent as given.`)
      }

      for (const [k, v] of Object.entries(spec as Obj)) {
        if (!ENTITY_KEYS.has(k)) warnings.push(`--options-file: unknown option "entity.${name}.${k}" (sent as given).`)
        if (k === 'expand' || k === 'load-only' || k === 'load_only' || k === 'on-field-change') check(isStringArray(v), `entity.${name}.${k} must be an array of strings.`)
        if (k === 'filter') {
          check(isObj(v), `entity.${name}.filter must be an object {field: value or [values]}.`)
        }

        if (k === 'filter-op') {
          check(isObj(v) && Object.values(v as Obj).every(x => typeof x === 'string'), `entity.${name}.filter-op must be an object {field: "op"}.`)
        }
      }
    }
  }

  return {options: value, warnings}
}

/** Deep merge: objects merge key by key; anything else from `over` replaces what `base` has (flags win). */
function mergeOptions(base: Obj, over: Obj): Obj {
  const out: Obj = {...base}
  for (const [k, v] of Object.entries(over)) {
    out[k] = isObj(v) && isObj(out[k]) ? mergeOptions(out[k] as Obj, v) : v
  }

  return out
}

export interface BuiltOptions {
  /** Undefined when there is nothing to send. */
  options?: Obj
  warnings: string[]
}

/**
 * The webhook's `options`, from `--options-file` (if any) with the option flags merged over it (flags win), checked
 * against the events: options for an entity the events never fire for, a filter-op without its filter, and custom
 * entity events without `custom_entity_api_name` give warnings or usage errors.
 */
export function buildOptions(f: OptionInputs, events: string[]): BuiltOptions {
  const warnings: string[] = []
  let file: Obj = {}
  if (f.optionsFile) {
    const read = readOptionsFile(f.optionsFile)
    file = read.options
    warnings.push(...read.warnings)
  }

  const fileCustom = isStringArray(file.custom_entity_api_name) ? file.custom_entity_api_name : []
  const options = mergeOptions(file, optionsFromFlags(f, fileCustom))
  const custom = isStringArray(options.custom_entity_api_name) ? options.custom_entity_api_name : []
  const fires = entitiesOf(events)
  const entity = isObj(options.entity) ? options.entity : {}
  for (const [name, spec] of Object.entries(entity)) {
    const canonical = canonicalEntity(name)
    const covered = canonical ? fires.includes(canonical) : (custom.includes(name) && fires.includes('CustomEntity'))
    if (!covered) warnings.push(`Options for ${name} have no effect: no event of this webhook is about ${name}.`)
    if (!isObj(spec)) continue
    const filter = isObj(spec.filter) ? spec.filter : {}
    for (const field of Object.keys(isObj(spec['filter-op']) ? spec['filter-op'] : {})) {
      if (!(field in filter)) {
        throw usageError(`--filter-op for ${name}.${field} has no filter on that field.`, `Add --filter ${name}.${field}=VALUE.`, 'bad_option')
      }
    }
  }

  if (custom.length > 0 && !fires.includes('CustomEntity')) {
    warnings.push('custom_entity_api_name has no effect without a CustomEntity event (e.g. --event CustomEntity.*).')
  }

  if (custom.length === 0 && events.some(e => e.startsWith('CustomEntity.'))) {
    warnings.push('CustomEntity events fire only for the custom entities named in custom_entity_api_name: pass --custom-entity API_NAME.')
  }

  return {options: Object.keys(options).length > 0 ? options : undefined, warnings}
}

export {isUuid} from '../deliveries/signatures.js'

/** `--signature` must be a UUID (Pipeliner's rule); exit 2 otherwise. */
export function checkSignature(value: string): string {
  return checkPipelinerKey(value, '--signature', 'Pass a UUID, or --sign to generate one.')
}

export interface PipelinerWebhookView {
  created: null | string
  events: string[]
  id: string
  insecureSsl: boolean
  modified: null | string
  options: null | Obj
  /** Masked (first 4 characters + "…"), or null when unsigned. */
  signature: null | string
  signed: boolean
  url: string
}

/** The masked view every output path uses. */
export function viewPipelinerWebhook(w: PipelinerWebhook): PipelinerWebhookView {
  const sig = typeof w.signature === 'string' && w.signature !== '' ? w.signature : null
  return {
    created: typeof w.created === 'string' ? w.created : null,
    events: Array.isArray(w.events) ? w.events.map(String) : [],
    id: String(w.id),
    insecureSsl: w.insecure_ssl === true,
    modified: typeof w.modified === 'string' ? w.modified : null,
    options: isObj(w.options) ? w.options : null,
    signature: sig === null ? null : mask(sig),
    signed: sig !== null,
    url: String(w.url ?? ''),
  }
}

/** Webhooks that are not marked deleted. */
export const live = (hooks: PipelinerWebhook[]): PipelinerWebhook[] => hooks.filter(w => w && w.is_deleted !== true)

function findIdenticalPipeliner(hooks: PipelinerWebhook[], want: {events: string[]; url: string}): PipelinerWebhook | undefined {
  return live(hooks).find(w => typeof w.url === 'string' && Array.isArray(w.events) && sameUrl(w.url, want.url) && sameEventSet(w.events, want.events))
}

export interface PipelinerFilter {
  event?: string
  url?: string
}

/** `--url` (substring of the URL) and `--event` (the webhook fires for at least one event of the pattern). */
export function filterPipelinerWebhooks(hooks: PipelinerWebhook[], f: PipelinerFilter): PipelinerWebhook[] {
  return live(hooks).filter(w => {
    if (f.url && !String(w.url ?? '').includes(f.url)) return false
    if (f.event && !(Array.isArray(w.events) && w.events.some(e => eventsOverlap(normalizeEventLoose(String(e)), f.event!)))) return false
    return true
  })
}

/** Key-order-insensitive JSON, for comparing options. */
function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(x => stable(x)).join(',')}]`
  if (isObj(v)) return `{${Object.keys(v).sort().map(k => `${JSON.stringify(k)}:${stable(v[k])}`).join(',')}}`
  return JSON.stringify(v ?? null)
}

const emptyOptions = (o: unknown) => !isObj(o) || Object.keys(o).length === 0

/** Do two `options` values mean the same (key order aside; absent and empty alike)? */
export const sameOptions = (a: unknown, b: unknown): boolean => stable(emptyOptions(a) ? null : a) === stable(emptyOptions(b) ? null : b)

export interface AddPipelinerInput {
  events: string[]
  insecureSsl: boolean
  options?: Obj
  /** Replace live webhooks of the same URL and event set whose settings differ (the new one first, then the old ones). */
  replace?: boolean
  /** Generate a UUID signature key (only when the webhook is created). */
  sign?: boolean
  signature?: string
  url: string
}

export interface AddPipelinerResult {
  created: boolean
  /** The key made by `sign`, shown once. */
  generatedSignature?: string
  /** True when the create call failed ambiguously and the webhook was found afterwards. */
  recovered?: boolean
  /** With `replace`: the old webhooks, deleted after the new one was created. */
  replaced?: DeleteResult[]
  /** What could not be compared (a signature key the service shows masked). */
  warnings: string[]
  webhook: PipelinerWebhook
}

/** A signature key as the service may show it: masked. */
const maskedKey = (k: string) => /^\*+$/.test(k) || k.endsWith('…') || /\*{3,}/.test(k)

/**
 * How an existing webhook with the same URL and event set differs from what was asked: insecure_ssl, the signature
 * (never a key's value), `--sign` (a new key can only go to a new webhook) and the options.
 */
function comparePipelinerWebhook(w: PipelinerWebhook, input: Omit<AddPipelinerInput, 'events' | 'url'>): {differences: string[]; unchecked: string[]} {
  const differences: string[] = []
  const unchecked: string[] = []
  if ((w.insecure_ssl === true) !== input.insecureSsl) differences.push(`insecure_ssl is ${w.insecure_ssl === true}, not ${input.insecureSsl}`)
  const have = typeof w.signature === 'string' && w.signature !== '' ? w.signature : undefined
  if (input.sign) differences.push(`--sign makes a new signature key, but it is ${have ? 'signed with its own key' : 'not signed'}`)
  else if (input.signature && !have) differences.push('it is not signed')
  else if (input.signature && have && maskedKey(have)) unchecked.push(`Pipeliner does not show the signature key of webhook ${w.id}: it was not compared.`)
  else if (input.signature && have && have !== input.signature) differences.push('it has another signature key')
  else if (!input.signature && have) differences.push('it is signed (no signature was asked)')
  if (!sameOptions(w.options, input.options)) differences.push('its options differ')
  return {differences, unchecked}
}

/** The webhook an earlier create attempt made: same URL and event set, and not among those listed before it. */
export function findCreatedPipeliner(after: PipelinerWebhook[], before: PipelinerWebhook[], want: {events: string[]; url: string}): PipelinerWebhook | undefined {
  const old = new Set(before.map(h => h.id))
  return findIdenticalPipeliner(after.filter(w => !old.has(w.id)), want)
}

/**
 * Creates a Pipeliner webhook, idempotently: a live webhook with the same URL, the same set of events and the same
 * settings is reported (`created: false`); one whose settings differ is a conflict (exit 5 naming the differences)
 * unless `replace`, which creates the new webhook first and then deletes the old ones. The create is never resent
 * blindly: after a timeout or a 429/5xx answer the webhooks are listed first (createChecked).
 */
export async function addPipelinerWebhook(client: PipelinerClient, input: AddPipelinerInput): Promise<AddPipelinerResult> {
  const want = {events: input.events, url: input.url}
  const hooks = await client.listAll()
  const same = live(hooks)
  .filter(w => typeof w.url === 'string' && Array.isArray(w.events) && sameUrl(w.url, want.url) && sameEventSet(w.events, want.events))
  .map(w => ({...comparePipelinerWebhook(w, input), w}))
  const match = same.find(c => c.differences.length === 0)
  if (match) return {created: false, warnings: match.unchecked, webhook: match.w}
  if (same.length > 0 && !input.replace) {
    const what = same.map(c => `webhook ${c.w.id}: ${c.differences.join('; ')}`).join(' / ')
    throw new PdhooksError(`A Pipeliner webhook for ${want.events.join(', ')} → ${want.url} already exists with other settings (${what}).`, {
      code: 'conflict',
      details: {report: {conflicts: same.map(c => ({differences: c.differences, id: c.w.id}))}},
      exit: ExitCode.conflict,
      hint: `Pass --replace to replace ${same.length > 1 ? 'them' : 'it'} (the new webhook is created first, then the old one deleted).`,
    })
  }

  const signature = input.sign ? randomUUID() : input.signature
  const body: NewPipelinerWebhook = {url: input.url, events: input.events, insecure_ssl: input.insecureSsl}
  if (signature) body.signature = signature
  if (input.options && Object.keys(input.options).length > 0) body.options = input.options
  const made = await createChecked({
    check: 'pdhooks pipeliner webhook list',
    create: () => client.createWebhook(body),
    find: async () => findCreatedPipeliner(await client.listAll(), hooks, want),
    what: 'Pipeliner webhook',
  })
  const result: AddPipelinerResult = {
    created: true, ...(input.sign ? {generatedSignature: signature} : {}), ...(made.recovered ? {recovered: true} : {}), warnings: [], webhook: made.value,
  }
  if (same.length > 0) {
    result.replaced = await pool(same.map(c => String(c.w.id)), 4, id => deleteOne(client, id, false))
    const failed = result.replaced.filter(r => r.status === 'failed')
    if (failed.length > 0) {
      throw new PdhooksError(`Created Pipeliner webhook ${made.value.id}, but the old webhook(s) ${failed.map(f => f.id).join(', ')} could not be deleted: ${failed.map(f => f.error).join('; ')}`, {
        code: 'partial_failure',
        details: {report: {created: made.value.id, notDeleted: failed.map(f => f.id)}},
        exit: Math.max(...failed.map(f => f.exit ?? ExitCode.unexpected)),
        hint: `Both now deliver: delete the old one with "pdhooks pipeliner webhook delete ${failed.map(f => f.id).join(' ')}".`,
      })
    }
  }

  return result
}

/** Ids per `batch-delete` request. */
const BATCH_SIZE = 100

async function deleteOne(client: PipelinerClient, id: string, explicit: boolean): Promise<DeleteResult> {
  try {
    await client.deleteWebhook(id)
    return {id, status: 'deleted'}
  } catch (error) {
    return failure(error, id, explicit)
  }
}

function failure(error: unknown, id: string, explicit: boolean): DeleteResult {
  if (error instanceof PdhooksError && error.status === 404) {
    return explicit
      ? {
        error: `No Pipeliner webhook ${id}.`, exit: ExitCode.notFound, id, status: 'not-found',
      }
      : {id, status: 'gone'}
  }

  const e = PdhooksError.from(error)
  return {
    error: e.line, exit: e.exit, id, status: 'failed',
  }
}

/**
 * Deletes webhooks: one id with `DELETE /entities/Webhooks/{id}`, several with `POST /entities/Webhooks/batch-delete`
 * (100 ids per request). When the batch answer lists the deleted ids, an id missing from it did not exist: "not-found"
 * for ids the user named (`explicit`, exit 4), "gone" otherwise. When the batch call is refused (400, 404, 405: an
 * unknown id, or no batch endpoint), each id is deleted on its own so that every result is exact. `hooks.onResult` sees
 * each result as it is known; once `hooks.signal` is aborted no new request starts (the results then stop short).
 */
export async function deletePipelinerWebhooks(client: PipelinerClient, ids: string[], explicit: boolean, concurrency = 4, hooks: DeleteHooks = {}): Promise<DeleteResult[]> {
  const results: DeleteResult[] = []
  const done = (r: DeleteResult) => {
    results.push(r)
    hooks.onResult?.(r)
    return r
  }

  if (ids.length === 1) {
    hooks.onStart?.(ids[0])
    done(await deleteOne(client, ids[0], explicit))
    return results
  }

  for (let i = 0; i < ids.length && !hooks.signal?.aborted; i += BATCH_SIZE) {
    const batch = ids.slice(i, i + BATCH_SIZE)
    for (const id of batch) hooks.onStart?.(id)
    try {
      const deleted = await client.batchDelete(batch)
      for (const id of batch) {
        if (!deleted || deleted.includes(id)) done({id, status: 'deleted'})
        else done(explicit
          ? {
            error: `No Pipeliner webhook ${id}.`, exit: ExitCode.notFound, id, status: 'not-found',
          }
          : {id, status: 'gone'})
      }
    } catch (error) {
      if (error instanceof PdhooksError && (error.status === 400 || error.status === 404 || error.status === 405)) {
        const pending = new Set(batch)
        await pool(batch, concurrency, async id => {
          pending.delete(id)
          return done(await deleteOne(client, id, explicit))
        }, {signal: hooks.signal})
        // started as part of the batch, never sent on their own: not in flight any more
        for (const id of pending) hooks.onUnstarted?.(id)
      } else {
        for (const id of batch) done(failure(error, id, explicit))
      }
    }
  }

  return results
}
