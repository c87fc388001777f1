/**
 * Ownership of what `apply` creates, recorded on the server: the file's `stack:` name goes on every object the file
 * creates, so that `apply --prune` finds its own objects from any machine (an empty config included), and never
 * touches objects made by hand, by `webhook add`, by `setup` or by another stack.
 *
 * - Pipedrive webhook: its name starts with `pdhooks:<stack> ` (`pdhooks:prod-hooks change.deal`); Pipedrive keeps
 *   the name and has no update call, so a webhook's stack never changes.
 * - Cloud Elements instance: the tag `pdhooks-stack:<stack>`.
 * - Pipeliner webhook (no name): the entry `pdhooks-stack:<stack>` in `options.skip_keys`. The service stores and
 *   returns `options`; a skip key only mutes the webhook for API requests sent with the header
 *   `Webhook-Skip-Key: pdhooks-stack:<stack>`, which nothing sends, so the marker changes no delivery.
 */
import {type Instance, tagNames} from '../../elements/client.js'
import {type Webhook} from '../../pipedrive/client.js'
import {type PipelinerWebhook} from '../../pipeliner/client.js'

const MARK = 'pdhooks-stack:'
const NAME = /^pdhooks:([\w.-]+)(?:\s|$)/

/** The name of a Pipedrive webhook the stack creates: `pdhooks:<stack> <label>`, at most 255 characters. */
export function stackWebhookName(stack: string, label: string): string {
  return `pdhooks:${stack} ${label}`.slice(0, 255)
}

/** The stack recorded in a Pipedrive webhook's name, if any. */
export function webhookStack(w: Pick<Webhook, 'name'>): string | undefined {
  return NAME.exec(w.name ?? '')?.[1]
}

/** The instance tag that records a stack. */
export const stackTag = (stack: string): string => `${MARK}${stack}`

/** Is this instance tag (or skip key) a stack mark? */
export const isStackMark = (s: unknown): s is string => typeof s === 'string' && s.startsWith(MARK)
const isMark = isStackMark

/** The stack recorded in an instance's tags, if any. */
export function instanceStack(i: Pick<Instance, 'tags'>): string | undefined {
  return tagNames(i.tags).find(t => isMark(t))?.slice(MARK.length)
}

/** An instance's stack marks (kept as they are when its tags are updated: an update never changes ownership). */
export const markTags = (tags: Instance['tags']): string[] => tagNames(tags).filter(t => isMark(t))

type Options = Record<string, unknown>

/** The stack recorded in a Pipeliner webhook's `options.skip_keys`, if any. */
export function pipelinerStack(w: Pick<PipelinerWebhook, 'options'>): string | undefined {
  const keys = (w.options as Options | null | undefined)?.skip_keys
  return Array.isArray(keys) ? (keys.find(k => isMark(k)) as string | undefined)?.slice(MARK.length) : undefined
}

/** The options to send for a Pipeliner webhook of `stack`: the file's, with the stack's skip key added. */
export function withStackOptions(options: Options | undefined, stack: string | undefined): Options | undefined {
  if (!stack) return options
  const keys = Array.isArray(options?.skip_keys) ? (options.skip_keys as unknown[]).filter(k => !isMark(k)) : []
  return {...options, skip_keys: [...keys, `${MARK}${stack}`]}
}

/** Options without any stack's skip key (an emptied `skip_keys` is dropped): what the file's options are compared with. */
export function withoutStackOptions(options: unknown): Options | undefined {
  if (!options || typeof options !== 'object' || Array.isArray(options)) return undefined
  const o = {...(options as Options)}
  if (Array.isArray(o.skip_keys)) {
    const keys = o.skip_keys.filter(k => !isMark(k))
    if (keys.length > 0) o.skip_keys = keys
    else delete o.skip_keys
  }

  return Object.keys(o).length > 0 ? o : undefined
}
