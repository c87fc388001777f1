import {readFileSync} from 'node:fs'

import {usageError} from '../errors.js'
import {type ParsedEvent, parseEvent} from '../events.js'
import {
  EVENTS_MODES, type EventsMode, POLL_RESOURCES, unknownPollResources,
} from '../instances.js'
import {parsePipelinerEvent} from '../pipeliner-events.js'

/** A desired Pipedrive webhook (direct, or aimed at an instance's callback URL when `url` is undefined). */
export interface DesiredPipedriveWebhook {
  auth?: {password: string; user: string}
  event: ParsedEvent
  eventText: string
  name?: string
  url?: string
  userId?: number
  where: string
}

export interface DesiredInstance {
  callbackUrl?: string
  configuration?: Record<string, unknown>
  events: EventsMode
  login?: {email?: string; password?: string}
  name: string
  poll?: string[]
  pollInterval?: number
  signatureKey?: string
  tags?: string[]
  webhooks: DesiredPipedriveWebhook[]
  where: string
}

export interface DesiredPipelinerWebhook {
  events: string[]
  insecureSsl: boolean
  options?: Record<string, unknown>
  signature?: string
  url: string
  where: string
}

export interface DesiredState {
  file: string
  instances: DesiredInstance[]
  pipedrive: DesiredPipedriveWebhook[]
  pipeliner: DesiredPipelinerWebhook[]
  /** Every expanded secret value, to be masked in all output. */
  secrets: string[]
  /** The top-level sections the file has (prune only acts on these). */
  sections: {instances: boolean; pipedrive: boolean; pipeliner: boolean}
}

type YamlModule = typeof import('yaml')
type Node = import('yaml').Node

/**
 * Reads and validates `pdhooks.yaml`: `${VAR}` expands from the environment (an unset variable is an error); every
 * error names the file, the line and the field.
 */
export async function loadDesiredState(file: string, env: NodeJS.ProcessEnv = process.env): Promise<DesiredState> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error: any) {
    throw usageError(`Cannot read ${file} (${error?.code ?? error}).`, 'Pass the file with -f pdhooks.yaml.')
  }

  // yaml is a CommonJS package: its exports are the default export of import() (the one export a bundle chunk of a
  // CommonJS module has, where Node would also synthesize named ones)
  return parseDesiredState(text, file, env, (await import('yaml')).default)
}

