import {usageError} from '../core/errors.js'
import {nearest} from '../core/suggest.js'
import {isElementsEventsUrl} from '../elements/callback-url.js'

export type WebhookVersion = '1.0' | '2.0'

export const V1_ACTIONS = ['added', 'updated', 'merged', 'deleted', '*'] as const
export const V2_ACTIONS = ['create', 'change', 'delete', '*'] as const
export const V1_OBJECTS = [
  'activity', 'activityType', 'deal', 'note', 'organization', 'person', 'pipeline', 'product', 'stage', 'user', '*',
] as const
export const V2_OBJECTS = [
  'activity',
  'deal',
  'lead',
  'note',
  'organization',
  'person',
  'pipeline',
  'product',
  'stage',
  'user',
  'project',
  'task',
  'board',
  'phase',
  'deal_product',
  'deal_installment',
  '*',
] as const

/** Pipedrive webhooks v1 action word. */
export type V1Action = 'added' | 'deleted' | 'merged' | 'updated'
/** Pipedrive webhooks v2 action word. */
export type V2Action = 'change' | 'create' | 'delete'

const V1_TO_V2: Record<string, '*' | V2Action> = {
  '*': '*', added: 'create', deleted: 'delete', merged: 'change', updated: 'change',
}
const V2_TO_V1: Record<string, '*' | V1Action> = {
  '*': '*', change: 'updated', create: 'added', delete: 'deleted',
}

export const STAGE_WARNING
  = "Stage events fire when a stage's own settings change (name, order, pipeline), not when a deal moves to another stage: for that, use change.deal (v2) or updated.deal (v1)."

export interface ParsedEvent {
  action: string
  object: string
  version: WebhookVersion
  /** Warnings to print on stderr (e.g. the stage warning). */
  warnings: string[]
}

/**
 * What a webhook delivers to: a Cloud Elements / Open Connectors instance (its events URL, which takes the vendor's
 * version 1.0 events), or any other URL.
 */
export type WebhookTarget = 'elements' | 'url'

/** The target kind of a subscription URL: `elements` for a platform events URL (any host), else `url`. */
export const targetOf = (url: null | string | undefined): WebhookTarget => (isElementsEventsUrl(url) ? 'elements' : 'url')

export interface EventOptions {
  /** What the webhook delivers to: `elements` implies version 1.0 where the event allows it (default `url`). */
  target?: WebhookTarget
  /** Explicit version (`--version`). */
  version?: string
}

const isV1Action = (a: string) => a !== '*' && (V1_ACTIONS as readonly string[]).includes(a)
const isV2Action = (a: string) => a !== '*' && (V2_ACTIONS as readonly string[]).includes(a)

/** Splits `ACTION.OBJECT`, tolerant of case in the action. Throws a usage error on a malformed event. */
export function splitEvent(event: string): {action: string; object: string} {
  const trimmed = event.trim()
  const m = /^([^.\s]+)\.([^.\s]+)$/.exec(trimmed)
  if (!m) {
    throw usageError(
      `Invalid event "${event}": expected ACTION.OBJECT.`,
      "Examples: '*.deal', 'change.deal', 'added.person', '*.*'.",
    )
  }

  return {action: m[1].toLowerCase(), object: normalizeObject(m[2])}
}

function normalizeObject(o: string): string {
  if (o.toLowerCase() === 'activitytype') return 'activityType'
  return o.toLowerCase()
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase()
  const singular = w.replace(/ies$/, 'y').replace(/s$/, '')
  const hit = candidates.find(c => c.toLowerCase() === singular)
  return hit ?? nearest(w, candidates, 2)
}

/** Infers the webhook version when `--version` is not given (v1 words or a platform target → 1.0, else 2.0). */
export function inferVersion(action: string, object: string, target: WebhookTarget = 'url'): WebhookVersion {
  if (isV1Action(action)) return '1.0'
  if (isV2Action(action)) return target === 'elements' ? '1.0' : '2.0'
  // wildcard action: decide by the object, then by the target
  if (object === 'activityType') return '1.0'
  if (!(V1_OBJECTS as readonly string[]).includes(object) && (V2_OBJECTS as readonly string[]).includes(object)) return '2.0'
  return target === 'elements' ? '1.0' : '2.0'
}

/**
 * Parses and validates `ACTION.OBJECT` for a Pipedrive webhook. Both vocabularies are accepted; the version is
 * `opts.version` or inferred. Invalid mixes are usage errors (exit 2) with the right suggestion.
 */
