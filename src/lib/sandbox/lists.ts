/**
 * Sandbox emulation of Pipedrive's API v2 list endpoints (`GET /api/v2/deals`, `/persons`, `/organizations`,
 * `/activities`, `/products`, `/pipelines`, `/stages`), over the objects the sandbox's changes made
 * (`POST /sandbox/events`, recorded whether or not a webhook heard of them: a change made while a webhook is banned is
 * in the lists like any other).
 *
 * As the real API documents them (see pipedrive/changed.ts for the sources): `cursor` + `limit` (default 100, at most
 * 500) paging with `additional_data.next_cursor` (null on the last page); `updated_since` (inclusive) and
 * `updated_until` (exclusive) in RFC 3339 whole seconds on deals, persons, organizations and activities only; `sort_by`
 * (`id`, `update_time`, `add_time`) and `sort_direction`; unknown parameters are refused (400), as v2's strict
 * validation does. Each object is the latest state of the samples `trigger` sends (the v2 webhook `data` shape), its
 * `update_time` the time of its last change, its `add_time` that of its create when the sandbox saw one. Deleted and
 * merged-away objects are not listed.
 */
import type {ChangeRecord} from './state.js'

import {changeEvents} from './deliveries.js'
import {type ApiRequest, json, type Reply} from './http.js'
import {
  extractToken, type PipedriveContext, rateHeaders, UNAUTHORIZED_BODY,
} from './pipedrive.js'

/** List path → object, and whether the list takes `updated_since` / `updated_until`. */
const LISTS: Record<string, {filter: boolean; object: string}> = {
  activities: {filter: true, object: 'activity'},
  deals: {filter: true, object: 'deal'},
  organizations: {filter: true, object: 'organization'},
  persons: {filter: true, object: 'person'},
  pipelines: {filter: false, object: 'pipeline'},
  products: {filter: false, object: 'product'},
  stages: {filter: false, object: 'stage'},
}

const V2_PREFIX = '/api/v2/'
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/
const iso = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')

const invalid = (message: string): Reply => json(400, {
  success: false, error: `${message}`, code: 'ERR_SCHEMA_VALIDATION_FAILED', error_info: 'Please check developers.pipedrive.com',
})

/** The objects of one type as the changes left them: latest state, deleted and merged-away ones left out. */
export function listedObjects(changes: ChangeRecord[], object: string): Array<Record<string, unknown>> {
  const latest = new Map<string, {added?: number; last: ChangeRecord}>()
  const gone = new Set<string>()
  for (const c of [...changes].sort((a, b) => a.seq - b.seq)) {
    if (c.object !== object) continue
    const key = String(c.id)
    if (c.mergedFromId !== undefined) gone.add(String(c.mergedFromId))
    if (c.action === 'delete') {
      gone.add(key)
      latest.delete(key)
      continue
    }

    gone.delete(key)
    const prev = latest.get(key)
    latest.set(key, {added: prev?.added ?? (c.action === 'create' ? c.time : undefined), last: c})
  }

  const out: Array<Record<string, unknown>> = []
  for (const [key, {added, last}] of latest) {
    if (gone.has(key)) continue
    let data: Record<string, unknown>
    try {
      const events = changeEvents({...last, action: last.action === 'create' ? 'create' : 'change', mergedFromId: undefined}, '2.0')
      data = {...events.at(-1)?.data}
    } catch {
      data = {...last.data, id: last.id}
    }

    data.id = last.id
    data.update_time = iso(last.time)
    if (added !== undefined) data.add_time = iso(added)
    out.push(data)
  }

  return out
}

const cursorOf = (offset: number): string => Buffer.from(JSON.stringify({offset})).toString('base64url')

function offsetOf(cursor: string): number | undefined {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as {offset?: unknown}
    return typeof v.offset === 'number' && Number.isInteger(v.offset) && v.offset >= 0 ? v.offset : undefined
  } catch {
    return undefined
  }
}

/** Is this a v2 list path the sandbox serves? */
export const isV2ListPath = (path: string): boolean => path.startsWith(V2_PREFIX)

/** Handles `GET /api/v2/<list>`. */
export function handleV2Lists(ctx: PipedriveContext, req: ApiRequest): Reply {
  const token = extractToken(req.headers, req.query)
  if (!token) return json(401, UNAUTHORIZED_BODY, rateHeaders(ctx.limiter.peek()))
  const rate = ctx.limiter.take(token)
  const headers = rateHeaders(rate)
  if (!rate.allowed) {
    return json(429, {success: false, error: 'Request over limit', errorCode: 429}, {...headers, 'retry-after': String(Math.max(1, rate.reset))})
  }

  const reply = answer(ctx, req)
  reply.headers = {...headers, ...reply.headers}
  return reply
}

function answer(ctx: PipedriveContext, req: ApiRequest): Reply {
  const name = req.path.slice(V2_PREFIX.length).replace(/\/+$/, '')
  const list = LISTS[name]
  if (!list) return json(404, {success: false, error: `Unknown method ${req.method} ${req.path}`, errorCode: 404})
  if (req.method !== 'GET') return json(405, {success: false, error: `${req.method} is not emulated on ${req.path}`, errorCode: 405})
  const q = req.query
  const allowed = new Set(['api_token', 'cursor', 'limit', 'sort_by', 'sort_direction', ...(list.filter ? ['updated_since', 'updated_until'] : [])])
  for (const k of q.keys()) if (!allowed.has(k)) return invalid(`Unknown query parameter "${k}" for GET ${req.path}`)
  let limit = 100
  if (q.has('limit')) {
    limit = Number(q.get('limit'))
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) return invalid('limit must be an integer from 1 to 500')
  }

  let offset = 0
  const cursor = q.get('cursor')
  if (cursor !== null && cursor !== '') {
    const o = offsetOf(cursor)
    if (o === undefined) return invalid('cursor is not valid')
    offset = o
  }

  const bound = (k: string): number | string | undefined => {
    const v = q.get(k)
    if (v === null) return undefined
    if (!RFC3339.test(v)) return `${k} must be an RFC 3339 date-time in whole seconds (e.g. 2025-01-01T10:20:00Z)`
    return Date.parse(v)
  }

  const since = bound('updated_since')
  const until = bound('updated_until')
  if (typeof since === 'string') return invalid(since)
  if (typeof until === 'string') return invalid(until)
  const sortBy = q.get('sort_by') ?? 'id'
  const direction = q.get('sort_direction') ?? 'asc'
  if (!['add_time', 'id', 'update_time'].includes(sortBy)) return invalid('sort_by must be one of: id, update_time, add_time')
  if (!['asc', 'desc'].includes(direction)) return invalid('sort_direction must be asc or desc')
  const key = (o: Record<string, unknown>): number => (sortBy === 'id' ? Number(o.id) : Date.parse(String(o[sortBy])))
  const rows = listedObjects(ctx.state.changes.items, list.object)
  .filter(o => {
    const t = Date.parse(String(o.update_time))
    return (since === undefined || t >= since) && (until === undefined || t < until)
  })
  .sort((a, b) => ((key(a) - key(b)) || (Number(a.id) - Number(b.id))) * (direction === 'desc' ? -1 : 1))
  const data = rows.slice(offset, offset + limit)
  const next = offset + limit < rows.length ? cursorOf(offset + limit) : null
  return json(200, {success: true, data, additional_data: {next_cursor: next}})
}
