/**
 * Reading the objects that changed in a time window from Pipedrive's API v2 list endpoints (what `backfill` sends).
 *
 * Facts this module relies on (checked in 2026 against Pipedrive's own documentation and official clients):
 * - `GET /api/v2/deals`, `/api/v2/persons`, `/api/v2/organizations` and `/api/v2/activities` take `updated_since`
 *   ("only … with an `update_time` later than or equal to this time", inclusive) and `updated_until` ("earlier than this
 *   time", exclusive), both RFC 3339 such as `2025-01-01T10:20:00Z` (whole seconds: fractions are refused by the v2
 *   validator). Sources: developers.pipedrive.com/docs/api/v2 (Deals, Persons, Organizations, Activities: "Get all …"),
 *   and the generated official clients (pipedrive/client-php docs/versions/v2/Api/DealsApi.md, PersonsApi.md,
 *   ActivitiesApi.md; pipedrive/client-nodejs src/versions/v2/api/*.ts).
 * - `GET /api/v2/products`, `/api/v2/pipelines` and `/api/v2/stages` have no such filter, only `sort_by` (`update_time`
 *   among others) and `sort_direction`: they are read newest first and the reading stops at the first object older
 *   than the window (ProductsApi.md, PipelinesApi.md, StagesApi.md of the same clients).
 * - Every v2 list pages with a cursor: `cursor` (opaque) and `limit` (default 100, at most 500); the answer's
 *   `additional_data.next_cursor` is the next page's cursor, null after the last page
 *   (pipedrive.readme.io/docs/core-api-concepts-pagination: "All v2 API list endpoints").
 * - Leads (`GET /v1/leads?updated_since=`) and notes (`GET /v1/notes?updated_since=`) have only v1 offset paging and no
 *   upper bound; users (`GET /v1/users`) have no time filter at all: backfill does not read them (yet).
 * - Deletions: the lists return existing objects only. `GET /api/v2/deals?status=deleted` alone lists deleted deals
 *   ("deals that have been deleted up to 30 days ago"), but without the time of the deletion; `GET /v1/recents`
 *   (`since_timestamp`, item types incl. `delete_log`) documents no item shape for deletions. pdhooks therefore never
 *   invents a delete event: deletions are not recovered.
 * - Token costs (Pipedrive's token-based rate limits, pipedrive.readme.io/docs/core-api-concepts-rate-limiting and
 *   "Guide for optimizing API usage"): a v1 list GET costs 20 tokens, a single-object GET 2; the v2 endpoints cost "up to
 *   half" of v1, so a v2 list page is counted as 10. GET /v1/webhooks costs 10 (reference/api-notes.md). The daily
 *   budget is 30,000 tokens × the plan's multiplier × seats, per company, reset daily; when it is spent, requests are
 *   refused (429) until the reset.
 * - Rate-limit headers (same page): `x-ratelimit-limit`, `x-ratelimit-remaining` and `x-ratelimit-reset` for the burst
 *   limit (per token, rolling 2 s window: 20/40/80-100/120 requests by plan with an API token, 80-480 with OAuth), which
 *   http.ts' RateGate paces; `x-daily-requests-left`, documented for API-token requests as what is left of the day
 *   (UTC): backfill stops, resumably, when it reaches 0.
 */
import {ExitCode, PdhooksError} from '../core/errors.js'
import {type HttpClient, type HttpResponse} from '../core/http.js'

/** How an object's list finds the window: the API filters it, or pdhooks reads newest first and stops. */
export type WindowFilter = 'server' | 'sorted'

export interface ChangedObjectKind {
  /** The webhook object (`deal`, `person`…). */
  object: string
  /** The v2 list path under `/api/v2`. */
  path: string
  filter: WindowFilter
}

/** The objects backfill can read, in the order it sends them. */
export const BACKFILL_OBJECTS: readonly ChangedObjectKind[] = [
  {filter: 'server', object: 'deal', path: '/deals'},
  {filter: 'server', object: 'person', path: '/persons'},
  {filter: 'server', object: 'organization', path: '/organizations'},
  {filter: 'server', object: 'activity', path: '/activities'},
  {filter: 'sorted', object: 'product', path: '/products'},
  {filter: 'sorted', object: 'pipeline', path: '/pipelines'},
  {filter: 'sorted', object: 'stage', path: '/stages'},
]

