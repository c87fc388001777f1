import {usageError} from '../core/errors.js'

/**
 * Pipeliner CRM webhook events, from Pipeliner's table of webhook events: `*`, `<Entity>.*` or
 * `<Entity>.<Event>`. Spellings here are the canonical ones; input is matched case-insensitively.
 */
const BASE = ['Create', 'Update', 'Delete', 'DocumentLinked', 'OwnerChanged'] as const
export const PIPELINER_EVENTS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  Account: [...BASE],
  Contact: [...BASE],
  Opportunity: [...BASE, 'Move', 'Lost', 'Won', 'Qualify'],
  Lead: [...BASE, 'Lost', 'BackToLead'],
  Task: [...BASE, 'Comment'],
  Email: ['Create', 'Update', 'Delete', 'DocumentLinked'],
  Appointment: [...BASE, 'Comment'],
  Product: ['Create', 'Update', 'Delete'],
  OpptyProductRelation: ['Create', 'Update', 'Delete'],
  CustomEntity: [...BASE],
})

export const PIPELINER_ENTITIES: readonly string[] = Object.keys(PIPELINER_EVENTS)

/** Every concrete `Entity.Event`, in table order. */
export const ALL_PIPELINER_EVENTS: readonly string[] = PIPELINER_ENTITIES.flatMap(e => PIPELINER_EVENTS[e].map(v => `${e}.${v}`))

/** Other CRMs' words (Pipedrive's objects) for Pipeliner entities, for suggestions only. */
const ALIASES: Record<string, string> = {
  activity: 'Task',
  company: 'Account',
  deal: 'Opportunity',
  deal_product: 'OpptyProductRelation',
  organization: 'Account',
  person: 'Contact',
}

const EXAMPLES = 'Use *, Entity.* or Entity.Event, e.g. Account.Create, Opportunity.*'

/** The canonical spelling of an entity name (case-insensitive), or undefined. */
export function canonicalEntity(name: string): string | undefined {
  const n = name.trim().toLowerCase()
  return PIPELINER_ENTITIES.find(e => e.toLowerCase() === n)
}

function canonicalEventName(entity: string, event: string): string | undefined {
  const n = event.toLowerCase()
  return PIPELINER_EVENTS[entity].find(v => v.toLowerCase() === n)
}

/** Edit distance (Levenshtein, with adjacent transpositions), case-sensitive: lower-case both sides first. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({length: a.length + 1}, (_, i) => Array.from({length: b.length + 1}, (_, j) => (i === 0 ? j : (j === 0 ? i : 0))))
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1)
    }
  }

  return d[a.length][b.length]
}

/** The closest candidate (case-insensitive), when it is close enough to be a likely typo. */
export function didYouMean(input: string, candidates: readonly string[]): string | undefined {
  const w = input.trim().toLowerCase()
  if (!w) return undefined
  let best: string | undefined
  let bestD = Number.POSITIVE_INFINITY
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase())
    if (d < bestD) {
      best = c
      bestD = d
    }
  }

  const limit = w.length <= 4 ? 1 : Math.max(2, Math.floor(w.length / 3))
  return bestD <= limit ? best : undefined
}

const hint = (guess: string | undefined, rest: string) => `${guess ? `Did you mean "${guess}"? ` : ''}${rest}`

/**
 * Validates one event and returns its canonical spelling: `*`, `Entity.*` or `Entity.Event` (case-insensitive input,
 * `account.create` → `Account.Create`). Anything else is a usage error (exit 2) listing the valid values, with a
 * did-you-mean.
 */
