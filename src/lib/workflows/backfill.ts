/**
 * `pdhooks backfill`: the objects changed in a window, read from Pipedrive's API v2 lists (pipedrive/changed.ts), sent
 * to a receiver as webhooks v2 deliveries, paced, resumable.
 *
 * What a backfill delivery is (the choices, for receivers):
 * - The documented v2 envelope (`meta`, `data`, `previous`), `meta.change_source: "backfill"` and the header
 *   `X-Pdhooks-Backfill: 1`. `data` is the object as the API lists it now (its latest state: one delivery per object,
 *   however often it changed in the window); `previous` is null (earlier values are not known).
 * - `meta.action` is `create` when the object's `add_time` is inside the window (Pipedrive sent, or would have sent,
 *   a create), else `change`. Never `delete`: the lists hold no deleted objects with a deletion time.
 * - `meta.timestamp` is the object's `update_time`; `meta.id` and `meta.correlation_id` are derived from object, id and
 *   update time, so a re-run or a resumed run sends the same ids for the same version: a receiver can deduplicate.
 * - A receiver that fails is retried like Pipedrive retries (4 attempts, `meta.attempt` 1-4), but after 1, 2 and 4 s
 *   instead of 3, 30 and 150 s; a 4xx other than 408 and 429 is not retried. Then the run stops, in order, so that
 *   `--resume` continues exactly after the last object sent.
 */
import {createHash} from 'node:crypto'
import {
  closeSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync,
} from 'node:fs'
import {join} from 'node:path'

import {ExitCode, PdhooksError} from '../core/errors.js'
import {type HttpClient, type HttpResponse} from '../core/http.js'
import {type DeliveryContext} from '../deliveries/build.js'
import {entryBody, iterateJournal} from '../deliveries/journal.js'
import {parsePipedrivePayload, pipedriveV2Payload} from '../deliveries/payloads.js'
import {sendRaw} from '../deliveries/send.js'
import {basicAuthHeader} from '../deliveries/signatures.js'
import {
  BACKFILL_OBJECTS, type ChangedObjectKind, changedPage, timeOf, TOKEN_COST,
} from '../pipedrive/changed.js'

/** Pipedrive's retries span 3 + 30 + 150 s: a failed attempt at `last_delivery_time` may carry an event this much older. */
export const RETRY_SPAN_MS = 183_000

/** Which actions to send: `create` only objects added in the window, `change` only objects changed after their creation. */
export type ActionFilter = '*' | 'change' | 'create'

export interface BackfillWindow {
  /** Epoch ms, inclusive. */
  since: number
  /** Epoch ms, exclusive. */
  until: number
}

/** What the journal already holds: `object:id` → the latest event time seen (epoch ms). */
export type JournalIndex = Map<string, number>

/** Reads a `listen` journal into the times of the Pipedrive objects it holds (v1 and v2 deliveries). */
export async function journalIndex(file: string): Promise<{index: JournalIndex; lines: number; unreadable: number}> {
  const index: JournalIndex = new Map()
  let lines = 0
  let unreadable = 0
  for await (const item of iterateJournal(file)) {
    lines++
    if (!('entry' in item)) {
      unreadable++
      continue
    }

    let body: unknown
    try {
      body = JSON.parse(entryBody(item.entry).toString('utf8'))
    } catch {
      unreadable++
      continue
    }

    const p = parsePipedrivePayload(body)
    if (!p || p.id === '') continue
    const data = (body as {current?: Record<string, unknown>; data?: Record<string, unknown>})
    const updated = timeOf((data.data ?? data.current)?.update_time)
    const t = Math.max(p.date.getTime(), Number.isNaN(updated) ? 0 : updated)
    const key = `${p.object}:${p.id}`
    if (t > (index.get(key) ?? Number.NEGATIVE_INFINITY)) index.set(key, t)
  }

  return {index, lines, unreadable}
}

const seconds = (ms: number): number => Math.floor(ms / 1000)

/** Does the journal hold this version of the object (or a later one)? Compared in whole seconds (v1 times are seconds). */
export function journalHas(index: JournalIndex | undefined, object: string, id: string, updated: number): boolean {
  const seen = index?.get(`${object}:${id}`)
  return seen !== undefined && !Number.isNaN(updated) && seconds(seen) >= seconds(updated)
}

