import nock from 'nock'

/** A Pipeliner space on a fake host (nock only). */
export const PL = 'https://us-east.api.pipelinersales.com'
export const SPACE = '/api/v100/rest/spaces/abc'
export const PL_URL = `${PL}${SPACE}`
export const PL_USER = 'api-key-user'
export const PL_PASSWORD = 'pl-password-0123456789'
export const plEnv = {PDHOOKS_PIPELINER_PASSWORD: PL_PASSWORD, PDHOOKS_PIPELINER_URL: PL_URL, PDHOOKS_PIPELINER_USERNAME: PL_USER}
export const BASIC = `Basic ${Buffer.from(`${PL_USER}:${PL_PASSWORD}`).toString('base64')}`
export const SIG = '01234567-abcd-dcba-ffff-000000000000'

export const uuid = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`

export function plWebhook(over: Record<string, unknown> = {}) {
  return {
    application_id: uuid(900),
    client_id: uuid(901),
    created: '2024-05-01T10:20:30',
    events: ['Account.Create'],
    id: uuid(1),
    insecure_ssl: false,
    is_deleted: false,
    modified: '2024-05-01T10:20:30',
    options: null,
    signature: null,
    url: 'https://example.com/pl',
    ...over,
  }
}

/** `GET /entities/Webhooks?first=100[&after=…]` answering one page. */
export function listPage(data: unknown[], opts: {after?: string; next?: string} = {}): nock.Scope {
  const query: Record<string, string> = {first: '100'}
  if (opts.after) query.after = opts.after
  return nock(PL).get(`${SPACE}/entities/Webhooks`).query(query).reply(200, {
    data,
    page_info: {
      end_cursor: opts.next ?? (data.length > 0 ? 'last-cursor' : null), has_next_page: Boolean(opts.next), has_previous_page: Boolean(opts.after), start_cursor: null,
    },
    success: true,
  })
}

/** The Pipeliner error body shape. */
export function plError(status: number, code: number, name: string, message: string) {
  return {
    code, http_status: status, message, name, success: false,
  }
}
