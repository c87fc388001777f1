/**
 * `--set` for sample deliveries: `field=value` sets a field of the sample object (dot paths; JSON values parsed, anything
 * else a string), and `custom_fields.KEY:TYPE=VALUE` sets a custom field of one of Pipedrive's documented types, written
 * in each version's own format: webhooks v2 put `{type, value…}` under `data.custom_fields.KEY` (the formats of the v2
 * migration guide), webhooks v1 put the value at the top level under `KEY`, with the API v1 companion keys
 * (`KEY_currency`, `KEY_until`, `KEY_timezone_id`, `KEY_locality`…).
 */
import {usageError} from '../core/errors.js'

/** One custom field value in the webhooks v2 format (`null` clears the field). */
export type CustomFieldValue = null | Record<string, unknown>

/** One parsed `--set`. */
export type SetOp = {key: string; kind: 'custom'; value: CustomFieldValue} | {kind: 'field'; path: string[]; value: unknown}

const ADDRESS_PARTS = [
  'country', 'formatted_address', 'locality', 'sublocality', 'subpremise', 'route', 'street_number', 'admin_area_level_1', 'admin_area_level_2', 'postal_code',
] as const
/** Names that would reach an object's prototype. */
const RESERVED = new Set(['__proto__', 'constructor', 'prototype'])
/** The timezone id used when a time or time range gives none (the one of Pipedrive's documented examples). */
const DEFAULT_TIMEZONE_ID = 310

interface TypeSpec {
  /** What VALUE looks like, for help and errors. */
  syntax: string
  example: string
  parse(value: string): Record<string, unknown>
}

const DATE = /^\d{4}-\d{2}-\d{2}$/
const TIME = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/

function bad(type: string, value: string, spec: TypeSpec): never {
  throw usageError(`Invalid ${type} custom field value "${value}": expected ${spec.syntax}.`, `Example: --set custom_fields.KEY:${type}=${spec.example}`, 'bad_set')
}

function integer(type: string, value: string, spec: TypeSpec): number {
  if (!/^\d+$/.test(value.trim())) bad(type, value, spec)
  return Number(value.trim())
}

function time(type: string, value: string, spec: TypeSpec): string {
  const m = TIME.exec(value.trim())
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59 || Number(m[3] ?? 0) > 59) bad(type, value, spec)
  return `${m[1].padStart(2, '0')}:${m[2]}:${m[3] ?? '00'}`
}

/** Splits `VALUE@TIMEZONE_ID`. */
function withZone(type: string, value: string, spec: TypeSpec): [string, number] {
  const at = value.lastIndexOf('@')
  if (at === -1) return [value, DEFAULT_TIMEZONE_ID]
  return [value.slice(0, at), integer(type, value.slice(at + 1), spec)]
}

function range(type: string, value: string, spec: TypeSpec): [string, string] {
  const parts = value.split('..')
  if (parts.length !== 2) bad(type, value, spec)
  return [parts[0].trim(), parts[1].trim()]
}

const text = (type: string): TypeSpec => ({example: type === 'phone' ? '"+372 5555 5555"' : '"Some text"', parse: v => ({type, value: v}), syntax: 'any text'})
const ref = (type: string, example: string): TypeSpec => {
  const spec: TypeSpec = {example, parse: v => ({id: integer(type, v, spec), type}), syntax: `the ${type === 'org' ? 'organization' : (type === 'people' ? 'person' : type)} id`}
  return spec
}