/** `create` or `change` for an object in the window, or undefined when the action filter leaves it out. */
export function actionFor(item: Record<string, unknown>, w: BackfillWindow, filter: ActionFilter): 'change' | 'create' | undefined {
  const added = timeOf(item.add_time)
  const created = !Number.isNaN(added) && added >= seconds(w.since) * 1000 && added < w.until
  if (filter === 'create') return created ? 'create' : undefined
  if (filter === 'change') {
    if (!created) return 'change'
    // created in the window: a change-only webhook heard of it only if it changed after its creation
    const updated = timeOf(item.update_time)
    return !Number.isNaN(updated) && seconds(updated) > seconds(added) ? 'change' : undefined
  }

  return created ? 'create' : 'change'
}

/** A uuid (v4 layout) derived from a text: the same object version always gets the same event id. */
export function stableUuid(text: string): string {
  const h = createHash('sha256').update(text).digest('hex')
  const v = ((Number.parseInt(h[16], 16) & 0x3) | 0x8).toString(16)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${v}${h.slice(17, 20)}-${h.slice(20, 32)}`
}

/** The v2 delivery body of one listed object. */
export function backfillBody(object: string, item: Record<string, unknown>, action: 'change' | 'create', ctx: DeliveryContext, attempt = 1): Record<string, unknown> {
  const id = item.id as number | string
  const updated = timeOf(item.update_time)
  const version = `${object}:${id}:${Number.isNaN(updated) ? '' : updated}`
  return pipedriveV2Payload({
    action,
    changeSource: 'backfill',
    companyId: ctx.companyId,
    data: item,
    host: ctx.host,
    id,
    object,
    previous: null,
    timestamp: Number.isNaN(updated) ? new Date() : new Date(updated),
    userId: ctx.userId,
  }, {
    attempt, correlationId: stableUuid(`correlation:${version}`), eventId: stableUuid(`event:${version}`), webhookId: ctx.webhookId ?? 0, webhookOwnerId: ctx.webhookOwnerId,
  }) as unknown as Record<string, unknown>
}

// ---------------------------------------------------------------------------------------------------------------
// Progress state: resumable runs

export interface BackfillState {
  version: 1
  key: string
  /** What the run was asked (for people: no secrets). */
  command: string
  since: number
  until: number
  objects: string[]
  /** The object list being read and the cursor of the page being sent (null: its first page). */
  position: {cursor: null | string; index: number}
  /** `object:id` of the objects of the current page already sent. */
  sentOnPage: string[]
  counts: BackfillCounts
  startedAt: string
  updatedAt: string
}

export interface BackfillCounts {
  /** Objects found in the window (every list read so far). */
  found: number
  sent: number
  /** Left out because the journal already holds them. */
  skipped: number
  /** Left out by the webhook's action (a create-only webhook, a change-only one). */
  filtered: number
  /** API calls and their estimated token cost. */
  calls: number
  tokens: number
}

export const emptyCounts = (): BackfillCounts => ({
  calls: 0, filtered: 0, found: 0, sent: 0, skipped: 0, tokens: 0,
})

/** The state key of a run: everything that defines it, as given (relative times too, so that `--resume` finds it). */
export function stateKey(parts: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 20)
}

/** Where backfill keeps its progress: `<config dir>/backfill/<key>.json` (+ `.lock` while a run holds it). */
export class StateFile {
  readonly file: string
  private readonly lock: string
  private locked = false

  constructor(dir: string, readonly key: string) {
    this.file = join(dir, `${key}.json`)
    this.lock = join(dir, `${key}.lock`)
  }

  /** The saved state, or undefined. A malformed file is an error naming it (never silently replaced). */
  read(): BackfillState | undefined {
    let text: string
    try {
      text = readFileSync(this.file, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw new PdhooksError(`Cannot read the backfill progress ${this.file}: ${(error as Error).message}.`, {exit: ExitCode.unexpected})
    }

    try {
      const s = JSON.parse(text) as BackfillState
      if (s?.version !== 1 || s.key !== this.key || !s.position || !Array.isArray(s.objects)) throw new Error('not a backfill state')
      return s
    } catch {
      throw new PdhooksError(`The backfill progress ${this.file} is not valid.`, {
        code: 'state_corrupt', exit: ExitCode.unexpected, hint: 'Remove it to start over (objects already sent would be sent again).',
      })
    }
  }

  /** Takes the run's lock: another live process holding it is a conflict (exit 5); a dead one's lock is taken over. */
  acquire(): void {
    mkdirSync(join(this.file, '..'), {mode: 0o700, recursive: true})
    for (let i = 0; i < 2; i++) {
      try {
        const fd = openSync(this.lock, 'wx', 0o600)
        writeFileSync(fd, String(process.pid))
        closeSync(fd)
        this.locked = true
        return
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
        const pid = Number(readFileSafe(this.lock))
        if (pid > 0 && pid !== process.pid && alive(pid)) {
          throw new PdhooksError(`Another backfill with the same parameters is running (pid ${pid}).`, {
            code: 'conflict', exit: ExitCode.conflict, hint: 'Wait for it to finish, or stop it; running both would send objects twice.',
          })
        }

        rmSafe(this.lock)
      }
    }
  }

  release(): void {
    if (this.locked) rmSafe(this.lock)
    this.locked = false
  }

  remove(): void {
    rmSafe(this.file)
  }

  /** Writes the state atomically (a temporary file, mode 0600, renamed over the old one). */
  write(state: BackfillState): void {
    state.updatedAt = new Date().toISOString()
    const tmp = `${this.file}.${process.pid}.tmp`
    try {
      writeFileSync(tmp, JSON.stringify(state) + '\n', {mode: 0o600})
      renameSync(tmp, this.file)
    } catch (error) {
      rmSafe(tmp)
      const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message
      throw new PdhooksError(`Cannot save the backfill progress ${this.file} (${why}).`, {
        code: 'state_unwritable',
        exit: ExitCode.unexpected,
        hint: 'The run stopped. What it sent is sent; --resume may send the last object again (same meta.id, so a receiver can deduplicate). Free the disk or fix the folder, then resume.',
      })
    }
  }
}

function readFileSafe(file: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return ''
  }
}

function rmSafe(file: string): void {
  try {
    unlinkSync(file)
  } catch {
    // already gone
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The run

/** Why a run ended before the end of the window. */
export type StopReason = 'budget' | 'interrupted' | 'rate_limited' | 'receiver'

export interface BackfillStop {
  reason: StopReason
  message: string
  /** The receiver's last answer (null: no answer), for `receiver`. */
  status?: null | number
}

export interface BackfillRunOptions {
  /** The API v2 client. */
  api: HttpClient
  actions: ActionFilter
  basicAuth?: {password: string; user: string}
  ctx: DeliveryContext
  dryRun: boolean
  journal?: JournalIndex
  kinds: ChangedObjectKind[]
  /** Page size (at most 500). */
  limit: number
  /** Stop before an API call that would take the run's estimated token spend beyond this. */
  maxTokens?: number
  onDelivery?: (d: {action: string; attempt: number; id: number | string; object: string; ok: boolean; status: null | number}) => void
  onPage?: (p: {counts: BackfillCounts; object: string}) => void
  signal?: AbortSignal
  state: BackfillState
  /** Saves the state (not called in a dry run). */
  save: (s: BackfillState) => void
  timeoutMs: number
  to: URL
}

/** Gaps between delivery attempts: 1, 2, 4 s (PDHOOKS_RETRY_BASE_MS sets the first, for tests). */
function attemptGaps(): number[] {
  const base = Number(process.env.PDHOOKS_RETRY_BASE_MS ?? 1000)
  return [base, base * 2, base * 4]
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>(resolve => {
    const t = setTimeout(resolve, ms)
    signal?.addEventListener('abort', () => {
      clearTimeout(t)
      resolve()
    }, {once: true})
  })

const header = (h: HttpResponse['headers'], name: string): string | undefined => {
  const v = h[name]
  return Array.isArray(v) ? v[0] : v
}

/** Retry this answer? No answer, 408, 429 and 5xx: yes; other 4xx (credentials, a refused body): no. */
const retryable = (status: null | number): boolean => status === null || status === 408 || status === 429 || status >= 500

/**
 * Reads the window's objects list by list, page by page, and sends each (unless the journal holds it, the action filter
 * leaves it out, or it is a dry run), saving the position after each delivery. Resolves with why it stopped early, or
 * undefined once the window is done.
 */
export async function runBackfill(o: BackfillRunOptions): Promise<BackfillStop | undefined> {
  const {state} = o
  const c = state.counts
  let dailyLeft: number | undefined
  const save = (): void => {
    if (!o.dryRun) o.save(state)
  }

  for (; state.position.index < o.kinds.length; state.position = {cursor: null, index: state.position.index + 1}, state.sentOnPage = [], save()) {
    const kind = o.kinds[state.position.index]
    for (;;) {
      if (o.signal?.aborted) return {message: 'interrupted', reason: 'interrupted'}
      if (o.maxTokens !== undefined && c.tokens + TOKEN_COST.v2List > o.maxTokens) {
        return {message: `the next list call would spend more than --max-tokens ${o.maxTokens} (${c.tokens} spent)`, reason: 'budget'}
      }

      if (dailyLeft !== undefined && dailyLeft <= 0) {
        return {message: 'Pipedrive\'s daily budget is spent (x-daily-requests-left: 0)', reason: 'budget'}
      }

      let page
      try {
        page = await changedPage(o.api, {
          cursor: state.position.cursor, kind, limit: o.limit, since: state.since, until: state.until,
        })
      } catch (error) {
        const e = error as PdhooksError
        if (e instanceof PdhooksError && e.status === 429) {
          return {message: `Pipedrive's rate limit stops the run (${e.hint ?? '429'})`, reason: 'rate_limited'}
        }

        throw error
      }

      c.calls++
      c.tokens += TOKEN_COST.v2List
      const left = Number(header(page.response.headers, 'x-daily-requests-left'))
      if (header(page.response.headers, 'x-daily-requests-left') !== undefined && Number.isFinite(left)) dailyLeft = left
      c.found += page.items.length
      for (const item of page.items) {
        const id = item.id as number | string
        const key = `${kind.object}:${id}`
        if (state.sentOnPage.includes(key)) continue
        if (journalHas(o.journal, kind.object, String(id), timeOf(item.update_time))) {
          c.skipped++
          continue
        }

        const action = actionFor(item, state, o.actions)
        if (!action) {
          c.filtered++
          continue
        }

        if (o.dryRun) {
          c.sent++
          continue
        }

        if (o.signal?.aborted) return {message: 'interrupted', reason: 'interrupted'}
        const r = await deliver(o, kind.object, item, action)
        if (!r.ok && o.signal?.aborted) return {message: 'interrupted', reason: 'interrupted'}
        if (!r.ok) {
          return {
            message: `the receiver did not accept ${action}.${kind.object} ${id} after ${r.attempts} attempt(s) (${r.status ?? r.error})`,
            reason: 'receiver',
            status: r.status,
          }
        }

        c.sent++
        state.sentOnPage.push(key)
        save()
      }

      o.onPage?.({counts: c, object: kind.object})
      if (page.next === null) break
      state.position = {cursor: page.next, index: state.position.index}
      state.sentOnPage = []
      save()
    }
  }

  return undefined
}

