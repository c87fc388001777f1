import {
  closeSync, fstatSync, openSync, readSync,
} from 'node:fs'

import {invalidCharacter} from '../../core/config.js'
import {ExitCode, PdhooksError, usageError} from '../../core/errors.js'
import {
  EVENTS_MODES, type EventsMode, POLL_RESOURCES, unknownPollResources,
} from '../../elements/instances.js'
import {
  type ParsedEvent, parseEvent, targetOf, type WebhookTarget,
} from '../../pipedrive/events.js'
import {parsePipelinerEvent} from '../../pipeliner/events.js'

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
  /** The file's `stack:`: recorded on every object this file creates; `--prune` deletes only objects of this stack. */
  stack?: string
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

/** The largest file apply reads (a file declares tens of objects; 1 MiB holds about 10,000 webhook entries). */
export const MAX_FILE_BYTES = 1024 * 1024

const megabytes = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`

/**
 * Reads at most {@link MAX_FILE_BYTES} (+1, to know there is more) of a file: a larger regular file is refused from
 * its size without being read, and so is a device or a pipe that goes on (/dev/zero).
 */
function readBounded(file: string, limit = MAX_FILE_BYTES): string {
  const tooBig = (size: string) => usageError(
    `${file} is ${size}: apply reads files of at most ${megabytes(limit)}.`,
    'A pdhooks.yaml declares instances and webhooks (tens, hundreds at most): check that -f names the right file.',
    'file_too_large',
  )
  let fd: number
  try {
    fd = openSync(file, 'r')
  } catch (error: any) {
    throw usageError(`Cannot read ${file} (${error?.code ?? error}).`, 'Pass the file with -f pdhooks.yaml.')
  }

  try {
    const st = fstatSync(fd)
    if (st.isDirectory()) throw usageError(`Cannot read ${file} (EISDIR).`, 'Pass the file with -f pdhooks.yaml.')
    if (st.isFile() && st.size > limit) throw tooBig(megabytes(st.size))
    const buf = Buffer.alloc(limit + 1)
    let n = 0
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null)
      if (got === 0) break
      n += got
      if (n > limit) throw tooBig(`more than ${megabytes(limit)}`)
    }

    return buf.subarray(0, n).toString('utf8')
  } catch (error: any) {
    if (error?.code && !(error instanceof Error && error.name === 'PdhooksError')) {
      throw usageError(`Cannot read ${file} (${error.code}).`, 'Pass the file with -f pdhooks.yaml.')
    }

    throw error
  } finally {
    closeSync(fd)
  }
}

/**
 * Reads and validates `pdhooks.yaml`: `${VAR}` expands from the environment (unset variables are one error listing
 * them all, in file order); every error names the file, the line and the field.
 */
export async function loadDesiredState(file: string, env: NodeJS.ProcessEnv = process.env): Promise<DesiredState> {
  const text = readBounded(file)
  // yaml is a CommonJS package: its exports are the default export of import() (the one export a bundle chunk of a
  // CommonJS module has, where Node would also synthesize named ones)
  return parseDesiredState(text, file, env, (await import('yaml')).default)
}

/** Why a value that names or addresses something cannot be used: a control character (C0, DEL, C1) or a tab. */
function badCharacter(value: string): string | undefined {
  const why = invalidCharacter(value)
  if (why) return why
  const i = value.search(/[\t\u0080-\u009F]/)
  if (i === -1) return undefined
  return value[i] === '\t' ? `a tab at character ${i + 1}` : `a control character U+${value.codePointAt(i)!.toString(16).toUpperCase().padStart(4, '0')} at character ${i + 1}`
}

interface Unset {
  field: string
  line: number
  name: string
}

/**
 * Every `${VAR}` of the file whose variable is not set, in file order (each variable once, with each place it is
 * used), reported as one error before anything else is checked: a CI run learns all it must set in one go.
 */
function checkVariables(doc: import('yaml').Document, o: {env: NodeJS.ProcessEnv; file: string; lineOf: (n: unknown) => number; vars: string[]; Y: YamlModule}): void {
  const unset: Unset[] = []
  o.Y.visit(doc, {
    Scalar(_key, node, path) {
      if (typeof node.value !== 'string') return
      for (const m of node.value.matchAll(/__PDHOOKS_ENV_(\d+)__/g)) {
        const name = o.vars[Number(m[1])]
        if (name !== undefined && o.env[name] === undefined) unset.push({field: fieldPath(o.Y, path, node), line: o.lineOf(node), name})
      }
    },
  })
  if (unset.length === 0) return
  const names = [...new Set(unset.map(u => u.name))]
  const where = (name: string) => unset.filter(u => u.name === name).map(u => `${o.file}:${u.line} (${u.field})`).join(', ')
  const message = names.length === 1 && unset.length === 1
    ? `${o.file}:${unset[0].line} (${unset[0].field}): \${${names[0]}} is not set.`
    : `${names.length} variable${names.length > 1 ? 's are' : ' is'} not set: ${names.map(n => `\${${n}} at ${where(n)}`).join('; ')}.`
  throw new PdhooksError(message, {
    code: 'invalid_file',
    details: {report: {unset: unset.map(u => ({field: u.field, line: u.line, variable: u.name}))}},
    exit: ExitCode.usage,
    hint: `Set ${names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names.at(-1)}` : names[0]} in the environment.`,
  })
}