/** The documented custom field types (Webhooks v2 migration guide, "Custom fields format in webhooks v2"). */
export const CUSTOM_FIELD_TYPES: Readonly<Record<string, TypeSpec>> = (() => {
  const t: Record<string, TypeSpec> = {
    varchar: text('varchar'),
    text: text('text'),
    varchar_auto: text('varchar_auto'),
    phone: text('phone'),
  }
  t.double = {
    example: '123', parse(v) {
      const n = Number(v)
      if (v.trim() === '' || !Number.isFinite(n)) bad('double', v, t.double)
      return {type: 'double', value: n}
    }, syntax: 'a number',
  }
  t.monetary = {
    example: '"200 EUR"', parse(v) {
      const m = /^(-?\d+(?:\.\d+)?)\s*([A-Za-z]{3})$/.exec(v.trim())
      if (!m) bad('monetary', v, t.monetary)
      return {currency: m[2].toUpperCase(), type: 'monetary', value: Number(m[1])}
    }, syntax: 'AMOUNT CURRENCY',
  }
  t.people = ref('people', '17818')
  t.org = ref('org', '1')
  t.user = ref('user', '13075973')
  t.enum = ref('enum', '17')
  t.enum.syntax = 'the option id'
  t.set = {
    example: '13,14', parse(v) {
      const ids = v.split(',').map(s => s.trim())
      if (ids.some(id => !/^\d+$/.test(id))) bad('set', v, t.set)
      return {type: 'set', values: ids.map(id => ({id: Number(id)}))}
    }, syntax: 'option ids separated by commas',
  }
  t.date = {
    example: '2026-06-27', parse(v) {
      if (!DATE.test(v.trim())) bad('date', v, t.date)
      return {type: 'date', value: v.trim()}
    }, syntax: 'YYYY-MM-DD',
  }
  t.daterange = {
    example: '2026-06-06..2026-06-14', parse(v) {
      const [from, until] = range('daterange', v, t.daterange)
      if (!DATE.test(from) || !DATE.test(until)) bad('daterange', v, t.daterange)
      return {from, type: 'daterange', until}
    }, syntax: 'FROM..UNTIL, both YYYY-MM-DD',
  }
  t.time = {
    example: '09:30@310', parse(v) {
      const [clock, zone] = withZone('time', v, t.time)
      return {timezone_id: zone, type: 'time', value: time('time', clock, t.time)}
    }, syntax: 'HH:MM[:SS][@TIMEZONE_ID]',
  }
  t.timerange = {
    example: '09:00..17:30', parse(v) {
      const [span, zone] = withZone('timerange', v, t.timerange)
      const [from, until] = range('timerange', span, t.timerange)
      return {
        from: time('timerange', from, t.timerange), timezone_id: zone, type: 'timerange', until: time('timerange', until, t.timerange),
      }
    }, syntax: 'FROM..UNTIL[@TIMEZONE_ID], times HH:MM[:SS]',
  }
  t.address = {
    example: '"Mustamäe tee 3a, Tallinn, Estonia"',
    parse: v => ({...Object.fromEntries(ADDRESS_PARTS.map(p => [p, p === 'formatted_address' ? v : ''])), type: 'address', value: v}),
    syntax: 'the address as text, or a JSON object of its parts',
  }
  return t
})()

/** The custom field types, as help lines: `TYPE  VALUE, e.g. …`. */
export function customFieldHelp(): string {
  return [
    ...Object.entries(CUSTOM_FIELD_TYPES).map(([type, spec]) => `  ${type.padEnd(13)}${spec.syntax}, e.g. ${spec.example}`),
    `A time without @TIMEZONE_ID gets ${DEFAULT_TIMEZONE_ID}, the timezone id of Pipedrive's examples.`,
  ].join('\n')
}

function parseValue(raw: string): unknown {
  try {
    return JSON.parse(raw)
  } catch {
    return raw
  }
}

function closestType(type: string): string | undefined {
  const t = type.toLowerCase()
  const aliases: Record<string, string> = {
    address: 'address', autocomplete: 'varchar_auto', number: 'double', numeric: 'double', option: 'enum', options: 'set', organization: 'org', person: 'people', string: 'varchar',
  }
  return aliases[t] ?? Object.keys(CUSTOM_FIELD_TYPES).find(k => k.startsWith(t.slice(0, 3)))
}

/** A custom field's value from `TYPE` and the text after `=` (a JSON object is taken as the field's parts). */
function customFieldValue(type: string, raw: string): CustomFieldValue {
  const spec = CUSTOM_FIELD_TYPES[type]
  if (!spec) {
    const guess = closestType(type)
    throw usageError(
      `Unknown custom field type "${type}".`,
      `${guess ? `Did you mean "${guess}"? ` : ''}Types: ${Object.keys(CUSTOM_FIELD_TYPES).join(', ')}.`,
      'bad_set',
    )
  }

  if (raw.trim() === 'null') return null
  const json = parseValue(raw)
  if (json && typeof json === 'object' && !Array.isArray(json)) {
    const base = type === 'address' ? spec.parse(String((json as Record<string, unknown>).value ?? '')) : {}
    return {...base, ...(json as Record<string, unknown>), type}
  }

  return spec.parse(typeof json === 'string' ? json : raw)
}

/**
 * Parses `--set` values: `field=value`, `a.b=value` (dot path), `custom_fields.KEY:TYPE=VALUE`, `custom_fields.KEY=null`
 * (cleared) and `custom_fields.KEY={"type":…}` (verbatim v2 JSON). Usage errors (exit 2) name the bad entry.
 */
