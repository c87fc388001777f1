import {createHmac, timingSafeEqual} from 'node:crypto'

import {usageError} from '../core/errors.js'

const UUID = /^[\da-f]{8}-[\da-f]{4}-[\da-f]{4}-[\da-f]{4}-[\da-f]{12}$/i

export const isUuid = (v: string): boolean => UUID.test(v.trim())

/** A Pipeliner signature key given with `flag` must be a UUID (Pipeliner's rule); exit 2 otherwise. */
export function checkPipelinerKey(value: string, flag: string, hint = 'Give the webhook\'s signature UUID (pdhooks pipeliner webhook list shows which webhooks sign).'): string {
  if (!isUuid(value)) {
    throw usageError(`Invalid ${flag}: Pipeliner signature keys are UUIDs (8-4-4-4-12 hex digits).`, hint, 'bad_signature')
  }

  return value.trim()
}

/** Cloud Elements / Open Connectors: `Elements-Webhook-Signature: sha256=<base64(HMAC-SHA256(key, raw body))>`. */
export function signElements(key: string, body: Buffer | string): string {
  return 'sha256=' + createHmac('sha256', key).update(body).digest('base64')
}

/** Pipeliner: `WebHook-Signature` = HMAC-SHA256(key = signature string, message = raw body); hex or base64 (uncertain). */
export function signPipeliner(key: string, body: Buffer | string, encoding: 'base64' | 'hex' = 'hex'): string {
  return createHmac('sha256', key).update(body).digest(encoding)
}

/** Constant-time comparison of two strings (false when lengths differ). */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a)
  const bb = Buffer.from(b)
  if (ab.length !== bb.length) {
    // still spend comparable time
    timingSafeEqual(ab, ab)
    return false
  }

  return timingSafeEqual(ab, bb)
}

export function verifyElements(key: string, body: Buffer | string, header: string | undefined): boolean {
  if (!header) return false
  const expected = signElements(key, body)
  const given = header.trim()
  return safeEqual(given.startsWith('sha256=') ? given : 'sha256=' + given, expected)
}

export function verifyPipeliner(key: string, body: Buffer | string, header: string | undefined): boolean {
  if (!header) return false
  const given = header.trim().replace(/^sha256=/, '')
  const hex = signPipeliner(key, body, 'hex')
  const b64 = signPipeliner(key, body, 'base64')
  // evaluate both comparisons so timing does not reveal which encoding matched
  const okHex = safeEqual(given.toLowerCase(), hex)
  const okB64 = safeEqual(given, b64)
  return okHex || okB64
}

/** Basic auth header value for user:password. */
export function basicAuthHeader(user: string, password: string): string {
  return 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64')
}

/** Checks an `Authorization: Basic …` header against user and password in constant time. */
export function verifyBasicAuth(header: string | undefined, user: string, password: string): boolean {
  return safeEqual(header?.trim() ?? '', basicAuthHeader(user, password))
}
