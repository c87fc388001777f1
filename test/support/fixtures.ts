// The fixed values and sample objects of the tests: Pipedrive, Cloud Elements and Pipeliner credentials, URLs and objects.

export const PD = 'https://api.pipedrive.com'
export const TOKEN = 'pd-token-0123456789abcdef'
export const pdEnv = {PDHOOKS_PIPEDRIVE_TOKEN: TOKEN}

export function webhook(over: Record<string, unknown> = {}) {
  return {
    add_time: new Date().toISOString(),
    company_id: 1,
    event_action: 'change',
    event_object: 'deal',
    http_auth_password: null,
    http_auth_user: null,
    id: 1,
    is_active: 1,
    last_delivery_time: null,
    last_http_status: null,
    name: 'pdhooks change.deal',
    owner_id: 7,
    subscription_url: 'https://example.com/hook',
    type: 'general',
    user_id: 7,
    version: '2.0',
    ...over,
  }
}

export const CE_HOST = 'https://api.cloud-elements.com'
export const CE_BASE = `${CE_HOST}/elements/api-v2`
export const ceEnv = {PDHOOKS_ORG_SECRET: 'org-secret-0123456789', PDHOOKS_USER_SECRET: 'user-secret-0123456789'}
export const CE_AUTH = 'User user-secret-0123456789, Organization org-secret-0123456789'

export function instance(over: Record<string, unknown> = {}) {
  return {
    configuration: {
      'base.url': 'https://api.pipedrive.com/v1',
      'event.notification.callback.url': 'https://app.example.com/ce',
      'event.notification.enabled': 'true',
      'event.vendor.type': 'webhook',
      'pipedrive.email': 'ops@example.com',
      'pipedrive.password': '********',
    },
    element: {
      hub: 'crm', id: 16, key: 'pipedrive', name: 'Pipedrive',
    },
    eventsEnabled: true,
    id: 20_931,
    name: 'crm-events',
    tags: ['prod'],
    token: 'bHtCEV5ufn8BB6FaXn/fBxs2LBqpHvE4A0=',
    valid: true,
    ...over,
  }
}

/** A Pipeliner space: its host for nock, and the space the sandbox serves too (`spaces/sandbox`). */
export const PL = 'https://us-east.api.pipelinersales.com'
export const PL_SPACE = '/api/v100/rest/spaces/sandbox'
export const PL_URL = `${PL}${PL_SPACE}`
/** The path of the space's webhooks. */
export const PL_HOOKS = `${PL_SPACE}/entities/Webhooks`
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

/** The Pipeliner error body shape. */
export function plError(status: number, code: number, name: string, message: string) {
  return {
    code, http_status: status, message, name, success: false,
  }
}
