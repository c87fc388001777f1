/**
 * Raw HTTP sending shared by the listener's `--forward-to` relay and `replay`: exact body bytes, chosen headers,
 * no retries, no JSON handling. node:http / node:https only.
 */
import type {IncomingHttpHeaders, OutgoingHttpHeaders} from 'node:http'

import http from 'node:http'
import https from 'node:https'
import {performance} from 'node:perf_hooks'

import {usageError} from '../core/errors.js'

/** Headers that belong to one connection (RFC 9110 §7.6.1) or that the sender recomputes. */
const HOP_BY_HOP = new Set([
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
  /** Time allowed from sending to the end of the answer (a hard deadline, not an idle timeout), in ms. */
  timeoutMs: number
  agent?: http.Agent | https.Agent
  /** Aborts the request (it then resolves with `{status: null, error: 'aborted'}` unless it was answered). */
  signal?: AbortSignal
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
 * Sends one request and resolves with the status once the answer's status line arrives (the response body is read
 * and discarded). Never rejects: failures (connection refused, timeout, abort) come back as `{status: null, error}`.
 * The request, answer included, is cut at `timeoutMs` whatever the target does (a target that trickles its answer
 * holds a socket no longer than one that never answers).
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
    let req: http.ClientRequest | undefined
    const timer = setTimeout(() => {
      req?.destroy(new Error(`no answer within ${opts.timeoutMs} ms`))
    }, opts.timeoutMs)
    try {
      req = mod.request(url, {
        agent: opts.agent, headers, method: opts.method, signal: opts.signal,
      }, res => {
        finish(res.statusCode ?? null)
        res.on('error', () => {})
        res.on('end', () => clearTimeout(timer))
        res.on('close', () => clearTimeout(timer))
        res.resume()
      })
    } catch (error) {
      clearTimeout(timer)
      finish(null, (error as Error).message)
      return
    }

    req.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      finish(null, error.name === 'AbortError' ? 'aborted' : (error.message || error.code || 'request failed'))
    })
    req.end(opts.body)
  })
}
