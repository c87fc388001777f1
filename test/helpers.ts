import {Config} from '@oclif/core'
import {runCommand} from '@oclif/test'
import nock from 'nock'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {prompts} from '../src/lib/cli/prompts.js'
import {forgetSecrets} from '../src/lib/core/mask.js'

export const root = join(dirname(fileURLToPath(import.meta.url)), '..')
let config: Config | undefined

export interface RunResult<T = any> {
  error?: Error & {oclif?: {exit?: number}}
  exit: number
  result?: T
  stderr: string
  stdout: string
  /** stdout parsed as one JSON document (fails the test when it is not exactly one). */
  json(): any
}

/**
 * Runs a pdhooks command in-process (so nock sees its requests) with extra environment variables, and returns its
 * output and exit code.
 */
export async function run<T = any>(args: string[], env: Record<string, string | undefined> = {}): Promise<RunResult<T>> {
  config ??= await Config.load({root})
  const saved: Record<string, string | undefined> = {}
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k]
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }

  process.exitCode = undefined
  try {
    const quoted = args.map(a => (/[\s"'*]/.test(a) ? `"${a.replaceAll('"', String.raw`\"`)}"` : a))
    const out = await runCommand<T>(quoted, config)
    const exit = out.error ? ((out.error as any).oclif?.exit ?? 1) : (typeof process.exitCode === 'number' ? process.exitCode : 0)
    return {
      ...out,
      error: out.error as RunResult['error'],
      exit,
      json() {
        return JSON.parse(out.stdout)
      },
    }
  } finally {
    process.exitCode = undefined
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }

    forgetSecrets()
  }
}

export const PD = 'https://api.pipedrive.com'
export const TOKEN = 'pd-token-0123456789abcdef'
export const pdEnv = {PDHOOKS_PIPEDRIVE_TOKEN: TOKEN}

/** Replaces prompt-wrapper members for one test; returns a restore function. */
export function stubPrompts(stubs: Partial<typeof prompts>): () => void {
  const saved = {...prompts}
  Object.assign(prompts, stubs)
  return () => Object.assign(prompts, saved)
}

/** A terminal whose confirmations all answer `answer`; `questions` records each question asked. */
export function stubConfirm(answer: boolean): {questions: string[]; restore: () => void} {
  const questions: string[] = []
  const restore = stubPrompts({
    async confirm(m: string) {
      questions.push(m)
      return answer
    },
    interactive: () => true,
  })
  return {questions, restore}
}

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

export function cleanNock(): void {
  nock.cleanAll()
}

/** Asserts that no nock interceptor is left unused. */
export function assertNockDone(): void {
  if (!nock.isDone()) {
    const pending = nock.pendingMocks()
    nock.cleanAll()
    throw new Error(`Unused nock interceptors: ${pending.join(', ')}`)
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