export function parseSets(sets: readonly string[] = []): SetOp[] {
  return sets.map(s => {
    const eq = s.indexOf('=')
    if (eq <= 0) throw usageError(`Invalid --set "${s}": expected field=value.`, 'Examples: --set value=5000, --set title="Big deal", --set custom_fields.KEY:monetary="200 EUR".', 'bad_set')
    const left = s.slice(0, eq).trim()
    const raw = s.slice(eq + 1)
    const cf = /^custom_fields\.([^.:\s]+)(?::(\w+))?$/.exec(left)
    if (cf) {
      const [, key, type] = cf
      if (RESERVED.has(key)) throw usageError(`Invalid --set "${s}": reserved field name.`, 'Custom field keys are the fields\' 40-character hashes.', 'bad_set')
      if (type) return {key, kind: 'custom', value: customFieldValue(type, raw)}
      const json = parseValue(raw)
      if (json === null) return {key, kind: 'custom', value: null}
      if (json && typeof json === 'object' && !Array.isArray(json) && typeof (json as Record<string, unknown>).type === 'string') {
        return {key, kind: 'custom', value: json as Record<string, unknown>}
      }

      throw usageError(
        `Invalid --set "${s}": a custom field needs its type.`,
        `Write custom_fields.${key}:TYPE=VALUE, e.g. custom_fields.${key}:varchar="Some text" (types: ${Object.keys(CUSTOM_FIELD_TYPES).join(', ')}).`,
        'bad_set',
      )
    }

    const path = left.split('.')
    if (path.includes('')) throw usageError(`Invalid --set "${s}": empty field name.`, 'Example: --set value.amount=500.', 'bad_set')
    if (path.some(p => RESERVED.has(p))) throw usageError(`Invalid --set "${s}": reserved field name.`, 'Set the fields of the object, e.g. --set title="Big deal".', 'bad_set')
    return {kind: 'field', path, value: parseValue(raw)}
  })
}

/** A custom field in the API v1 format: the top-level keys it occupies (`KEY`, and `KEY_…` companions). */
export function v1CustomField(key: string, value: CustomFieldValue): Record<string, unknown> {
  if (value === null) return {[key]: null}
  const v = value
  switch (v.type) {
  case 'address': {
    return {[key]: v.value ?? null, ...Object.fromEntries(ADDRESS_PARTS.map(p => [`${key}_${p}`, v[p] ?? null]))}
  }

  case 'daterange': {
    return {[key]: v.from ?? null, [`${key}_until`]: v.until ?? null}
  }

  case 'enum': {
    return {[key]: v.id === undefined || v.id === null ? null : String(v.id)}
  }

  case 'monetary': {
    return {[key]: v.value ?? null, [`${key}_currency`]: v.currency ?? null}
  }

  case 'org':
  case 'people':
  case 'user': {
    return {[key]: v.id ?? null}
  }

  case 'set': {
    return {[key]: Array.isArray(v.values) ? v.values.map(x => (x as {id?: unknown})?.id).join(',') : null}
  }

  case 'time': {
    return {[key]: v.value ?? null, [`${key}_timezone_id`]: v.timezone_id ?? null}
  }

  case 'timerange': {
    return {[key]: v.from ?? null, [`${key}_timezone_id`]: v.timezone_id ?? null, [`${key}_until`]: v.until ?? null}
  }

  default: {
    return {[key]: v.value ?? null}
  }
  }
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target
  for (const key of path.slice(0, -1)) {
    if (!node[key] || typeof node[key] !== 'object' || Array.isArray(node[key])) node[key] = {}
    node = node[key] as Record<string, unknown>
  }

  node[path.at(-1)!] = value
}

/**
 * Applies parsed `--set`s to a sample object (mutates it) in one version's format. A custom field set on an object that
 * is not one of `customFieldObjects` is a usage error.
 */
export function applySetOps(
  target: Record<string, unknown>,
  ops: readonly SetOp[],
  {customFieldObjects, object, version}: {customFieldObjects: readonly string[]; object: string; version: '1.0' | '2.0'},
): Record<string, unknown> {
  for (const op of ops) {
    if (op.kind === 'field') {
      setPath(target, op.path, structuredClone(op.value))
      continue
    }

    if (!customFieldObjects.includes(object)) {
      throw usageError(`A ${object} has no custom fields in webhooks v${version.charAt(0)} payloads.`, `Objects with custom fields: ${customFieldObjects.join(', ')}.`, 'bad_set')
    }

    if (version === '1.0') Object.assign(target, v1CustomField(op.key, op.value))
    else {
      const cf = target.custom_fields && typeof target.custom_fields === 'object' ? (target.custom_fields as Record<string, unknown>) : {}
      target.custom_fields = {...cf, [op.key]: structuredClone(op.value)}
    }
  }

  return target
}
