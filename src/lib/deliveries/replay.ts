/**
 * `pdhooks replay`: re-sends journaled deliveries to a URL with their exact body bytes, their original content-type
 * and end-to-end headers, and fresh authentication (the journal holds none):
 * - `basicAuth` → `Authorization: Basic …` on every delivery;
 * - `elementsKey` → a freshly computed `Elements-Webhook-Signature` on Cloud Elements deliveries;
 * - `pipelinerKey` → a freshly computed `WebHook-Signature` (hex) on Pipeliner deliveries.
 * Without a key, a journaled signature header is sent as it was (it still matches: the body is identical).
 * Deliveries are sent one after another, in journal order; each gets an `X-Pdhooks-Replay-Of: <id>` header.
 */
import type {OutgoingHttpHeaders} from 'node:http'

import http from 'node:http'
import https from 'node:https'

import type {DeliverySource} from './recognition.js'

import {notFoundError, usageError} from '../core/errors.js'
import {
  entryBody, isRedactedValue, iterateJournal, type JournalEntry, type JournalProblem, REDACTED_HEADERS,
} from './journal.js'
import {endToEndHeaders, parseTargetUrl, sendRaw} from './send.js'
import {basicAuthHeader, signElements, signPipeliner} from './signatures.js'

export interface ReplayOptions {
  /** Journal file written by `listen --journal`. */
  journal: string
  /** Where to send the deliveries (used as is: the journaled path is not appended). */
  to: string
  /** Only the delivery with this id; an id not in the journal is a not-found error (exit 4). */
  id?: string
  basicAuth?: {password: string; user: string}
  elementsKey?: string
  pipelinerKey?: string
  /** Per-delivery timeout in ms. Default 30,000. */
  timeoutMs?: number
  /** Called after each delivery is sent (for progress output). */
  onResult?: (result: ReplayResult) => void
  /** Called for each journal line that is skipped because it is malformed. */
  onMalformed?: (problem: JournalProblem) => void
}

export interface ReplayResult {
  id: string
  source: DeliverySource
  /** The target's status; null when it did not answer (see `error`). */
  status: null | number
  ms: number
  error?: string
}

/**
 * The headers a journaled delivery is re-sent with: its own minus hop-by-hop and redacted ones (credentials, and the
 * headers `listen --redact-header` replaced by `****`), plus fresh auth.
 */
export function replayHeaders(
  entry: JournalEntry,
  opts: Pick<ReplayOptions, 'basicAuth' | 'elementsKey' | 'pipelinerKey'> = {},
  body: Buffer = entryBody(entry),
): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = endToEndHeaders(entry.headers ?? {})
  for (const name of REDACTED_HEADERS) delete headers[name]
  for (const name of Object.keys(headers)) {
    if (isRedactedValue(headers[name] as string | string[])) delete headers[name]
  }

  if (opts.basicAuth) headers.authorization = basicAuthHeader(opts.basicAuth.user, opts.basicAuth.password)
  if (opts.elementsKey && entry.source === 'elements') {
    headers['elements-webhook-signature'] = signElements(opts.elementsKey, body)
  }

  if (opts.pipelinerKey && entry.source === 'pipeliner') {
    headers['webhook-signature'] = signPipeliner(opts.pipelinerKey, body, 'hex')
  }

  headers['content-type'] ??= 'application/json'
  headers['x-pdhooks-replay-of'] = entry.id
  return headers
}

/**
 * Re-sends the journal's deliveries (or the one with `opts.id`) to `opts.to`, sequentially, and returns one result
 * per delivery. Failures to reach the target are results with `status: null` and `error`, not exceptions.
 * Throws PdhooksError: bad `to` URL, unreadable journal or a journal with no valid line (exit 2), unknown `id`
 * (exit 4).
 */
export async function replayJournal(opts: ReplayOptions): Promise<ReplayResult[]> {
  const target = parseTargetUrl(opts.to, '--to')
  const agent = new (target.protocol === 'https:' ? https.Agent : http.Agent)({keepAlive: true, maxSockets: 1})
  const timeoutMs = opts.timeoutMs ?? 30_000
  const results: ReplayResult[] = []
  let valid = 0
  let malformed = 0
  try {
    for await (const item of iterateJournal(opts.journal)) {
      if ('error' in item) {
        malformed++
        opts.onMalformed?.({line: item.line, message: item.error})
        continue
      }

      valid++
      const {entry} = item
      if (opts.id !== undefined && entry.id !== opts.id) continue
      const body = entryBody(entry)
      const sent = await sendRaw(target, {
        agent,
        body,
        headers: replayHeaders(entry, opts, body),
        method: entry.method || 'POST',
        timeoutMs,
      })
      const result: ReplayResult = {id: entry.id, source: entry.source, ...sent}
      results.push(result)
      opts.onResult?.(result)
      if (opts.id !== undefined) break
    }
  } finally {
    agent.destroy()
  }

  if (valid === 0) {
    throw usageError(
      `Journal ${opts.journal} has no valid delivery line (${malformed === 0 ? 'it is empty' : `${malformed} malformed ${malformed === 1 ? 'line' : 'lines'} skipped`}).`,
      'Give a journal written by "pdhooks listen --journal FILE".',
      'empty_journal',
    )
  }

  if (opts.id !== undefined && results.length === 0) {
    throw notFoundError(
      `No delivery with id ${opts.id} in journal ${opts.journal}.`,
      'Each journal line\'s "id" is what --id takes.',
    )
  }

  return results
}

/** The flag that authenticates each source's deliveries on replay (the journal holds no credential). */
const AUTH_FLAG: Record<string, string> = {
  elements: '--elements-key KEY',
  'pipedrive-v1': '--basic-auth user:password',
  'pipedrive-v2': '--basic-auth user:password',
  pipeliner: '--pipeliner-key UUID',
}

/** The hint for deliveries the target refused with 401 / 403: which flag to give (or check), per source. */
export function authHint(refused: Array<{source: string}>, given: Record<string, boolean>): string | undefined {
  if (refused.length === 0) return undefined
  const flags = [...new Set(refused.flatMap(d => (AUTH_FLAG[d.source] ? [AUTH_FLAG[d.source]] : Object.values(AUTH_FLAG))))]
  const missing = flags.filter(f => !given[f.split(' ')[0]])
  return missing.length > 0
    ? `The receiver refused their authentication, and the journal keeps none: pass ${missing.join(' or ')}.`
    : `The receiver refused their authentication: check ${flags.map(f => f.split(' ')[0]).join(' and ')}.`
}
