/**
 * Sample objects of every event pdhooks can send, built from the data in `samples/*.json` (see their `$comment`s):
 * the `data`/`previous` (v2) and `current`/`previous` (v1) blocks of Pipedrive deliveries, merges included, and the
 * entities of Pipeliner deliveries. `trigger`, the sandbox's Pipedrive deliveries and its Cloud Elements notifications
 * all take their objects from here; the envelopes (meta, retry, notification) are payloads.ts'.
 */
import {randomUUID} from 'node:crypto'

import {usageError} from '../core/errors.js'
import {toV2Action} from '../pipedrive/events.js'
import {applySetOps, parseSets, type SetOp} from './custom-fields.js'
import v1Samples from './samples/pipedrive-v1.json'
import v2Samples from './samples/pipedrive-v2.json'
import pipelinerSamples from './samples/pipeliner.json'

export type PipedriveVersion = '1.0' | '2.0'
type Obj = Record<string, unknown>

interface ObjectSample {
  change: {from?: Obj; to?: Obj; touch?: Obj}
  create: Obj
  delete?: {as?: 'change'; from?: Obj; to?: Obj}
  merge?: {loser?: Obj; to?: Obj}
  source: string
}

const SAMPLES: Record<PipedriveVersion, Record<string, ObjectSample>> = {
  '1.0': v1Samples.objects as unknown as Record<string, ObjectSample>,
  '2.0': v2Samples.objects as unknown as Record<string, ObjectSample>,
}
const ENTITIES = pipelinerSamples.entities as Record<string, Obj>

/** Objects whose v2 payloads carry `custom_fields` (and whose v1 payloads carry custom field keys). */
export const CUSTOM_FIELD_OBJECTS: readonly string[] = Object.keys(SAMPLES['2.0']).filter(o => 'custom_fields' in SAMPLES['2.0'][o].create)
/** Objects Pipedrive can merge (v1 `merged.X`; v2 a `delete` and a `change`). */
export const MERGEABLE_OBJECTS: readonly string[] = Object.keys(SAMPLES['2.0']).filter(o => SAMPLES['2.0'][o].merge)

/** The objects a version has samples for. */
export function sampleObjects(version: PipedriveVersion): string[] {
  return Object.keys(SAMPLES[version])
}

/** Where an object's sample shape comes from ("documented", a captured delivery, or a guess). */
export function sampleSource(version: PipedriveVersion, object: string): string | undefined {
  return SAMPLES[version][object]?.source
}

/** The three moments a sample lives through: created, last updated (before a delete), now (the event). */
interface Clock {
  created: Date
  now: Date
  updated: Date
}

const TIME = /^@(created|updated|now):(iso|ms|sql|date)$/

function formatTime(d: Date, format: string): string {
  const iso = d.toISOString()
  switch (format) {
  case 'date': {
    return iso.slice(0, 10)
  }

  case 'ms': {
    return iso
  }

  case 'sql': {
    return iso.slice(0, 19).replace('T', ' ')
  }

  default: {
    return iso.replace(/\.\d{3}Z$/, 'Z')
  }
  }
}

/** A deep copy of a template with its time strings (`@now:iso`…) and `@uuid`s filled in. */
function expand(template: unknown, clock: Clock): unknown {
  if (typeof template === 'string') {
    if (template === '@uuid') return randomUUID()
    const m = TIME.exec(template)
    return m ? formatTime(clock[m[1] as keyof Clock], m[2]) : template
  }

  if (Array.isArray(template)) return template.map(t => expand(t, clock))
  if (template && typeof template === 'object') {
    return Object.fromEntries(Object.entries(template).map(([k, v]) => [k, expand(v, clock)]))
  }

  return template
}

const merge = (...parts: Array<Obj | undefined>): Obj => Object.assign({}, ...parts.filter(Boolean)) as Obj
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b)

/**
 * Webhooks v2 `previous` of a change: the fields of `after` whose value differs from `before`, with their value in
 * `before` (null when absent); inside `custom_fields`, only the fields that changed.
 */
function changedFields(before: Obj, after: Obj): Obj {
  const out: Obj = {}
  for (const [k, v] of Object.entries(after)) {
    if (same(before[k], v)) continue
    if (k === 'custom_fields' && v && typeof v === 'object' && !Array.isArray(v)) {
      const was = (before[k] && typeof before[k] === 'object' ? before[k] : {}) as Obj
      out[k] = Object.fromEntries(Object.entries(v as Obj).filter(([f, x]) => !same(was[f], x)).map(([f]) => [f, was[f] ?? null]))
      continue
    }

    out[k] = before[k] ?? null
  }

  return out
}

