/**
 * The pdhooks sandbox: a local emulator of the Cloud Elements / Open Connectors platform API, the Pipedrive
 * webhooks API and the Pipeliner webhooks API, which also delivers (Pipedrive webhooks, normalized and signed
 * Cloud Elements notifications, Pipeliner arrays).
 *
 * Test hooks (not part of any real API):
 * - `POST /sandbox/events`: `{"object":"deal","action":"change","id":42,"data":{…},"previous":{…}}` delivers to the
 *   matching active Pipedrive webhooks (and records the change for polling instances);
 *   `{"event":"Opportunity.Update","entity":{…}}` (or `"entities":[…]`) delivers to matching Pipeliner webhooks.
 *   Answers `{deliveries:[{webhook_id,url,status,ms,attempt,error?}]}` once the first attempts are done.
 *   `status` is 0 when no HTTP answer came (connection error, timeout); webhooks then get `last_http_status` 0.
 * - `POST /sandbox/faults` `{method?,path,status?,body?,headers?,times?,delay?,passThrough?,apply?}`, `GET`/`DELETE /sandbox/faults`.
 *   `apply: true` runs the real handler (a create happens), then answers the fault's status (default 503) and body only.
 * - `PATCH /sandbox/pipedrive/webhooks/{id}` `{…webhook fields}`: sets fields of a webhook (health states that take days).
 * - `GET /sandbox/requests[?path=prefix]`, `DELETE /sandbox/requests`; `POST /sandbox/reset`; `GET /sandbox/health`;
 *   `GET /sandbox/state` (the whole state); `POST /sandbox/poll` (run every polling instance's poll now).
 */
import type {Clock} from './clock.js'

import {DEFAULT_HOST, DEFAULT_PORT, SandboxServer} from './server.js'

export interface SandboxOptions {
  /** Port to listen on (default 4010; 0 = ephemeral). */
  port?: number
  /** Interface to listen on (default 127.0.0.1). */
  host?: string
  /** Persist the state to this file (atomically, after each change) and load it at start. */
  dataFile?: string
  /** Pipedrive burst limit: requests per token per rolling 2 s window (default 20); 0 = unlimited. */
  burst?: number
  /**
   * Multiplies every Pipedrive / Cloud Elements timing: the 10 s delivery timeout (never below 100 ms), the retry gaps
   * (3/30/150 s), the 30 min ban, the 3-day auto-delete, notification retries, Pipeliner chunk delays and poll
   * intervals. Default 1. The 2 s rate-limit window is not scaled.
   */
  timeScale?: number
  /** Receives one line per request and per delivery. */
  log?: (line: string) => void
  /**
   * What "now" is and how the sandbox waits: every timestamp and timer (retries, bans, auto-deletion, polling, chunk
   * and fault delays, the rate-limit window) uses it; only the delivery timeout, which bounds a real HTTP exchange,
   * keeps real time. Default: the real clock. Tests pass one they move forward.
   */
  clock?: Clock
}

export interface Sandbox {
  /** `http://127.0.0.1:<port>` */
  url: string
  port: number
  /** Stops every timer, poller, retry and in-flight delivery, then the server. */
  close(): Promise<void>
  /** The environment variables that point pdhooks at this sandbox. */
  env(): Record<string, string>
}

/** The environment variables that point pdhooks at a sandbox running at `baseUrl`. */
export function sandboxEnv(baseUrl: string): Record<string, string> {
  const url = baseUrl.replace(/\/+$/, '')
  return {
    PDHOOKS_ELEMENTS_URL: `${url}/elements/api-v2`,
    PDHOOKS_USER_SECRET: 'sandbox-user-secret',
    PDHOOKS_ORG_SECRET: 'sandbox-org-secret',
    PDHOOKS_PIPEDRIVE_URL: `${url}/v1`,
    PDHOOKS_PIPEDRIVE_TOKEN: 'sandbox-token',
    PDHOOKS_PIPELINER_URL: `${url}/api/v100/rest/spaces/sandbox`,
    PDHOOKS_PIPELINER_USERNAME: 'sandbox',
    PDHOOKS_PIPELINER_PASSWORD: 'sandbox-password',
  }
}

/** Starts a sandbox and resolves once it listens. Rejects when the port is taken or the data file is corrupt. */
export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const server = new SandboxServer({...opts, port: opts.port ?? DEFAULT_PORT, host: opts.host ?? DEFAULT_HOST})
  try {
    await server.listen()
  } catch (error) {
    await server.close()
    throw error
  }

  return {
    url: server.url,
    port: server.port,
    close: () => server.close(),
    env: () => sandboxEnv(server.url),
  }
}

export {type Clock, type TimerHandle} from './clock.js'
