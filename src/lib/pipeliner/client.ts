import {ExitCode, missingCreated, PdhooksError} from '../core/errors.js'
import {HttpClient, type HttpResponse, type ServiceDescription} from '../core/http.js'
import {basicAuthHeader} from '../deliveries/signatures.js'

export interface PipelinerWebhook {
  [key: string]: unknown
  application_id?: null | string
  client_id?: null | string
  created?: null | string
  events: string[]
  id: string
  insecure_ssl?: boolean
  is_deleted?: boolean
  modified?: null | string
  options?: null | Record<string, unknown>
  signature?: null | string
  url: string
}

/** The body of `POST /entities/Webhooks`. */
export interface NewPipelinerWebhook {
  events: string[]
  insecure_ssl: boolean
  options?: Record<string, unknown>
  signature?: string
  url: string
}

/** Pages read at most by `listAll` (100 webhooks each), a guard against a service that never ends. */
const MAX_PAGES = 1000

/** Pipeliner error bodies: `{success:false, http_status, code, name, message}`. */
function errorMessage(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined
  const b = body as Record<string, unknown>
  const msg = typeof b.message === 'string' ? b.message : undefined
  const name = typeof b.name === 'string' ? b.name : undefined
  if (msg && name) return `${msg} (${name}${b.code === undefined ? '' : ` ${b.code}`})`
  return msg ?? name
}

const PIPELINER_SERVICE: ServiceDescription = {
  authHint: 'Check PDHOOKS_PIPELINER_USERNAME and PDHOOKS_PIPELINER_PASSWORD (the space\'s API key pair), or run "pdhooks auth login --pipeliner-url … --pipeliner-username … --pipeliner-password …".',
  errorMessage,
  name: 'Pipeliner',
  rejected: 'rejected the API key pair',
}

interface Envelope<T> {
  data?: T
  success?: boolean
}

interface Page<T> {
  data?: T[]
  page_info?: {end_cursor?: null | string; has_next_page?: boolean}
}

/** Pipeliner CRM webhooks API (`<service url>/entities/Webhooks`), HTTP Basic with the space's key pair. */
export class PipelinerClient {
  readonly http: HttpClient

  constructor(opts: {baseUrl: string; password: string; timeoutMs?: number; userAgent: string; username: string}) {
    this.http = new HttpClient({
      baseUrl: opts.baseUrl,
      headers: {authorization: basicAuthHeader(opts.username, opts.password)},
      secrets: [opts.password],
      service: PIPELINER_SERVICE,
      timeoutMs: opts.timeoutMs,
      userAgent: opts.userAgent,
    })
  }

  /** `POST /entities/Webhooks` → 201 `{success, data}`: the created webhook. Never resent blindly (POST). */
  async createWebhook(body: NewPipelinerWebhook): Promise<PipelinerWebhook> {
    const res = await this.http.post<Envelope<PipelinerWebhook>>('/entities/Webhooks', {json: body})
    this.checkSuccess(res)
    const data = res.body?.data
    if (!data || typeof data !== 'object' || typeof data.id !== 'string') {
      // it may have been created: addPipelinerWebhook looks it up
      throw missingCreated('Pipeliner', res.status, this.http.host, 'webhook', 'Run "pdhooks pipeliner webhook list" to see whether it exists.')
    }

    return data
  }

  /** `DELETE /entities/Webhooks/{id}`. */
  async deleteWebhook(id: string): Promise<void> {
    const res = await this.http.delete<Envelope<unknown>>(`/entities/Webhooks/${encodeURIComponent(id)}`)
    this.checkSuccess(res)
  }

  /**
   * `POST /entities/Webhooks/batch-delete` with a JSON array of ids. Returns the ids the service says it deleted when
   * it lists them (`data: [ids]`), else undefined (the answer does not say).
   */
  async batchDelete(ids: string[]): Promise<string[] | undefined> {
    const res = await this.http.post<Envelope<unknown>>('/entities/Webhooks/batch-delete', {idempotent: true, json: ids})
    this.checkSuccess(res)
    const data = res.body?.data
    return Array.isArray(data) && data.every(x => typeof x === 'string') ? data : undefined
  }

  /** Every webhook, following the cursor (`first=100&after=<end_cursor>`) while `has_next_page`. */
  async listAll(): Promise<PipelinerWebhook[]> {
    const all: PipelinerWebhook[] = []
    const seen = new Set<string>()
    let after: string | undefined
    for (let page = 0; page < MAX_PAGES; page++) {
      const {cursor, data, hasNext} = await this.listPage(100, after)
      all.push(...data)
      if (!hasNext || !cursor) return all
      if (seen.has(cursor)) {
        throw new PdhooksError(`Pipeliner returned the same page cursor twice from ${this.http.host}; stopped after ${page + 1} page(s).`, {
          code: 'bad_response', exit: ExitCode.unexpected, hint: 'Try again later.',
        })
      }

      seen.add(cursor)
      after = cursor
    }

    throw new PdhooksError(`Pipeliner kept announcing more pages after ${MAX_PAGES} pages from ${this.http.host}.`, {
      code: 'bad_response', exit: ExitCode.unexpected,
    })
  }

  /** One page of webhooks. */
  async listPage(first = 100, after?: string): Promise<{cursor?: string; data: PipelinerWebhook[]; hasNext: boolean}> {
    const res = await this.http.get<Page<PipelinerWebhook>>('/entities/Webhooks', {searchParams: {after, first}})
    this.checkSuccess(res)
    if (!Array.isArray(res.body?.data)) {
      // never read as an empty list: `delete --all` would say "nothing to delete", `add` would create a duplicate
      throw new PdhooksError(`Pipeliner answered ${res.status} from ${this.http.host} with ${res.body === undefined ? 'an empty body' : '"data" that is not a list'} instead of the list of webhooks.`, {
        code: 'bad_response', exit: ExitCode.unexpected, hint: 'Nothing was changed. Try again; if it persists, check --pipeliner-url.', status: res.status,
      })
    }

    const info = res.body.page_info
    return {cursor: info?.end_cursor ?? undefined, data: res.body.data, hasNext: Boolean(info?.has_next_page && info?.end_cursor)}
  }

  /** A 2xx answer whose body says `success: false` is an error too. */
  private checkSuccess(res: HttpResponse<unknown>): void {
    const body = res.body as Envelope<unknown> | undefined
    if (body && typeof body === 'object' && !Array.isArray(body) && body.success === false) {
      const detail = errorMessage(body)
      throw new PdhooksError(`Pipeliner reported a failure (${res.status} from ${this.http.host})${detail ? `: ${detail}` : ''}.`, {
        code: 'failed', exit: ExitCode.unexpected, status: res.status,
      })
    }
  }
}
