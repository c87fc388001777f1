// Compares a payload with a documented shape (test/fixtures/pipedrive-docs/v2-examples.json, made by extract.mjs there):
// every documented key must be present with the same JSON type; extra keys are allowed. A documented non-empty array
// must be non-empty, its elements of the documented element's shape. Inside `custom_fields` the keys are per-company
// hashes: each documented field ("custom_field:<type>") needs a field of that type in the payload, in the documented
// format of that type; a documented null needs a null.
import {readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

export type Shape = Shape[] | string | {[key: string]: Shape}

export interface DocExample {
  action: string
  data: null | Record<string, Shape>
  entity: string
  meta: Record<string, Shape>
  previous: null | Record<string, Shape>
  title: string
}

export interface DocFixtures {
  customFieldTypes: Record<string, Record<string, Shape>>
  examples: Record<string, DocExample>
  source: string
}

const here = dirname(fileURLToPath(import.meta.url))
export const docFixtures: DocFixtures = JSON.parse(readFileSync(join(here, '..', 'fixtures', 'pipedrive-docs', 'v2-examples.json'), 'utf8'))

export function jsonType(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  return typeof v
}

/** The differences between a value and a documented shape, as `path: problem` lines (empty when it matches). */
export function shapeProblems(value: unknown, shape: Shape, path = '$'): string[] {
  if (typeof shape === 'string') {
    return jsonType(value) === shape ? [] : [`${path}: expected ${shape}, got ${jsonType(value)}`]
  }

  if (Array.isArray(shape)) {
    if (!Array.isArray(value)) return [`${path}: expected array, got ${jsonType(value)}`]
    if (shape.length === 0) return []
    if (value.length === 0) return [`${path}: expected a non-empty array (the documented one has elements)`]
    return value.flatMap((v, i) => shapeProblems(v, shape[0], `${path}[${i}]`))
  }

  if (jsonType(value) !== 'object') return [`${path}: expected object, got ${jsonType(value)}`]
  const obj = value as Record<string, unknown>
  const out: string[] = []
  for (const [k, s] of Object.entries(shape)) {
    if (!(k in obj)) {
      out.push(`${path}.${k}: missing`)
      continue
    }

    out.push(...(k === 'custom_fields' ? customFieldProblems(obj[k], s, `${path}.${k}`) : shapeProblems(obj[k], s, `${path}.${k}`)))
  }

  return out
}

/** A custom field's problems against the documented format of its type. */
export function customFieldValueProblems(v: unknown, path: string): string[] {
  if (v === null) return []
  const type = (v as {type?: unknown})?.type
  const format = typeof type === 'string' ? docFixtures.customFieldTypes[type] : undefined
  if (!format) return [`${path}: not a documented custom field type (${JSON.stringify(type)})`]
  return shapeProblems(v, format, path)
}

function customFieldProblems(value: unknown, shape: Shape, path: string): string[] {
  if (jsonType(value) !== 'object') return [`${path}: expected object, got ${jsonType(value)}`]
  const fields = Object.entries(value as Record<string, unknown>)
  const out = fields.flatMap(([k, v]) => customFieldValueProblems(v, `${path}.${k}`))
  for (const documented of Object.values(shape as Record<string, string>)) {
    const want = documented === 'null' ? null : documented.replace(/^custom_field:/, '')
    const hit = fields.some(([, v]) => (want === null ? v === null : (v as {type?: unknown})?.type === want))
    if (!hit) out.push(`${path}: no ${want === null ? 'null (cleared)' : want} field, as documented`)
  }

  return out
}
