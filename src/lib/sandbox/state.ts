/**
 * The sandbox's state (everything `--data FILE` persists) and its atomic load/save.
 */
import {
  mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync,
} from 'node:fs'
import {dirname} from 'node:path'

import type {ElementsEvent} from '../deliveries/payloads.js'

/** A Pipedrive webhook exactly as the API returns it. */
export interface PdWebhook {
  id: number
  company_id: number
  owner_id: number
  user_id: number
  event_action: string
  event_object: string
  subscription_url: string
  version: '1.0' | '2.0'
  is_active: 0 | 1
  add_time: string
  remove_time: null | string
  type: 'application' | 'automation' | 'general'
  http_auth_user: null | string
  http_auth_password: null | string
  remove_reason: null | string
  last_delivery_time: null | string
  last_http_status: null | number
  admin_id: number
  name: string
}

/** Delivery health of one Pipedrive webhook (not part of the API object). */
export interface PdHealth {
  /** Failed first attempts since the last ban / reset. */
  banCounter: number
  /** Epoch ms the current ban ends, or null. */
  bannedUntil: null | number
  /** Epoch ms of the last successful delivery, or null. */
  lastSuccess: null | number
  /** Epoch ms of the first failed attempt since the last success, or null when not failing. */
  failingSince: null | number
}

/** A Cloud Elements instance as stored (configuration in clear). */
export interface CeInstance {
  id: number
  name: string
  token: string
  elementKey: string
  configuration: Record<string, unknown>
  tags: string[]
  disabled: boolean
  createdDate: string
  updatedDate: string
  /** Polling: last change sequence number already notified. */
  pollCursor: number
}

/** One event the platform received (webhook) or produced (polling) for an instance. */
export interface CeEventRecord {
  id: number
  instanceId: number
  eventId: string
  eventDate: string
  source: 'polling' | 'webhook'
  /** RECEIVED, DELIVERED, RETRYING, FAILED, NOT_FORWARDED, UNRECOGNIZED */
  status: string
  events: ElementsEvent[]
  raw: unknown
  notification: {
    url: null | string
    attempts: number
    lastStatus: null | number
    lastError: null | string
    signed: boolean
  }
}

/** A Pipeliner webhook as the API returns it. */
export interface PlWebhook {
  id: string
  url: string
  events: string[]
  insecure_ssl: boolean
  signature: null | string
  options: null | Record<string, unknown>
  created: string
  modified: string
  is_deleted: boolean
  application_id: string
  client_id: string
}

export interface PlWebhookRecord extends PlWebhook {
  /** Creation order (cursor paging). */
  seq: number
}

/** One change posted to /sandbox/events (Pipedrive style), kept for polling instances. */
export interface ChangeRecord {
  seq: number
  time: number
  object: string
  /** v2 word: create | change | delete (a merge is a change of the surviving object) */
  action: string
  id: number | string
  /** Field values after the change, given with the change (the rest comes from the samples). */
  data: null | Record<string, unknown>
  /** Field values before the change, given with the change. */
  previous: null | Record<string, unknown>
  /** `--set` values given with the change. */
  sets?: string[]
  /** A merge: the id of the object merged into this one. */
  mergedFromId?: number | string
}

export interface SandboxState {
  version: 1
  pipedrive: {
    nextId: number
    nextUserId: number
    /** sha256(token) prefix → user id */
    users: Record<string, number>
    webhooks: PdWebhook[]
    health: Record<string, PdHealth>
    /** Webhooks the sandbox deleted itself (auto-delete), newest last, with remove_time and remove_reason. */
    removed: PdWebhook[]
  }
  elements: {
    nextId: number
    nextEventId: number
    nextTagId: number
    tagIds: Record<string, number>
    instances: CeInstance[]
    events: CeEventRecord[]
  }
  pipeliner: {
    nextSeq: number
    webhooks: PlWebhookRecord[]
  }
  changes: {
    nextSeq: number
    items: ChangeRecord[]
  }
}

/** First instance id: the platform documentation's example (`20931` → `MjA5MzE=`). */
const FIRST_INSTANCE_ID = 20_931

export function emptyState(): SandboxState {
  return {
    version: 1,
    pipedrive: {
      nextId: 1, nextUserId: 1, users: {}, webhooks: [], health: {}, removed: [],
    },
    elements: {
      nextId: FIRST_INSTANCE_ID, nextEventId: 1, nextTagId: 1, tagIds: {}, instances: [], events: [],
    },
    pipeliner: {nextSeq: 1, webhooks: []},
    changes: {nextSeq: 1, items: []},
  }
}

/** Limits that keep the in-memory state bounded. */
export const LIMITS = {changes: 1000, eventsPerInstance: 100, removed: 200}

/**
 * Reads a state file. A missing file gives an empty state; an unreadable or malformed one is an error naming the path
 * (never silently replaced).
 */
export function loadState(file: string): SandboxState {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyState()
    throw new Error(`Cannot read sandbox data file ${file}: ${(error as Error).message}`)
  }

  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new Error(`Sandbox data file ${file} is not valid JSON: fix or remove it`)
  }

  const p = parsed as Partial<SandboxState> | null
  if (!p || typeof p !== 'object' || p.version !== 1 || !p.pipedrive || !p.elements || !p.pipeliner || !p.changes) {
    throw new Error(`Sandbox data file ${file} is not a pdhooks sandbox state (version 1): fix or remove it`)
  }

  const base = emptyState()
  return {
    version: 1,
    pipedrive: {...base.pipedrive, ...p.pipedrive},
    elements: {...base.elements, ...p.elements},
    pipeliner: {...base.pipeliner, ...p.pipeliner},
    changes: {...base.changes, ...p.changes},
  }
}

/** Writes the state atomically: a temporary file beside the target (mode 0600), then a rename over it. */
export function saveState(file: string, state: SandboxState): void {
  mkdirSync(dirname(file), {recursive: true})
  const tmp = `${file}.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`
  try {
    writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n', {mode: 0o600})
    renameSync(tmp, file)
  } catch (error) {
    try {
      unlinkSync(tmp)
    } catch {
      // nothing to clean up
    }

    throw error
  }
}