async function deliver(o: BackfillRunOptions, object: string, item: Record<string, unknown>, action: 'change' | 'create'): Promise<{attempts: number; error?: string; ok: boolean; status: null | number}> {
  const gaps = attemptGaps()
  let last: {error?: string; status: null | number} = {status: null}
  for (let attempt = 1; attempt <= gaps.length + 1; attempt++) {
    const body = Buffer.from(JSON.stringify(backfillBody(object, item, action, o.ctx, attempt)))
    const headers: Record<string, string> = {'content-type': 'application/json', 'user-agent': 'pdhooks-backfill', 'x-pdhooks-backfill': '1'}
    if (o.basicAuth) headers.authorization = basicAuthHeader(o.basicAuth.user, o.basicAuth.password)
    const r = await sendRaw(o.to, {
      body, headers, method: 'POST', timeoutMs: o.timeoutMs,
    })
    const ok = r.status !== null && r.status >= 200 && r.status < 300
    o.onDelivery?.({
      action, attempt, id: item.id as number | string, object, ok, status: r.status,
    })
    if (ok) return {attempts: attempt, ok: true, status: r.status}
    last = {error: r.error, status: r.status}
    if (!retryable(r.status) || attempt > gaps.length) return {attempts: attempt, ok: false, ...last}
    await sleep(gaps[attempt - 1], o.signal)
    // interrupted while waiting to retry: the object stays unsent (resume sends it)
    if (o.signal?.aborted) return {attempts: attempt, ok: false, ...last}
  }

  return {attempts: gaps.length + 1, ok: false, ...last}
}

/** The kinds of the objects named (`deal,person`), in backfill's order; names backfill cannot read are left out. */
export function kindsOf(objects: string[]): ChangedObjectKind[] {
  return BACKFILL_OBJECTS.filter(k => objects.includes(k.object))
}
