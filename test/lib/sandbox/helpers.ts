// Shared helpers of the sandbox tests: a sandbox on an ephemeral port, fetch shortcuts and a delivery receiver.
import type {AddressInfo} from 'node:net'

import {createServer, type IncomingHttpHeaders} from 'node:http'

import {type Sandbox, type SandboxOptions, startSandbox} from '../../../src/lib/sandbox/index.js'

export const PD_TOKEN = 'sandbox-token'
export const CE_AUTH = 'User sandbox-user-secret, Organization sandbox-org-secret'
export const PL_AUTH = 'Basic ' + Buffer.from('sandbox:sandbox-password').toString('base64')
export const PL_BASE = '/api/v100/rest/spaces/sandbox'

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
  return call(sb.url + PL_BASE + path, {...init, headers: withDefault(init.headers, 'authorization', PL_AUTH)})
}

export function hook(sb: Sandbox, path: string, json?: unknown, method = json === undefined ? 'GET' : 'POST'): Promise<Res> {
  return call(sb.url + '/sandbox' + path, {method, ...(json === undefined ? {} : {json})})
}

export function webhookBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    subscription_url: 'https://example.com/hook', event_action: 'change', event_object: 'deal', name: 'pdhooks test', ...overrides,
  }
}

export interface Received {
  method: string
  path: string
  headers: IncomingHttpHeaders
  raw: string
  json: any
}

export interface Receiver {
  url: string
  received: Received[]
  close(): Promise<void>
  /** Resolves once `n` requests arrived (rejects after `timeoutMs`). */
  waitFor(n: number, timeoutMs?: number): Promise<Received[]>
}

/**
 * A local HTTP server that records every request. `respond` picks the status for the n-th request (0-based) and an
 * optional delay; default 200 at once.
 */
export async function receiver(respond: (n: number, r: Received) => number | {delayMs?: number; status: number} = () => 200): Promise<Receiver> {
  const received: Received[] = []
  const waiters: Array<() => void> = []
  const timers = new Set<NodeJS.Timeout>()
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8')
      let json: unknown
      try {
        json = JSON.parse(raw)
      } catch {
        json = undefined
      }

      const r: Received = {
        method: req.method ?? '', path: req.url ?? '', headers: req.headers, raw, json,
      }
      const n = received.length
      received.push(r)
      for (const w of waiters) w()
      const choice = respond(n, r)
      const {delayMs = 0, status} = typeof choice === 'number' ? {status: choice} : choice
      const send = (): void => {
        if (!res.destroyed) res.writeHead(status, {'content-type': 'application/json'}).end('{}')
      }

      if (delayMs > 0) {
        const t = setTimeout(() => {
          timers.delete(t)
          send()
        }, delayMs)
        timers.add(t)
      } else send()
    })
  })
  await new Promise<void>(resolve => {
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const {port} = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    async close() {
      for (const t of timers) clearTimeout(t)
      await new Promise<void>(resolve => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    },
    waitFor(n, timeoutMs = 3000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          if (received.length >= n) {
            clearTimeout(timer)
            resolve(received)
            return true
          }

          return false
        }

        const timer = setTimeout(() => reject(new Error(`expected ${n} requests, got ${received.length}`)), timeoutMs)
        if (!check()) waiters.push(check)
      })
    },
  }
}

export async function sleep(ms: number): Promise<void> {
  await new Promise(resolve => {
    setTimeout(resolve, ms)
  })
}

/** Polls `fn` until it returns a truthy value (or throws after `timeoutMs`). */
export async function eventually<T>(fn: () => Promise<T> | T, timeoutMs = 3000, everyMs = 10): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > end) throw new Error('condition not met in time')
    await sleep(everyMs)
  }
}