/** What a sample event should be: one object, one action, and what to change in the sample. */
export interface SampleRequest {
  object: string
  /** Either vocabulary, or `merged` (a merge, in either version). */
  action: string
  /** Object id (default: the sample's; numbers are offset by `n`). */
  id?: number | string
  /** Index of this delivery in a series (`--count`): gives each a different id. */
  n?: number
  /** `--set` values (raw or parsed). */
  sets?: readonly SetOp[] | readonly string[]
  /** Field values of the object (the sandbox's `data`): they hold before and after a change, unless `previous` says otherwise. */
  data?: null | Obj
  /** Field values the object had before the change (the sandbox's `previous`). */
  previous?: null | Obj
  /** Merges: the id of the object merged away (default: the id after `id`). */
  mergedFromId?: number | string
  /** The event time (default now). */
  now?: Date
}

/** One event of a sample: what one delivery is about. */
export interface SampleEvent {
  object: string
  /** The action in the version's own words (`create|change|delete`, or `added|updated|merged|deleted`). */
  action: string
  id: number | string
  data: null | Obj
  previous: null | Obj
  /** v2 merges: on the delete of the merged object, the id it was merged into. */
  mergedToId?: string
  /** v2 merges: on the change of the surviving object, the id merged into it. */
  mergedFromId?: string
  time: Date
}

function sampleId(template: unknown, requested: number | string | undefined, n: number): number | string {
  if (requested !== undefined) return typeof template === 'string' && typeof requested === 'number' ? String(requested) : requested
  if (typeof template === 'number') return template + n
  if (typeof template === 'string' && /^\d+$/.test(template)) return String(Number(template) + n)
  return n === 0 && typeof template === 'string' ? template : randomUUID()
}

function nextId(id: number | string): number | string {
  if (typeof id === 'number') return id + 1
  return /^\d+$/.test(id) ? String(Number(id) + 1) : randomUUID()
}

const withId = (o: Obj, objectId: number | string): Obj => ({...o, id: objectId})
/** The object's id (a `--set id=…` wins), else `fallback`. */
const idOf = (o: Obj, fallback: number | string): number | string => (typeof o.id === 'number' || typeof o.id === 'string' ? o.id : fallback)

function parsedSets(sets: SampleRequest['sets']): SetOp[] {
  if (!sets || sets.length === 0) return []
  return typeof sets[0] === 'string' ? parseSets(sets as string[]) : [...(sets as SetOp[])]
}

/**
 * The events of one sample in one version: one, or two for a merge (v2: the `delete` of the merged object with
 * `merged_to_id`, then the `change` of the surviving one with `merged_from_id`; v1: `merged` then `deleted`). `--set`s
 * and `data` apply to the object after the change (to the last state for a delete); with either, a change is only theirs
 * (plus the update time) instead of the sample's documented update. Throws a usage error for an object the version has no
 * sample of, an unknown action or a bad `--set`.
 */