/** Webhook objects whose changes the API cannot list by time (see the facts above). */
export const UNRECOVERABLE_OBJECTS: Record<string, string> = {
  board: 'no list filter by update time',
  deal_installment: 'no list filter by update time',
  deal_product: 'no list filter by update time',
  lead: 'only the v1 list (offset paging, no upper bound)',
  note: 'only the v1 list (offset paging, no upper bound)',
  phase: 'no list filter by update time',
  project: 'no list filter by update time',
  task: 'no list filter by update time',
  user: 'the users list has no time filter',
}

/** Largest page a v2 list gives. */
export const MAX_LIMIT = 500

/** Estimated token cost of each call backfill makes. */
export const TOKEN_COST = {
  me: 2,
  v2List: 10,
  webhooks: 10,
} as const

/** RFC 3339 in whole seconds, as the v2 filters take it (`2025-01-01T10:20:00Z`). */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** Pipedrive times: ISO (`…Z`), or the older `2024-09-27 14:30:00` (UTC). NaN when unreadable. */
export function timeOf(value: unknown): number {
  if (typeof value !== 'string' || value === '') return Number.NaN
  const s = /^\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)?$/.test(value) ? value.replace(' ', 'T') + 'Z' : value
  return Date.parse(s)
}

export interface ChangedPage {
  /** The objects of this page that are inside the window. */
  items: Array<Record<string, unknown>>
  /** The cursor that gives the page after this one (null: this was the last one in the window). */
  next: null | string
  /** The API's answer (its rate-limit headers). */
  response: HttpResponse
}

export interface PageRequest {
  cursor: null | string
  kind: ChangedObjectKind
  limit: number
  /** Epoch ms, inclusive. */
  since: number
  /** Epoch ms, exclusive. */
  until: number
}

/**
 * Reads one page of objects changed in [since, until). `server` kinds send `updated_since`/`updated_until` (the API
 * filters); `sorted` kinds read newest first and end at the first object older than the window. A malformed answer is
 * an error (exit 1), never an empty page.
 */
export async function changedPage(http: HttpClient, req: PageRequest): Promise<ChangedPage> {
  const searchParams: Record<string, number | string | undefined> = {cursor: req.cursor ?? undefined, limit: req.limit}
  if (req.kind.filter === 'server') {
    searchParams.updated_since = rfc3339(req.since)
    // `updated_until` is exclusive; the window's end is too (a partial second is rounded up so it is not lost)
    searchParams.updated_until = rfc3339(req.until + 999)
  } else {
    searchParams.sort_by = 'update_time'
    searchParams.sort_direction = 'desc'
  }

  const res = await http.get<unknown>(req.kind.path, {searchParams})
  const body = res.body as {additional_data?: {next_cursor?: unknown}; data?: unknown; success?: unknown} | undefined
  if (!body || typeof body !== 'object' || body.success === false || !Array.isArray(body.data)) {
    throw new PdhooksError(`Pipedrive answered ${res.status} from ${http.host} with no list of ${req.kind.object}s (GET /api/v2${req.kind.path}).`, {
      code: 'bad_response', exit: ExitCode.unexpected, hint: 'Nothing was sent for this page. Try again; if it persists, check --pipedrive-url.', status: res.status,
    })
  }

  const rows = (body.data as unknown[]).filter((x): x is Record<string, unknown> => Boolean(x) && typeof x === 'object' && !Array.isArray(x))
  const cursor = body.additional_data?.next_cursor
  let next = typeof cursor === 'string' && cursor !== '' ? cursor : null
  if (req.kind.filter === 'server') {
    // the API filtered; a row outside the window (clock rounding) is still left out
    return {items: rows.filter(r => inWindow(r, req.since, req.until)), next, response: res}
  }

  const items: Array<Record<string, unknown>> = []
  for (const r of rows) {
    const t = timeOf(r.update_time)
    if (!Number.isNaN(t) && t < req.since) {
      next = null
      break
    }

    if (inWindow(r, req.since, req.until)) items.push(r)
  }

  return {items, next, response: res}
}

function inWindow(r: Record<string, unknown>, since: number, until: number): boolean {
  const t = timeOf(r.update_time)
  // an object without a readable update time is kept: the API put it in the window
  return Number.isNaN(t) || (t >= Math.floor(since / 1000) * 1000 && t < until)
}
