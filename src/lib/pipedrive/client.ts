import {ExitCode, missingCreated, PdhooksError} from '../core/errors.js'
import {HttpClient, type HttpResponse, type ServiceDescription} from '../core/http.js'

export interface Webhook {
  [key: string]: unknown
  add_time?: null | string
  event_action: string
  event_object: string
  http_auth_password?: null | string
  http_auth_user?: null | string
  id: number
  is_active?: boolean | number
  last_delivery_time?: null | string
  last_http_status?: null | number
  name?: null | string
  owner_id?: number
  remove_reason?: null | string
  subscription_url: string
  type?: string
  user_id?: number
  version?: string
}

export interface NewWebhook {
  event_action: string
  event_object: string
  http_auth_password?: string
  http_auth_user?: string
  name: string
  subscription_url: string
  user_id?: number
  version: string
}

interface Envelope<T> {
  data?: T
  success?: boolean
}

/** Pipedrive's error bodies: `errors` map, `error` + `error_info`, or `message`. */
function errorMessage(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined
  const b = body as Record<string, unknown>
  if (b.errors && typeof b.errors === 'object') {
    return Object.entries(b.errors as Record<string, unknown>)
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`)
    .join('; ')
  }

  const parts = [b.error, b.error_info, b.message].filter(x => typeof x === 'string' && x) as string[]
  return parts.length > 0 ? parts.join(' – ') : undefined
}

/** Why a list answer is not a list of webhooks. */
function malformedWhy(body: unknown, env: Envelope<unknown> | undefined): string {
  if (env?.success === false) return `"success": false${errorMessage(env) ? ` (${errorMessage(env)})` : ''}`
  if (env) return env.data === undefined ? 'no "data"' : '"data" that is not a list'
  return body === undefined ? 'an empty body' : 'no {"data": […]} envelope'
}

export const PIPEDRIVE_SERVICE: ServiceDescription = {
  authHint: 'Run "pdhooks auth login" or set PDHOOKS_PIPEDRIVE_TOKEN (or PDHOOKS_PIPEDRIVE_ACCESS_TOKEN).',
  errorMessage,
  name: 'Pipedrive',
  rejected: 'rejected the API token',
}

/** The API v2 base beside a v1 base: `https://api.pipedrive.com/v1` and `https://acme.pipedrive.com/api/v1` → `…/api/v2`. */
export function v2Base(v1Base: string): string {
  const url = new URL(v1Base)
  url.pathname = url.pathname.replace(/\/+$/, '').replace(/(\/api)?\/v1$/, '') + '/api/v2'
  return url.toString().replace(/\/+$/, '')
}

export interface PipedriveAuth {
  accessToken?: string
  token?: string
}

/** Pipedrive webhooks API (v1 endpoints): list, create, delete, and the current user. */
export class PipedriveClient {
  readonly http: HttpClient
  /** The headers of the last `GET /webhooks` answer (its rate-limit headers: `doctor`'s API budget). */
  lastHeaders?: HttpResponse['headers']
  private readonly make: (baseUrl: string) => HttpClient
  private v2Client?: HttpClient

  constructor(opts: {auth: PipedriveAuth; baseUrl: string; timeoutMs?: number; userAgent: string}) {
    const headers: Record<string, string> = opts.auth.accessToken
      ? {authorization: `Bearer ${opts.auth.accessToken}`}
      : {'x-api-token': opts.auth.token ?? ''}
    this.make = baseUrl => new HttpClient({
      baseUrl,
      gate: this.http?.gate,
      headers,
      secrets: [opts.auth.token, opts.auth.accessToken],
      service: {
        ...PIPEDRIVE_SERVICE,
        rejected: opts.auth.accessToken ? 'rejected the OAuth access token' : 'rejected the API token',
      },
      timeoutMs: opts.timeoutMs,
      userAgent: opts.userAgent,
    })
    this.http = this.make(opts.baseUrl)
  }

  /**
   * The same credentials against API v2 (`…/api/v2`, beside the v1 base: `/v1` and `/api/v1` both become `/api/v2`),
   * paced by this client's gate (Pipedrive's burst limit is per token, whatever the API version).
   */
  get v2(): HttpClient {
    this.v2Client ??= this.make(v2Base(this.http.baseUrl))
    return this.v2Client
  }

  async createWebhook(body: NewWebhook): Promise<Webhook> {
    const res = await this.http.post<Envelope<Webhook>>('/webhooks', {json: body})
    const data = res.body?.data
    if (!data || typeof data !== 'object') {
      // it may have been created: addWebhook looks it up
      throw missingCreated('Pipedrive', res.status, this.http.host, 'webhook', 'Run "pdhooks webhook list" to see whether it exists.')
    }

    return data
  }

  async currentUserId(): Promise<number | undefined> {
    const res = await this.http.get<Envelope<{id?: number}>>('/users/me')
    return res.body?.data?.id
  }

  async deleteWebhook(id: number | string): Promise<void> {
    await this.http.delete(`/webhooks/${encodeURIComponent(String(id))}`)
  }

  /**
   * `GET /webhooks`. A malformed success is an error (exit 1), never an empty list: `success: false`, or `data` that is
   * not a list. Only `{"success": true, "data": null}` (Pipedrive's v1 form of an empty collection) reads as none.
   */
  async listWebhooks(): Promise<Webhook[]> {
    const res = await this.http.get<Envelope<Webhook[]>>('/webhooks')
    this.lastHeaders = res.headers
    const body = res.body as unknown
    const env = body && typeof body === 'object' && !Array.isArray(body) ? body as Envelope<unknown> : undefined
    if (env && Array.isArray(env.data) && env.success !== false) return env.data as Webhook[]
    if (env && env.data === null && env.success === true) return []
    const why = malformedWhy(body, env)
    throw new PdhooksError(`Pipedrive answered ${res.status} from ${this.http.host} with ${why} instead of the list of webhooks.`, {
      code: 'bad_response', exit: ExitCode.unexpected, hint: 'Nothing was changed. Try again; if it persists, check --pipedrive-url.', status: res.status,
    })
  }
}
