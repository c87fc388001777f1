/**
 * Seeding hook of the sandbox (tests and demos, not part of any real API): `PATCH /sandbox/pipedrive/webhooks/{id}`
 * with any fields of the webhook object (`is_active`, `last_http_status`, `last_delivery_time`, `add_time`,
 * `remove_reason`, `name`, `version`, …) sets them as Pipedrive would show them, so that states which take days to
 * reach (at risk, inactive, banned) can be tested at once. The id cannot be changed.
 */
import type {PdWebhook, SandboxState} from './state.js'

import {
  isRecord, json, parseJson, type Reply,
} from './http.js'

export const SEED_PATH = /^\/sandbox\/pipedrive\/webhooks\/(\d+)$/

const FIELDS = new Set<keyof PdWebhook>([
  'add_time',
  'admin_id',
  'company_id',
  'event_action',
  'event_object',
  'http_auth_password',
  'http_auth_user',
  'is_active',
  'last_delivery_time',
  'last_http_status',
  'name',
  'owner_id',
  'remove_reason',
  'remove_time',
  'subscription_url',
  'type',
  'user_id',
  'version',
])

/** Handles `PATCH /sandbox/pipedrive/webhooks/{id}`: 200 with the webhook, 404 when there is none, 400 on unknown fields. */
export function seedPipedriveWebhook(state: SandboxState, id: number, rawBody: Buffer, persist: () => void): Reply {
  const parsed = parseJson(rawBody)
  if (!parsed.ok || !isRecord(parsed.value)) return json(400, {error: 'a JSON object of webhook fields is required'})
  const unknown = Object.keys(parsed.value).filter(k => !FIELDS.has(k as keyof PdWebhook))
  if (unknown.length > 0) return json(400, {error: `unknown or read-only field(s): ${unknown.join(', ')}`})
  const w = state.pipedrive.webhooks.find(x => x.id === id)
  if (!w) return json(404, {error: 'not found', message: `No Pipedrive webhook ${id}`})
  Object.assign(w, parsed.value)
  persist()
  return json(200, w)
}
