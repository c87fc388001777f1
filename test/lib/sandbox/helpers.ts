// Shared helpers of the sandbox tests: a sandbox on an ephemeral port and fetch shortcuts (the receiver, the wait helper
// and the test clock are in test/support/).

import {type Sandbox, type SandboxOptions, startSandbox} from '../../../src/lib/sandbox/index.js'
import {PL_SPACE} from '../../support/fixtures.js'

export const PD_TOKEN = 'sandbox-token'
export const CE_AUTH = 'User sandbox-user-secret, Organization sandbox-org-secret'
export const PL_AUTH = 'Basic ' + Buffer.from('sandbox:sandbox-password').toString('base64')

export async function sandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  return startSandbox({port: 0, burst: 0, ...opts})
}

/** Node's built-in fetch (stable on Node 20 in practice; the lint rule flags it as experimental before 21). */
// eslint-disable-next-line n/no-unsupported-features/node-builtins
export const rawFetch = globalThis.fetch

export type Init = {
  body?: string
  headers?: Record<string, string>
  json?: unknown
  method?: string
  signal?: AbortSignal
}

export interface Res {
  status: number
  headers: {get(name: string): null | string}
  text: string
  body: any
}

function withDefault(headers: Record<string, string> | undefined, name: string, value: string, unless: string[] = [name]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(headers ?? {})) out[k.toLowerCase()] = v
  if (!unless.some(u => u in out)) out[name] = value
  return out
}

/** fetch + read the body (parsed as JSON when it is JSON). */
export async function call(url: string, init: Init = {}): Promise<Res> {
  const {json, ...rest} = init
  const headers: Record<string, string> = {}
  for (const [k, v] of Object.entries(rest.headers ?? {})) headers[k.toLowerCase()] = v
  let {body} = rest
  if (json !== undefined) {
    body = JSON.stringify(json)
    headers['content-type'] ??= 'application/json'
  }

  const r = await rawFetch(url, {...rest, headers, body})
  const text = await r.text()
  let parsed: any
  try {
    parsed = text === '' ? undefined : JSON.parse(text)
  } catch {
    parsed = undefined
  }

  return {
    status: r.status, headers: r.headers, text, body: parsed,
  }
}

export function pd(sb: Sandbox, path: string, init: Init = {}): Promise<Res> {
  return call(sb.url + '/v1' + path, {...init, headers: withDefault(init.headers, 'x-api-token', PD_TOKEN, ['x-api-token', 'authorization'])})
}

export function ce(sb: Sandbox, path: string, init: Init = {}): Promise<Res> {
  return call(sb.url + '/elements/api-v2' + path, {...init, headers: withDefault(init.headers, 'authorization', CE_AUTH)})
}

export function pl(sb: Sandbox, path: string, init: Init = {}): Promise<Res> {
  return call(sb.url + PL_SPACE + path, {...init, headers: withDefault(init.headers, 'authorization', PL_AUTH)})
}

export function hook(sb: Sandbox, path: string, json?: unknown, method = json === undefined ? 'GET' : 'POST'): Promise<Res> {
  return call(sb.url + '/sandbox' + path, {method, ...(json === undefined ? {} : {json})})
}

export function webhookBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    subscription_url: 'https://example.com/hook', event_action: 'change', event_object: 'deal', name: 'pdhooks test', ...overrides,
  }
}