export function parseEvent(event: string, opts: EventOptions = {}): ParsedEvent {
  const {action, object} = splitEvent(event)
  if (opts.version !== undefined && opts.version !== '1.0' && opts.version !== '2.0') {
    throw usageError(`Invalid version "${opts.version}".`, 'Use --version 1.0 or --version 2.0.')
  }

  const knownAction = action === '*' || isV1Action(action) || isV2Action(action)
  if (!knownAction) {
    // OBJECT.ACTION (deal.added): the words the other way round
    const swapped = [...V1_ACTIONS, ...V2_ACTIONS].includes(object as never) ? `${object}.${normalizeObject(action)}` : undefined
    const guess = swapped ? undefined : closest(action, [...V1_ACTIONS, ...V2_ACTIONS].filter(a => a !== '*'))
    throw usageError(
      `Unknown action "${action}" in "${event}".`,
      `${swapped ? `Did you mean "${swapped}"? Events are ACTION.OBJECT. ` : ''}${guess ? `Did you mean "${guess}.${object}"? ` : ''}Valid actions: ${V2_ACTIONS.join(', ')} (version 2.0); ${V1_ACTIONS.join(', ')} (version 1.0).`,
    )
  }

  const explicit = opts.version as undefined | WebhookVersion
  const version = explicit ?? inferVersion(action, object, opts.target)
  const actions: readonly string[] = version === '2.0' ? V2_ACTIONS : V1_ACTIONS
  const objects: readonly string[] = version === '2.0' ? V2_OBJECTS : V1_OBJECTS

  if (!actions.includes(action)) {
    if (version === '2.0') {
      throw usageError(
        `"${action}" is a version 1.0 action; version 2.0 webhooks use create, change, delete.`,
        `Use "${V1_TO_V2[action]}.${object}", or pass --version 1.0.`,
      )
    }

    const why = explicit ? '' : ' (Cloud Elements / Open Connectors callback URLs receive version 1.0 events)'
    throw usageError(
      `"${action}" is a version 2.0 action; version 1.0 webhooks use added, updated, merged, deleted${why}.`,
      `Use "${V2_TO_V1[action]}.${object}", or pass --version 2.0.`,
    )
  }

  if (!objects.includes(object)) {
    if (object === 'activityType' && version === '2.0') {
      throw usageError(
        'activityType has no version 2.0 webhook object.',
        'Use --version 1.0 with a v1 action (e.g. "updated.activityType"), or "*.activity" for activities.',
      )
    }

    if ((V2_OBJECTS as readonly string[]).includes(object) && version === '1.0') {
      throw usageError(
        `"${object}" exists only in version 2.0 webhooks.`,
        `Use a v2 action with --version 2.0 (e.g. "${action === '*' ? '*' : V1_TO_V2[action]}.${object}").`,
      )
    }

    const guess = closest(object, objects.filter(o => o !== '*'))
    throw usageError(
      `Unknown object "${object}" in "${event}".`,
      `${guess ? `Did you mean "${action}.${guess}"? ` : ''}Valid objects for version ${version}: ${objects.join(', ')}.`,
    )
  }

  const warnings: string[] = []
  if (object === 'stage') warnings.push(STAGE_WARNING)
  return {
    action, object, version, warnings,
  }
}

/**
 * The v2 word of an action of either vocabulary (`added`→`create`, `updated`/`merged`→`change`, `deleted`→`delete`;
 * v2 words and `*` unchanged). Throws a RangeError on anything else.
 */
export function toV2Action(action: string): '*' | V2Action {
  if (action === '*' || isV2Action(action)) return action as V2Action
  const v2 = V1_TO_V2[action]
  if (!v2) throw new RangeError(`Unknown Pipedrive event action "${action}"`)
  return v2
}

/**
 * The v1 word of an action of either vocabulary (`create`→`added`, `change`→`updated`, `delete`→`deleted`; v1 words
 * and `*` unchanged). Throws a RangeError on anything else.
 */
export function toV1Action(action: string): '*' | V1Action {
  if (action === '*' || isV1Action(action)) return action as V1Action
  const v1 = V2_TO_V1[action]
  if (!v1) throw new RangeError(`Unknown Pipedrive event action "${action}"`)
  return v1
}

/** True when `action` is a word of either vocabulary (not `*`). */
export function isPipedriveAction(action: unknown): action is V1Action | V2Action {
  return typeof action === 'string' && (isV1Action(action) || isV2Action(action))
}

/** Every object of either version, without `*`. */
export function knownPipedriveObjects(): string[] {
  return [...new Set([...V1_OBJECTS, ...V2_OBJECTS])].filter(o => o !== '*')
}

/** The v2 word of a known action; anything else unchanged. */
function looseV2(action: string): string {
  return isPipedriveAction(action) ? toV2Action(action) : action
}

/** Does a webhook's action/object match a filter event (`*` wildcards, either vocabulary)? */
export function eventMatches(filter: {action: string; object: string}, hook: {action: string; object: string}): boolean {
  const actionOk = filter.action === '*' || looseV2(filter.action) === looseV2(hook.action)
  const objectOk = filter.object === '*' || filter.object.toLowerCase() === hook.object.toLowerCase()
  return actionOk && objectOk
}