export function pipedriveSample(version: PipedriveVersion, req: SampleRequest): SampleEvent[] {
  const sample = SAMPLES[version][req.object]
  if (!sample) {
    throw usageError(`No webhooks v${version.charAt(0)} sample of "${req.object}".`, `Objects of version ${version}: ${sampleObjects(version).join(', ')}.`, 'bad_event')
  }

  const ops = parsedSets(req.sets)
  const custom = {customFieldObjects: CUSTOM_FIELD_OBJECTS, object: req.object, version}
  const now = req.now ?? new Date()
  const created = new Date(now.getTime() - 3_600_000)
  const at = (t: Date): Clock => ({created, now: t, updated: t})
  const past = at(created)
  const lastUpdate = at(new Date(now.getTime() - 300_000))
  const n = req.n ?? 0
  const merging = req.action === 'merged' || req.action === 'merge'
  // a merge takes two ids (the survivor's and the next): a series of merges moves by two
  const id = sampleId(sample.create.id, req.id, merging ? 2 * n : n)
  const own = ops.length > 0 || (req.data !== undefined && req.data !== null)
  /** The object after its change: `--set`s and `data` on top. */
  const finish = (o: Obj): Obj => applySetOps(merge(o, req.data ?? undefined), ops, custom)
  const wire = (v2: string): string => (version === '2.0' ? v2 : ({change: 'updated', create: 'added', delete: 'deleted'} as Record<string, string>)[v2] ?? v2)
  const ev = (action: string, o: {data: null | Obj; id: number | string; previous: null | Obj}, extra: Partial<SampleEvent> = {}): SampleEvent => ({
    action: wire(action), data: o.data, id: o.id, object: req.object, previous: o.previous, time: now, ...extra,
  })
  /** A change from `before`: the documented update (or only the caller's), then the update time. */
  const change = (before: Obj, to: Obj | undefined): {after: Obj; previous: Obj} => {
    const after = finish(merge(before, expand(merge(own ? undefined : to, sample.change.touch), at(now)) as Obj))
    return {after, previous: version === '2.0' ? changedFields(before, after) : before}
  }

  /** The object before its change: `data` (fields that stay) and `previous` (their earlier values) on top. */
  const stateBefore = (template: Obj): Obj => merge(withId(expand(template, past) as Obj, id), req.data ?? undefined, req.previous ?? undefined)
  const existing = (): Obj => stateBefore(merge(sample.create, sample.change.from))

  if (merging) {
    if (!sample.merge) {
      throw usageError(`A ${req.object} cannot be merged.`, `Pipedrive merges ${MERGEABLE_OBJECTS.join(', ')}.`, 'bad_event')
    }

    const loserId = req.mergedFromId ?? nextId(id)
    const survivor = change(existing(), sample.merge.to)
    const sid = idOf(survivor.after, id)
    const loser = withId(expand(merge(sample.create, sample.change.from, sample.merge.loser), past) as Obj, loserId)
    const deleted = ev('delete', {data: null, id: loserId, previous: loser}, version === '2.0' ? {mergedToId: String(sid)} : {})
    if (version === '1.0') return [ev('merged', {data: survivor.after, id: sid, previous: survivor.previous}), deleted]
    return [deleted, ev('change', {data: survivor.after, id: sid, previous: survivor.previous}, {mergedFromId: String(loserId)})]
  }

  let v2: string
  try {
    v2 = toV2Action(req.action)
  } catch {
    throw usageError(`Unknown action "${req.action}".`, 'Actions: create, change, delete (v2); added, updated, merged, deleted (v1).', 'bad_event')
  }

  switch (v2) {
  case 'create': {
    const data = finish(withId(expand(sample.create, {created: now, now, updated: now}) as Obj, id))
    return [ev('create', {data, id: idOf(data, id), previous: null})]
  }

  case 'delete': {
    const del = sample.delete
    if (del?.as === 'change' && version === '2.0') {
      // Pipedrive documents deleting this object as a change (a user is deactivated, not deleted)
      const {after, previous} = change(stateBefore(merge(sample.create, del.from)), del.to)
      return [ev('change', {data: after, id: idOf(after, id), previous})]
    }

    const last = finish(merge(existing(), expand(merge(sample.change.to, sample.change.touch, del?.from), lastUpdate) as Obj))
    return [ev('delete', {data: null, id: idOf(last, id), previous: last})]
  }

  case 'change': {
    const {after, previous} = change(existing(), sample.change.to)
    return [ev('change', {data: after, id: idOf(after, id), previous})]
  }

  default: {
    throw usageError(`"${req.action}" has a wildcard: a sample needs one action.`, 'Example: change.deal, added.person.', 'bad_event')
  }
  }
}

/** A sample Pipeliner entity (fresh uuids), with `--set`s applied. */
export function pipelinerSample(entity: string, sets: SampleRequest['sets'] = [], now = new Date()): Obj {
  const template = ENTITIES[entity] ?? {
    created: '@created:ms', id: '@uuid', modified: '@now:ms', name: `Sample ${entity}`,
  }
  const out = expand(template, {created: new Date(now.getTime() - 3_600_000), now, updated: now}) as Obj
  const ops = parsedSets(sets)
  if (ops.some(op => op.kind === 'custom')) {
    throw usageError('custom_fields.KEY:TYPE sets a Pipedrive custom field.', 'For Pipeliner, set the field itself, e.g. --set cf_budget=5000.', 'bad_set')
  }

  return applySetOps(out, ops, {customFieldObjects: [], object: entity, version: '2.0'})
}

/** The Pipeliner entities with a sample. */
export function pipelinerSampleEntities(): string[] {
  return Object.keys(ENTITIES)
}