/** `instances[0].login.password` for a node reached through `path` (the ancestors yaml's visit() gives). */
function fieldPath(Y: YamlModule, path: readonly unknown[], node: unknown): string {
  const chain = [...path, node]
  let out = ''
  for (let i = 0; i < chain.length - 1; i++) {
    const parent = chain[i]
    const child = chain[i + 1]
    if (Y.isPair(parent)) {
      const k = Y.isScalar(parent.key) ? String(parent.key.value) : String(parent.key)
      out += out ? `.${k}` : k
    } else if (Y.isSeq(parent)) out += `[${parent.items.indexOf(child as never)}]`
  }

  return out || 'root'
}

/** A stack name: it goes into webhook names, instance tags and Pipeliner options, so it is short and plain. */
const STACK_NAME = /^[A-Za-z\d][\w.-]{0,39}$/

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
  const lineOf = (node: Node | null | undefined) => (node?.range ? lc.linePos(node.range[0]).line : 1)
  const at = (node: Node | null | undefined, field: string) => `${file}:${lineOf(node)} (${field})`
  const fail = (node: Node | null | undefined, field: string, message: string, hint?: string): never => {
    throw usageError(`${at(node, field)}: ${message}`, hint, 'invalid_file')
  }

  checkVariables(doc, {
    env, file, lineOf: n => lineOf(n as Node), vars, Y,
  })

  const TOKEN = /__PDHOOKS_ENV_(\d+)__/g
  const expand = (node: Node, field: string, value: string, secret: boolean): string => {
    const out = value.replaceAll(TOKEN, (m, i: string) => {
      const name = vars[Number(i)]
      return name === undefined ? m : env[name]!
    })
    if (secret && out) secrets.push(out)
    return out
  }

  /**
   * A value that names or addresses something (a URL, a name, an event, a user) may hold no control character: a
   * line break from a variable (`$(cat file)`, a Windows line ending) would be cut away by URL parsers or reach a
   * header. The value is never printed, only where the character came from.
   */
  const checkText = (node: Node, field: string, raw: string, value: string, what: string) => {
    const why = badCharacter(value)
    if (!why) return
    const from = [...raw.matchAll(TOKEN)].map(m => vars[Number(m[1])]).find(v => v !== undefined && badCharacter(env[v] ?? '') !== undefined)
    fail(
      node,
      field,
      `${from ? `\${${from}}` : 'the value'} holds ${why}: ${what} cannot.`,
      from ? `Remove it from ${from} (a value read from a file or pasted often ends with a line break).` : 'Remove it.',
    )
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
    const raw = String((n as import('yaml').Scalar).value)
    const value = expand(n, field, raw, secret)
    checkText(n, field, raw, value, /url$/i.test(field) ? 'a URL' : (secret ? 'a secret sent in a request' : 'a name or a setting'))
    return value
  }

  /** An http(s) URL (a line break is caught before: the URL parser would silently drop it). */
  const urlOf = (n: Node | undefined, parent: Node, field: string, required: boolean): string | undefined => {
    const v = required ? req(n, parent, field) : str(n, field)
    if (v === undefined) return undefined
    try {
      const u = new URL(v)
      if (!/^https?:$/.test(u.protocol)) throw new Error('protocol')
    } catch {
      fail(n, field, `"${v}" is not an http(s) URL.`)
    }

    return v
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
    if (Y.isScalar(n) && typeof n.value === 'string') {
      const value = expand(n, field, n.value, /pass|secret|token|signature|key/i.test(field))
      // free-form data, except what is a URL or a name
      if (/(url|name)$/i.test(field)) checkText(n, field, n.value, value, /url$/i.test(field) ? 'a URL' : 'a name')
      return value
    }

    if (Y.isScalar(n)) return n.value
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
      return {event: parseAt(n, field, eventText, instanceUrl ? 'elements' : 'url'), eventText, where: at(n, field)}
    }

    if (!isMap(n)) return fail(n, field, 'expected an event string or {event, url, …}.')
    const allowed = instanceUrl ? ['event', 'auth', 'userId', 'version', 'name'] : ['event', 'url', 'auth', 'userId', 'version', 'name']
    const m = entries(n, field, allowed)
    const eventText = req(m.get('event'), n, `${field}.event`)
    const url = instanceUrl ? undefined : urlOf(m.get('url'), n, `${field}.url`, true)

    const version = str(m.get('version'), `${field}.version`)
    return {
      auth: auth(m.get('auth'), `${field}.auth`),
      event: parseAt(m.get('event')!, `${field}.event`, eventText, instanceUrl ? 'elements' : targetOf(url), version),
      eventText,
      name: str(m.get('name'), `${field}.name`),
      url,
      userId: int(m.get('userId'), `${field}.userId`),
      where: at(n, field),
    }
  }

  const parseAt = (n: Node, field: string, text: string, target: WebhookTarget, version?: string): ParsedEvent => {
    try {
      return parseEvent(text, {target, version})
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
  if (!isMap(root)) fail(root, 'root', 'expected a mapping with stack, instances, pipedrive, pipeliner.')
  const top = entries(root as import('yaml').YAMLMap<import('yaml').Scalar, Node>, '', ['stack', 'instances', 'pipedrive', 'pipeliner'])
  state.sections = {instances: top.has('instances'), pipedrive: top.has('pipedrive'), pipeliner: top.has('pipeliner')}
  const stack = str(top.get('stack'), 'stack')
  if (stack !== undefined) {
    if (!STACK_NAME.test(stack)) {
      fail(top.get('stack'), 'stack', `"${stack}" is not a stack name.`, 'Use 1 to 40 letters, digits, ".", "_" or "-", starting with a letter or digit (e.g. prod-hooks).')
    }

    state.stack = stack
  }

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

    const callbackUrl = urlOf(m.get('callbackUrl'), n, `${field}.callbackUrl`, false)
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
        url: urlOf(w.get('url'), n, `${field}.url`, true)!,
        where: at(n, field),
      })
    }
  }

  return state
}