export function parsePipelinerEvent(input: string): string {
  const raw = input.trim()
  if (raw === '') throw usageError('Empty Pipeliner event.', `${EXAMPLES}.`, 'bad_event')
  if (raw === '*' || raw === '*.*') {
    if (raw === '*') return '*'
    throw usageError(`Invalid Pipeliner event "${input}".`, 'Did you mean "*"? (every event of every entity)', 'bad_event')
  }

  const m = /^([^.\s]+)(?:\.([^.\s]+))?$/.exec(raw)
  if (!m) {
    const guess = didYouMean(raw, [...ALL_PIPELINER_EVENTS, ...PIPELINER_ENTITIES.map(e => `${e}.*`)])
    throw usageError(`Invalid Pipeliner event "${input}": expected *, Entity.* or Entity.Event.`, hint(guess, `${EXAMPLES}.`), 'bad_event')
  }

  const [, entityIn, eventIn] = m
  if (entityIn === '*') {
    const having = eventIn === undefined ? [] : PIPELINER_ENTITIES.filter(e => canonicalEventName(e, eventIn)).map(e => `${e}.${canonicalEventName(e, eventIn)}`)
    throw usageError(
      `Invalid Pipeliner event "${input}": the only wildcards are * (everything) and Entity.*.`,
      having.length > 0 ? `Give each entity's event instead: ${having.join(', ')}.` : `${EXAMPLES}.`,
      'bad_event',
    )
  }

  const entity = canonicalEntity(entityIn)
  if (!entity) {
    const guessEntity = ALIASES[entityIn.toLowerCase().replace(/ies$/, 'y').replace(/s$/, '')] ?? didYouMean(entityIn, PIPELINER_ENTITIES)
    let guess: string | undefined
    if (guessEntity) {
      guess = eventIn === undefined || eventIn === '*'
        ? `${guessEntity}.*`
        : `${guessEntity}.${canonicalEventName(guessEntity, eventIn) ?? didYouMean(eventIn, PIPELINER_EVENTS[guessEntity]) ?? '*'}`
    }

    throw usageError(
      `Unknown Pipeliner entity "${entityIn}" in event "${input}".`,
      hint(guess, `Valid entities: ${PIPELINER_ENTITIES.join(', ')}. ${EXAMPLES}.`),
      'bad_event',
    )
  }

  if (eventIn === undefined) {
    throw usageError(`Incomplete Pipeliner event "${input}": expected ${entity}.Event or ${entity}.*.`, hint(`${entity}.*`, `Valid for ${entity}: ${validFor(entity)}.`), 'bad_event')
  }

  if (eventIn === '*') return `${entity}.*`
  const event = canonicalEventName(entity, eventIn)
  if (!event) {
    const guessEvent = didYouMean(eventIn, PIPELINER_EVENTS[entity])
    const elsewhere = PIPELINER_ENTITIES.filter(e => canonicalEventName(e, eventIn)).map(e => `${e}.${canonicalEventName(e, eventIn)}`)
    throw usageError(
      `Unknown Pipeliner event "${eventIn}" for ${entity} in "${input}".`,
      hint(guessEvent && `${entity}.${guessEvent}`, `Valid for ${entity}: ${validFor(entity)}.${elsewhere.length > 0 ? ` ${eventIn} exists for ${elsewhere.join(', ')}.` : ''}`),
      'bad_event',
    )
  }

  return `${entity}.${event}`
}

function validFor(entity: string): string {
  return [`${entity}.*`, ...PIPELINER_EVENTS[entity].map(v => `${entity}.${v}`)].join(', ')
}

export interface ParsedPipelinerEvents {
  /** Canonical, deduplicated, in the order given. */
  events: string[]
  /** Events already covered by a wildcard also given. */
  warnings: string[]
}

/** Validates every `--event` (each may hold a comma-separated list); canonical, deduplicated. */
export function parsePipelinerEvents(inputs: string[]): ParsedPipelinerEvents {
  const events: string[] = []
  for (const input of inputs.flatMap(i => i.split(','))) {
    if (input.trim() === '') continue
    const e = parsePipelinerEvent(input)
    if (!events.includes(e)) events.push(e)
  }

  if (events.length === 0) throw usageError('No Pipeliner event given.', `Pass --event. ${EXAMPLES}.`, 'missing_value')
  const warnings: string[] = []
  for (const e of events) {
    const cover = events.find(c => c !== e && covers(c, e))
    if (cover) warnings.push(`${e} is already covered by ${cover}.`)
  }

  return {events, warnings}
}

/** Does pattern `a` cover every event of `b`? (`*` covers all; `Entity.*` covers that entity's events.) */
export function covers(a: string, b: string): boolean {
  if (a === '*') return true
  if (b === '*') return false
  const [ea, va] = a.split('.')
  const [eb, vb] = b.split('.')
  return ea === eb && (va === '*' || va === vb)
}

/** Do two patterns share at least one event? */
export function eventsOverlap(a: string, b: string): boolean {
  return covers(a, b) || covers(b, a)
}

/** The canonical spelling when valid, else the text unchanged (for events read back from the service). */
export function normalizeEventLoose(e: string): string {
  try {
    return parsePipelinerEvent(e)
  } catch {
    return e
  }
}

/** Same events, ignoring order, case and duplicates. */
export function sameEventSet(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a.map(x => normalizeEventLoose(x)))
  const sb = new Set(b.map(x => normalizeEventLoose(x)))
  return sa.size === sb.size && [...sa].every(x => sb.has(x))
}

/** The entity names a set of patterns can fire for (`*` → all). */
export function entitiesOf(events: readonly string[]): string[] {
  if (events.includes('*')) return [...PIPELINER_ENTITIES]
  return [...new Set(events.map(e => e.split('.')[0]))]
}

/** The table of events as help text, one entity per line. */
export function eventTable(): string {
  return PIPELINER_ENTITIES.map(e => `  ${e}: ${PIPELINER_EVENTS[e].join(', ')}`).join('\n')
}