export function parseDesiredState(text: string, file: string, env: NodeJS.ProcessEnv, Y: YamlModule): DesiredState {
  // `${VAR}` is replaced by a plain token before parsing, so that it may stand in flow mappings
  // (`login: {password: ${PW}}`) and so that no value can change the document's structure; lines are kept.
  const vars: string[] = []
  const tokenized = text.replaceAll(/\$\{([A-Za-z_]\w*)\}/g, (_m, name: string) => `__PDHOOKS_ENV_${vars.push(name) - 1}__`)
  const lc = new Y.LineCounter()
  const doc = Y.parseDocument(tokenized, {lineCounter: lc, prettyErrors: false, uniqueKeys: true})
  if (doc.errors.length > 0) {
    const e = doc.errors[0]
    const pos = lc.linePos(e.pos[0])
    throw usageError(`${file}:${pos.line}: ${e.message.split('\n')[0]}`, 'Fix the YAML syntax.', 'invalid_file')
  }

  const secrets: string[] = []
  const at = (node: Node | null | undefined, field: string) => `${file}:${node?.range ? lc.linePos(node.range[0]).line : 1} (${field})`
  const fail = (node: Node | null | undefined, field: string, message: string, hint?: string): never => {
    throw usageError(`${at(node, field)}: ${message}`, hint, 'invalid_file')
  }

  const expand = (node: Node, field: string, value: string, secret: boolean): string => {
    const out = value.replaceAll(/__PDHOOKS_ENV_(\d+)__/g, (_m, i: string) => {
      const name = vars[Number(i)]
      const v = env[name]
      if (v === undefined) fail(node, field, `\${${name}} is not set.`, `Set ${name} in the environment.`)
      return v!
    })
    if (secret && out) secrets.push(out)
    return out
  }

  const isMap = (n: unknown): n is import('yaml').YAMLMap<import('yaml').Scalar, Node> => Y.isMap(n)
  const isSeq = (n: unknown): n is import('yaml').YAMLSeq<Node> => Y.isSeq(n)
  const entries = (n: import('yaml').YAMLMap<import('yaml').Scalar, Node>, field: string, allowed: string[]) => {
    const out = new Map<string, Node>()
    for (const pair of n.items) {
      const key = String(pair.key?.value ?? pair.key)
      if (!allowed.includes(key)) fail(pair.key as Node, `${field}.${key}`, `unknown field "${key}".`, `Allowed: ${allowed.join(', ')}.`)
      out.set(key, pair.value as Node)
    }

    return out
  }

  const str = (n: Node | undefined, field: string, secret = false): string | undefined => {
    if (n === undefined || n === null || (Y.isScalar(n) && n.value === null)) return undefined
    if (!Y.isScalar(n) || (typeof n.value !== 'string' && typeof n.value !== 'number')) fail(n, field, 'expected a string.')
    return expand(n, field, String((n as import('yaml').Scalar).value), secret)
  }

  const req = (n: Node | undefined, parent: Node, field: string, secret = false): string => {
    const v = str(n, field, secret)
    if (!v) fail(n ?? parent, field, 'is required.')
    return v!
  }

  const int = (n: Node | undefined, field: string): number | undefined => {
    const v = str(n, field)
    if (v === undefined) return undefined
    if (!/^\d+$/.test(v)) fail(n, field, `expected a whole number, got "${v}".`)
    return Number(v)
  }

  const bool = (n: Node | undefined, field: string): boolean | undefined => {
    if (n === undefined) return undefined
    if (Y.isScalar(n) && typeof n.value === 'boolean') return n.value
    const v = str(n, field)
    if (v === 'true' || v === 'false') return v === 'true'
    return fail(n, field, 'expected true or false.')
  }

  const strList = (n: Node | undefined, field: string): string[] | undefined => {
    if (n === undefined) return undefined
    if (!isSeq(n)) return fail(n, field, 'expected a list.')
    return n.items.map((item, i) => req(item, n, `${field}[${i}]`))
  }

  /** Plain data (options, configuration) with ${VAR} expanded in every string. */
  const data = (n: Node | undefined, field: string): unknown => {
    if (n === undefined) return undefined
    if (isMap(n)) {
      const out: Record<string, unknown> = {}
      for (const pair of n.items) out[String(pair.key?.value ?? pair.key)] = data(pair.value as Node, `${field}.${String(pair.key?.value ?? pair.key)}`)
      return out
    }

    if (isSeq(n)) return n.items.map((x, i) => data(x, `${field}[${i}]`))
    if (Y.isScalar(n)) return typeof n.value === 'string' ? expand(n, field, n.value, /pass|secret|token|signature|key/i.test(field)) : n.value
    return fail(n, field, 'unsupported value.')
  }

  const auth = (n: Node | undefined, field: string) => {
    if (n === undefined) return
    if (!isMap(n)) return fail(n, field, 'expected {user, password}.')
    const m = entries(n, field, ['user', 'password'])
    return {password: req(m.get('password'), n, `${field}.password`, true), user: req(m.get('user'), n, `${field}.user`)}
  }

  const pdWebhook = (n: Node, field: string, instanceUrl: boolean): DesiredPipedriveWebhook => {
    if (Y.isScalar(n)) {
      const eventText = req(n, n, field)
      return {event: parseAt(n, field, eventText, instanceUrl ? 'https://x/elements/api-v2/events/pipedrive/MQ==' : undefined), eventText, where: at(n, field)}
    }

    if (!isMap(n)) return fail(n, field, 'expected an event string or {event, url, …}.')
    const allowed = instanceUrl ? ['event', 'auth', 'userId', 'version', 'name'] : ['event', 'url', 'auth', 'userId', 'version', 'name']
    const m = entries(n, field, allowed)
    const eventText = req(m.get('event'), n, `${field}.event`)
    const url = instanceUrl ? undefined : req(m.get('url'), n, `${field}.url`)
    if (url) {
      try {
        const u = new URL(url)
        if (!/^https?:$/.test(u.protocol)) throw new Error('protocol')
      } catch {
        fail(m.get('url'), `${field}.url`, `"${url}" is not an http(s) URL.`)
      }
    }

    const version = str(m.get('version'), `${field}.version`)
    return {
      auth: auth(m.get('auth'), `${field}.auth`),
      event: parseAt(m.get('event')!, `${field}.event`, eventText, instanceUrl ? 'https://x/elements/api-v2/events/pipedrive/MQ==' : url, version),
      eventText,
      name: str(m.get('name'), `${field}.name`),
      url,
      userId: int(m.get('userId'), `${field}.userId`),
      where: at(n, field),
    }
  }

  const parseAt = (n: Node, field: string, text: string, url?: string, version?: string): ParsedEvent => {
    try {
      return parseEvent(text, {url, version})
    } catch (error) {
      const e = error as {hint?: string; message: string}
      return fail(n, field, e.message, e.hint)
    }
  }

  const root = doc.contents as Node | null
  const state: DesiredState = {
    file, instances: [], pipedrive: [], pipeliner: [], secrets, sections: {instances: false, pipedrive: false, pipeliner: false},
  }
  if (!root || (Y.isScalar(root) && root.value === null)) return state
  if (!isMap(root)) fail(root, 'root', 'expected a mapping with instances, pipedrive, pipeliner.')
  const top = entries(root as import('yaml').YAMLMap<import('yaml').Scalar, Node>, '', ['instances', 'pipedrive', 'pipeliner'])
  state.sections = {instances: top.has('instances'), pipedrive: top.has('pipedrive'), pipeliner: top.has('pipeliner')}

  const inst = top.get('instances')
  if (inst !== undefined && !isSeq(inst)) fail(inst, 'instances', 'expected a list.')
  const names = new Set<string>()
  for (const [i, n] of ((inst as import('yaml').YAMLSeq<Node> | undefined)?.items ?? []).entries()) {
    const field = `instances[${i}]`
    if (!isMap(n)) fail(n, field, 'expected a mapping.')
    const m = entries(n as import('yaml').YAMLMap<import('yaml').Scalar, Node>, field, [
      'name', 'events', 'callbackUrl', 'signatureKey', 'login', 'poll', 'pollInterval', 'tags', 'configuration', 'webhooks',
    ])
    const name = req(m.get('name'), n, `${field}.name`)
    if (names.has(name)) fail(m.get('name'), `${field}.name`, `duplicate instance name "${name}".`)
    names.add(name)
    const events = (str(m.get('events'), `${field}.events`) ?? 'webhook') as EventsMode
    if (!EVENTS_MODES.includes(events)) fail(m.get('events'), `${field}.events`, `"${events}" is not webhook, polling or none.`)
    const loginNode = m.get('login')
    let login: DesiredInstance['login']
    if (loginNode !== undefined) {
      if (!isMap(loginNode)) fail(loginNode, `${field}.login`, 'expected {email, password}.')
      const l = entries(loginNode as import('yaml').YAMLMap<import('yaml').Scalar, Node>, `${field}.login`, ['email', 'password'])
      login = {email: str(l.get('email'), `${field}.login.email`), password: str(l.get('password'), `${field}.login.password`, true)}
    }

    const callbackUrl = str(m.get('callbackUrl'), `${field}.callbackUrl`)
    if (events !== 'none' && !callbackUrl) fail(m.get('callbackUrl') ?? n, `${field}.callbackUrl`, 'is required when events are on.')
    const poll = strList(m.get('poll'), `${field}.poll`)
    if (poll && events !== 'polling') fail(m.get('poll'), `${field}.poll`, 'only applies to events: polling.')
    const unknownPoll = unknownPollResources(poll ?? [])
    if (unknownPoll.length > 0) fail(m.get('poll'), `${field}.poll`, `unknown resource "${unknownPoll[0]}": use ${POLL_RESOURCES.join(', ')}.`)
    const hooksNode = m.get('webhooks')
    if (hooksNode !== undefined && !isSeq(hooksNode)) fail(hooksNode, `${field}.webhooks`, 'expected a list of events.')
    const webhooks = ((hooksNode as import('yaml').YAMLSeq<Node> | undefined)?.items ?? []).map((h, j) => pdWebhook(h, `${field}.webhooks[${j}]`, true))
    if (webhooks.length > 0 && events !== 'webhook') fail(hooksNode, `${field}.webhooks`, `only applies to events: webhook (this instance uses ${events}).`)
    const configuration = data(m.get('configuration'), `${field}.configuration`)
    if (configuration !== undefined && (typeof configuration !== 'object' || Array.isArray(configuration))) fail(m.get('configuration'), `${field}.configuration`, 'expected a mapping.')
    state.instances.push({
      callbackUrl,
      configuration: configuration as Record<string, unknown> | undefined,
      events,
      login,
      name,
      poll,
      pollInterval: int(m.get('pollInterval'), `${field}.pollInterval`),
      signatureKey: str(m.get('signatureKey'), `${field}.signatureKey`, true),
      tags: strList(m.get('tags'), `${field}.tags`),
      webhooks,
      where: at(n, field),
    })
  }

  const pdNode = top.get('pipedrive')
  if (pdNode !== undefined) {
    if (!isMap(pdNode)) fail(pdNode, 'pipedrive', 'expected {webhooks: [...]}.')
    const m = entries(pdNode as import('yaml').YAMLMap<import('yaml').Scalar, Node>, 'pipedrive', ['webhooks'])
    const list = m.get('webhooks')
    if (list !== undefined && !isSeq(list)) fail(list, 'pipedrive.webhooks', 'expected a list.')
    for (const [i, n] of ((list as import('yaml').YAMLSeq<Node> | undefined)?.items ?? []).entries()) {
      if (!isMap(n)) fail(n, `pipedrive.webhooks[${i}]`, 'expected {event, url, …}.')
      state.pipedrive.push(pdWebhook(n, `pipedrive.webhooks[${i}]`, false))
    }
  }

  const plNode = top.get('pipeliner')
  if (plNode !== undefined) {
    if (!isMap(plNode)) fail(plNode, 'pipeliner', 'expected {webhooks: [...]}.')
    const m = entries(plNode as import('yaml').YAMLMap<import('yaml').Scalar, Node>, 'pipeliner', ['webhooks'])
    const list = m.get('webhooks')
    if (list !== undefined && !isSeq(list)) fail(list, 'pipeliner.webhooks', 'expected a list.')
    for (const [i, n] of ((list as import('yaml').YAMLSeq<Node> | undefined)?.items ?? []).entries()) {
      const field = `pipeliner.webhooks[${i}]`
      if (!isMap(n)) fail(n, field, 'expected {events, url, …}.')
      const w = entries(n as import('yaml').YAMLMap<import('yaml').Scalar, Node>, field, ['events', 'url', 'signature', 'insecureSsl', 'options'])
      const eventsNode = w.get('events')
      const events = strList(eventsNode, `${field}.events`)?.map((e, j) => {
        try {
          return parsePipelinerEvent(e)
        } catch (error) {
          const err = error as {hint?: string; message: string}
          return fail((eventsNode as import('yaml').YAMLSeq<Node>).items[j], `${field}.events[${j}]`, err.message, err.hint)
        }
      })
      if (!events || events.length === 0) fail(eventsNode ?? n, `${field}.events`, 'is required (a non-empty list).')
      const signature = str(w.get('signature'), `${field}.signature`, true)
      if (signature && !/^[\da-f]{8}-[\da-f]{4}-[\da-f]{4}-[\da-f]{4}-[\da-f]{12}$/i.test(signature)) fail(w.get('signature'), `${field}.signature`, 'must be a UUID.')
      const options = data(w.get('options'), `${field}.options`)
      if (options !== undefined && (typeof options !== 'object' || Array.isArray(options))) fail(w.get('options'), `${field}.options`, 'expected a mapping.')
      state.pipeliner.push({
        events: events!,
        insecureSsl: bool(w.get('insecureSsl'), `${field}.insecureSsl`) ?? false,
        options: options as Record<string, unknown> | undefined,
        signature,
        url: req(w.get('url'), n, `${field}.url`),
        where: at(n, field),
      })
    }
  }

  return state
}
