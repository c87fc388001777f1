import {
  ExitCode, missingCreated, notFoundError, PdhooksError,
} from '../core/errors.js'
import {HttpClient, type ServiceDescription} from '../core/http.js'

/** A Cloud Elements / Open Connectors instance as the platform returns it (fields vary: tolerate both tag shapes). */
export interface Instance {
  [key: string]: unknown
  configuration?: Record<string, unknown>
  createdDate?: string
  disabled?: boolean
  element?: {[key: string]: unknown; id?: number; key?: string; name?: string}
  eventsEnabled?: boolean
  id: number
  name?: string
  tags?: Array<string | {id?: number; name?: string}>
  token?: string
  valid?: boolean
}

export interface NewInstance {
  configuration: Record<string, unknown>
  element: {key: string}
  name: string
  tags?: string[]
}

/** Cloud Elements error bodies: `{message, requestId, providerMessage}`. */
function errorMessage(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined
  const b = body as Record<string, unknown>
  const parts: string[] = []
  if (typeof b.message === 'string' && b.message) parts.push(b.message.replace(/\.$/, ''))
  if (typeof b.providerMessage === 'string' && b.providerMessage) parts.push(`provider: ${b.providerMessage}`)
  const msg = parts.join('; ')
  if (typeof b.requestId === 'string' && b.requestId) return `${msg || 'error'} (request id ${b.requestId})`
  return msg || undefined
}

const ELEMENTS_SERVICE: ServiceDescription = {
  authHint: 'Check PDHOOKS_USER_SECRET and PDHOOKS_ORG_SECRET (or run "pdhooks auth login --user-secret … --org-secret …").',
  errorMessage,
  name: 'Cloud Elements',
  rejected: 'rejected the user or organization secret',
}

/** Normalizes tags: `[{id,name}]` (after create) or plain strings (on GET) → names. */
export function tagNames(tags: Instance['tags']): string[] {
  if (!Array.isArray(tags)) return []
  return tags.map(t => (typeof t === 'string' ? t : String(t?.name ?? t?.id ?? ''))).filter(Boolean)
}

/** Cloud Elements / SAP Open Connectors platform API: instances. */
export class ElementsClient {
  readonly http: HttpClient

  constructor(opts: {baseUrl: string; orgSecret: string; timeoutMs?: number; userAgent: string; userSecret: string}) {
    this.http = new HttpClient({
      baseUrl: opts.baseUrl,
      headers: {authorization: `User ${opts.userSecret}, Organization ${opts.orgSecret}`},
      secrets: [opts.userSecret, opts.orgSecret],
      service: ELEMENTS_SERVICE,
      timeoutMs: opts.timeoutMs,
      userAgent: opts.userAgent,
    })
  }

  /** `POST /instances`: sent once (see createInstance in instances.ts for the lookup after an ambiguous failure). */
  async createInstance(body: NewInstance): Promise<Instance> {
    const res = await this.http.post<Instance>('/instances', {json: body})
    if (!res.body || typeof res.body !== 'object' || Array.isArray(res.body) || typeof res.body.id !== 'number') {
      throw missingCreated('Cloud Elements', res.status, this.http.host, 'instance')
    }

    return res.body
  }

  async deleteInstance(id: number | string): Promise<void> {
    await this.http.delete(`/instances/${encodeURIComponent(String(id))}`).catch(error => this.notFound(error, id))
  }

  async getInstance(id: number | string): Promise<Instance> {
    const res = await this.http.get<Instance>(`/instances/${encodeURIComponent(String(id))}`).catch(error => this.notFound(error, id))
    return res.body
  }

  /** `PATCH /instances/{id}`: partial update (configuration entries, tags). */
  async patchInstance(id: number | string, body: Record<string, unknown>): Promise<Instance> {
    const res = await this.http.patch<Instance>(`/instances/${encodeURIComponent(String(id))}`, {json: body}).catch(error => this.notFound(error, id))
    return res.body
  }

  private notFound(error: unknown, id: number | string): never {
    if (error instanceof PdhooksError && error.status === 404) {
      throw notFoundError(`No instance ${id} on ${this.http.host} (404).`, 'List them with "pdhooks instance list".')
    }

    throw error
  }

  /** `GET /instances`: a JSON array. Anything else (an object, `{"success": false}`, an empty body) is an error (exit 1). */
  async listInstances(): Promise<Instance[]> {
    const res = await this.http.get<Instance[]>('/instances')
    if (Array.isArray(res.body)) return res.body
    const body = res.body as unknown
    const detail = body && typeof body === 'object' ? errorMessage(body) : undefined
    const what = body === undefined ? 'an empty body' : `${typeof body === 'object' && body !== null ? 'an object' : 'a JSON value'}${detail ? ` ("${detail}")` : ''}`
    throw new PdhooksError(`Cloud Elements answered ${res.status} from ${this.http.host} with ${what} instead of the list of instances.`, {
      code: 'bad_response', exit: ExitCode.unexpected, hint: 'Nothing was changed. Try again; if it persists, check --elements-url.', status: res.status,
    })
  }
}
