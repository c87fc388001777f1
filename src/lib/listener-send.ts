/**
 * Raw HTTP sending shared by the listener's `--forward-to` relay and `replay`: exact body bytes, chosen headers,
 * no retries, no JSON handling. node:http / node:https only.
 */
import type {IncomingHttpHeaders, OutgoingHttpHeaders} from 'node:http'

import http from 'node:http'
import https from 'node:https'
import {performance} from 'node:perf_hooks'

import {usageError} from './errors.js'

/** Headers that belong to one connection (RFC 9110 §7.6.1) or that the sender recomputes. */
export const HOP_BY_HOP = new Set([
  'connection',
  'content-length',
  'expect',
  'host',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
])

/** A copy of `headers` without hop-by-hop headers (keys lower-cased). */
export function endToEndHeaders(headers: IncomingHttpHeaders | Record<string, unknown>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const key of Object.keys(headers)) {
    const k = key.toLowerCase()
    if (HOP_BY_HOP.has(k)) continue
    const v = headers[key]
    if (typeof v === 'string') out[k] = v
    else if (Array.isArray(v)) out[k] = v.map(String)
    else if (typeof v === 'number') out[k] = String(v)
  }

  return out
}

export interface SendResult {
  /** The target's HTTP status, or null when there was no answer. */
  status: null | number
  /** Time until the answer's status line (or the failure), in milliseconds. */
  ms: number
  error?: string
}

export interface SendOptions {
  method: string
  headers: OutgoingHttpHeaders
  body: Buffer
  timeoutMs: number
  agent?: http.Agent | https.Agent
}

/** Parses an http(s) URL given by the user; a usage error (exit 2) otherwise. */
export function parseTargetUrl(value: string, flag: string): URL {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw usageError(`${flag} is not a valid URL.`, 'Give a full http:// or https:// URL, e.g. http://127.0.0.1:3000/hooks.')
  }

  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw usageError(`${flag} must be an http:// or https:// URL.`)
  }

  return url
}

/** The URL with any user:password removed, for messages. */
export function displayUrl(url: URL): string {
  if (!url.username && !url.password) return url.href
  const copy = new URL(url.href)
  copy.username = ''
  copy.password = ''
  return copy.href
}

const round = (ms: number): number => Math.round(ms * 10) / 10

/**
 * Sends one request and resolves with the status (the response body is discarded). Never rejects: failures
 * (connection refused, timeout) come back as `{status: null, error}`.
 */
export function sendRaw(url: URL, opts: SendOptions): Promise<SendResult> {
  const start = performance.now()
  return new Promise(resolve => {
    let settled = false
    const finish = (status: null | number, error?: string): void => {
      if (settled) return
      settled = true
      const result: SendResult = {status, ms: round(performance.now() - start)}
      if (error !== undefined) result.error = error
      resolve(result)
    }

    const headers: OutgoingHttpHeaders = {...opts.headers, 'content-length': String(opts.body.length)}
    const mod = url.protocol === 'https:' ? https : http
    let req: http.ClientRequest
    try {
      req = mod.request(url, {method: opts.method, headers, agent: opts.agent}, res => {
        finish(res.statusCode ?? null)
        res.on('error', () => {})
        res.resume()
      })
    } catch (error) {
      finish(null, (error as Error).message)
      return
    }

    req.setTimeout(opts.timeoutMs, () => {
      req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`))
    })
    req.on('error', (error: NodeJS.ErrnoException) => {
      finish(null, error.message || error.code || 'request failed')
    })
    req.end(opts.body)
  })
}
