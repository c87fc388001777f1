import {HttpClient, type ServiceDescription} from './http.js'
import {basicAuthHeader} from './signatures.js'

export interface PipelinerWebhook {
  [key: string]: unknown
  events: string[]
  id: string
  insecure_ssl?: boolean
  options?: Record<string, unknown>
  signature?: null | string
  url: string
}

/** Pipeliner error bodies: `{success:false, http_status, code, name, message}`. */
function errorMessage(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined
  const b = body as Record<string, unknown>
  const msg = typeof b.message === 'string' ? b.message : undefined
  const name = typeof b.name === 'string' ? b.name : undefined
  if (msg && name) return `${msg} (${name}${b.code === undefined ? '' : ` ${b.code}`})`
  return msg ?? name
}

export const PIPELINER_SERVICE: ServiceDescription = {
  authHint: 'Check PDHOOKS_PIPELINER_USERNAME and PDHOOKS_PIPELINER_PASSWORD (the space\'s API key pair), or run "pdhooks auth login --pipeliner-url … --pipeliner-username … --pipeliner-password …".',
  errorMessage,
  name: 'Pipeliner',
  rejected: 'rejected the API key pair',
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

  /** One page of webhooks. */
  async listPage(first = 100, after?: string): Promise<{cursor?: string; data: PipelinerWebhook[]; hasNext: boolean}> {
    const res = await this.http.get<Page<PipelinerWebhook>>('/entities/Webhooks', {searchParams: {after, first}})
    const info = res.body?.page_info
    return {cursor: info?.end_cursor ?? undefined, data: Array.isArray(res.body?.data) ? res.body.data : [], hasNext: Boolean(info?.has_next_page && info?.end_cursor)}
  }
}
