/**
 * The sandbox HTTP server: routes API requests to the three emulated services, applies injected faults, logs
 * requests, and serves the `/sandbox/*` test hooks.
 */
import type {AddressInfo} from 'node:net'

import {randomInt, randomUUID} from 'node:crypto'
import {
  createServer, type IncomingMessage, type Server, type ServerResponse,
} from 'node:http'

import type {
  CeEventRecord, CeInstance, ChangeRecord, SandboxState,
} from './state.js'

import {pipelinerSample, sampleObjects} from '../deliveries/samples.js'
import {isPipedriveAction, knownPipedriveObjects, toV2Action} from '../pipedrive/events.js'
import {PIPELINER_ENTITIES} from '../pipeliner/events.js'
import {type Clock, realClock} from './clock.js'
import {changeEvents, DeliveryEngine, type EngineContext} from './deliveries.js'
import {
  ELEMENTS_PREFIX, type ElementsContext, handleElements, vendorType,
} from './elements.js'
import {faultReply, Faults} from './faults.js'
import {
  type ApiRequest,
  header,
  isRecord,
  json,
  parseJson,
  redactQuery,
  redactRequestHeaders,
  type Reply,
  Timers,
} from './http.js'
import {handleV2Lists, isV2ListPath} from './lists.js'
import {
  BurstLimiter, handlePipedrive, type PipedriveContext, pipedriveSubpath,
} from './pipedrive.js'
import {
  handlePipeliner, isConcreteEvent, PIPELINER_PREFIX, type PipelinerContext,
} from './pipeliner.js'
import {SEED_PATH, seedPipedriveWebhook} from './seed.js'
import {
  emptyState, LIMITS, loadState, saveState,
} from './state.js'

/** The id of the object merged away when a merge does not say: the next id. */
function mergedAwayId(id: number | string): number | string {
  return typeof id === 'number' ? id + 1 : randomUUID()
}

export const DEFAULT_PORT = 4010
export const DEFAULT_HOST = '127.0.0.1'
/** Largest request body accepted (413 beyond). */
const MAX_BODY_BYTES = 1024 * 1024
/** Requests kept for GET /sandbox/requests. */
const MAX_LOGGED_REQUESTS = 1000

/** Sandbox settings (see `SandboxOptions` in index.ts). */
export interface SandboxServerOptions {
  port?: number
  host?: string
  dataFile?: string
  burst?: number
  timeScale?: number
  log?: (line: string) => void
  clock?: Clock
}

/** One entry of GET /sandbox/requests. */
export interface LoggedRequest {
  method: string
  path: string
  query: Record<string, string>
  headers: Record<string, string>
  body: unknown
  time: string
  /** The status answered (set once the answer is known). */
  status?: number
}

class BodyTooLarge extends Error {}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    const b = chunk as Buffer
    size += b.length
    if (size > limit) throw new BodyTooLarge('body too large')
    chunks.push(b)
  }

  return Buffer.concat(chunks)
}

export class SandboxServer implements ElementsContext, EngineContext, PipedriveContext, PipelinerContext {
  readonly clock: Clock
  readonly engine: DeliveryEngine
  readonly faults = new Faults()
  readonly limiter: BurstLimiter
  state: SandboxState
  readonly timeScale: number
  readonly timers: Timers
  private baseUrl = ''
  private closing: Promise<void> | undefined
  private requests: LoggedRequest[] = []
  private readonly server: Server

  constructor(private readonly opts: SandboxServerOptions = {}) {
    const ts = opts.timeScale ?? 1
    if (!(ts > 0) || !Number.isFinite(ts)) throw new Error(`timeScale must be a positive number (got ${ts})`)
    this.timeScale = ts
    this.clock = opts.clock ?? realClock
    this.timers = new Timers(this.clock)
    const burst = opts.burst ?? 20
    if (!(burst >= 0) || !Number.isFinite(burst)) throw new Error(`burst must be a number >= 0 (got ${burst})`)
    this.limiter = new BurstLimiter(Math.floor(burst), undefined, () => this.clock.now())
    this.state = opts.dataFile ? loadState(opts.dataFile) : emptyState()
    this.engine = new DeliveryEngine(this)
    this.server = createServer((req, res) => {
      this.onRequest(req, res).catch((error: unknown) => {
        this.write(res, json(500, {error: 'sandbox internal error', message: String((error as Error)?.message ?? error)}))
      })
    })
    this.server.keepAliveTimeout = 1000
  }

  get port(): number {
    return (this.server.address() as AddressInfo | null)?.port ?? 0
  }

  get url(): string {
    return this.baseUrl
  }

  async close(): Promise<void> {
    this.closing ??= (async () => {
      this.timers.clearAll()
      this.engine.stop()
      await new Promise<void>(resolve => {
        this.server.close(() => resolve())
        this.server.closeAllConnections()
      })
    })()
    return this.closing
  }

  forward(inst: CeInstance, record: CeEventRecord): void {
    this.engine.forwardElements(inst, record)
  }

  instanceChanged(inst: CeInstance): void {
    this.engine.instanceChanged(inst)
  }

  instanceRemoved(id: number): void {
    this.engine.instanceRemoved(id)
  }

  /** Listens, then re-arms the timers of a loaded state. */
  async listen(): Promise<void> {
    const host = this.opts.host ?? DEFAULT_HOST
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => reject(error)
      this.server.once('error', onError)
      this.server.listen(this.opts.port ?? DEFAULT_PORT, host, () => {
        this.server.off('error', onError)
        resolve()
      })
    })
    const shownHost = host.includes(':') ? `[${host}]` : host
    this.baseUrl = `http://${shownHost}:${this.port}`
    this.engine.restore()
  }

  log(line: string): void {
    this.opts.log?.(line)
  }

  persist(): void {
    if (!this.opts.dataFile) return
    try {
      saveState(this.opts.dataFile, this.state)
    } catch (error) {
      this.log(`cannot save ${this.opts.dataFile}: ${(error as Error).message}`)
    }
  }

  webhookRemoved(id: number): void {
    this.engine.webhookRemoved(id)
  }

  private async handleApi(req: ApiRequest): Promise<Reply> {
    const entry = this.logRequest(req)
    const reply = await this.answerApi(req)
    entry.status = reply.status
    return reply
  }

  private async answerApi(req: ApiRequest): Promise<Reply> {
    const fault = this.faults.take(req.method, req.path)
    if (!fault) return this.route(req)
    if (fault.passThrough) {
      const real = this.route(req)
      await this.timers.sleep(fault.delay)
      return faultReply(fault, real)
    }

    if (fault.apply) {
      this.route(req)
      await this.timers.sleep(fault.delay)
      return faultReply({...fault, status: fault.status ?? 503})
    }

    await this.timers.sleep(fault.delay)
    if (fault.status === undefined && fault.body === undefined) return this.route(req)
    return faultReply(fault)
  }

  private async handleSandbox(req: ApiRequest): Promise<Reply> {
    const {method, path} = req
    switch (path) {
    case '/sandbox/events': {
      if (method === 'POST') return this.sandboxEvents(req)
      break
    }

    case '/sandbox/faults': {
      if (method === 'GET') return json(200, this.faults.all())
      if (method === 'DELETE') {
        this.faults.clear()
        return json(200, {ok: true})
      }

      if (method === 'POST') {
        const parsed = parseJson(req.rawBody)
        if (!parsed.ok) return json(400, {error: 'a JSON fault definition is required'})
        const inputs = Array.isArray(parsed.value) ? parsed.value : [parsed.value]
        const added = []
        for (const input of inputs) {
          const r = this.faults.add(input)
          if ('error' in r) return json(400, {error: r.error})
          added.push(r.fault)
        }

        return json(201, Array.isArray(parsed.value) ? added : added[0])
      }

      break
    }

    case '/sandbox/health': {
      if (method === 'GET') return json(200, {ok: true, url: this.baseUrl})
      break
    }

    case '/sandbox/poll': {
      if (method === 'POST') {
        let notifications = 0
        for (const inst of this.state.elements.instances) {
          if (vendorType(inst.configuration) === 'polling') notifications += this.engine.pollNow(inst.id)
        }

        return json(200, {notifications})
      }

      break
    }

    case '/sandbox/requests': {
      if (method === 'GET') {
        const prefix = req.query.get('path')
        return json(200, prefix ? this.requests.filter(r => r.path.startsWith(prefix)) : this.requests)
      }

      if (method === 'DELETE') {
        this.requests = []
        return json(200, {ok: true})
      }

      break
    }

    case '/sandbox/reset': {
      if (method === 'POST') {
        this.timers.reset()
        this.engine.reset()
        this.faults.clear()
        this.limiter.reset()
        this.requests = []
        this.state = emptyState()
        this.persist()
        return json(200, {ok: true})
      }

      break
    }

    case '/sandbox/state': {
      if (method === 'GET') return json(200, this.state)
      break
    }

    default: {
      const seed = SEED_PATH.exec(path)
      if (seed && method === 'PATCH') return seedPipedriveWebhook(this.state, Number(seed[1]), req.rawBody, () => this.persist())
      return json(404, {error: 'not found', message: `No sandbox hook at ${method} ${path}`})
    }
    }

    return json(405, {error: 'method not allowed', message: `${method} is not allowed on ${path}`})
  }

  private logRequest(req: ApiRequest): LoggedRequest {
    let body: unknown = null
    if (req.rawBody.length > 0) {
      const parsed = parseJson(req.rawBody)
      body = parsed.ok ? parsed.value : req.rawBody.toString('utf8')
    }

    const entry: LoggedRequest = {
      method: req.method,
      path: req.path,
      query: redactQuery(req.query),
      headers: redactRequestHeaders(req.headers),
      body,
      time: new Date(this.clock.now()).toISOString(),
    }
    this.requests.push(entry)
    if (this.requests.length > MAX_LOGGED_REQUESTS) this.requests.splice(0, this.requests.length - MAX_LOGGED_REQUESTS)
    return entry
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now()
    const url = new URL(req.url ?? '/', 'http://sandbox.invalid')
    const method = (req.method ?? 'GET').toUpperCase()
    let rawBody: Buffer = Buffer.alloc(0)
    try {
      rawBody = await readBody(req, MAX_BODY_BYTES)
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        this.write(res, json(413, {error: 'payload too large', message: `request bodies are limited to ${MAX_BODY_BYTES} bytes`}), true)
        return
      }

      throw error
    }

    const apiReq: ApiRequest = {
      method, path: url.pathname, query: url.searchParams, headers: req.headers, rawBody, baseUrl: this.baseUrl,
    }
    const reply = await (url.pathname === '/sandbox' || url.pathname.startsWith('/sandbox/') ? this.handleSandbox(apiReq) : this.handleApi(apiReq))
    this.write(res, reply)
    this.log(`${method} ${url.pathname} ${reply.status} ${Math.round(performance.now() - started)}ms`)
  }

  private route(req: ApiRequest): Reply {
    if (pipedriveSubpath(req.path) !== undefined) return handlePipedrive(this, req)
    if (isV2ListPath(req.path)) return handleV2Lists(this, req)
    if (req.path === ELEMENTS_PREFIX || req.path.startsWith(ELEMENTS_PREFIX + '/')) return handleElements(this, req)
    if (req.path.startsWith(PIPELINER_PREFIX)) return handlePipeliner(this, req)
    return json(404, {
      error: 'not found',
      message: `No sandbox route for ${req.method} ${req.path}: Pipedrive is under /v1 and /api/v1, Cloud Elements under ${ELEMENTS_PREFIX}, Pipeliner under ${PIPELINER_PREFIX}sandbox`,
    })
  }

  private async sandboxEvents(req: ApiRequest): Promise<Reply> {
    const parsed = parseJson(req.rawBody)
    if (!parsed.ok || !isRecord(parsed.value)) return json(400, {error: 'a JSON object is required'})
    const b = parsed.value
    const optionalObject = (k: string): false | null | Record<string, unknown> => {
      const v = b[k]
      if (v === undefined || v === null) return null
      return isRecord(v) ? v : false
    }

    const previous = optionalObject('previous')
    if (previous === false) return json(400, {error: 'previous must be an object'})
    if (typeof b.event === 'string') {
      if (!isConcreteEvent(b.event)) {
        return json(400, {error: `unknown Pipeliner event "${b.event}": use Entity.Event with an entity of ${PIPELINER_ENTITIES.join(', ')}`})
      }

      let entities: Array<Record<string, unknown>>
      if (b.entities === undefined) {
        const entity = optionalObject('entity')
        if (entity === false) return json(400, {error: 'entity must be an object'})
        entities = [entity ?? pipelinerSample(b.event.split('.')[0])]
      } else {
        if (!Array.isArray(b.entities) || b.entities.length === 0 || !b.entities.every(e => isRecord(e))) {
          return json(400, {error: 'entities must be a non-empty array of objects'})
        }

        entities = b.entities as Array<Record<string, unknown>>
      }

      const skipKey = header(req.headers, 'webhook-skip-key') || (typeof b.skipKey === 'string' ? b.skipKey : undefined)
      const deliveries = await this.engine.dispatchPipeliner({
        event: b.event,
        entities,
        previous,
        relatedEntity: b.related_entity,
        skipKey: skipKey || undefined,
      })
      return json(200, {event: b.event, deliveries})
    }

    const objects = knownPipedriveObjects()
    if (typeof b.object !== 'string' || !objects.includes(b.object)) {
      return json(400, {error: `object must be one of: ${objects.join(', ')} (or give "event":"Entity.Event" for Pipeliner)`})
    }

    if (!isPipedriveAction(b.action)) {
      return json(400, {error: 'action must be one of: added, updated, merged, deleted, create, change, delete'})
    }

    let id: number | string = randomInt(1, 1_000_000)
    if (b.id !== undefined && b.id !== null) {
      if ((typeof b.id !== 'number' || !Number.isFinite(b.id)) && (typeof b.id !== 'string' || b.id === '')) {
        return json(400, {error: 'id must be a number or a non-empty string'})
      }

      id = b.id
    }

    const data = optionalObject('data')
    if (data === false) return json(400, {error: 'data must be an object'})
    if (b.userId !== undefined && (typeof b.userId !== 'number' || !Number.isInteger(b.userId) || b.userId < 1)) {
      return json(400, {error: 'userId must be a positive integer'})
    }

    const sets = b.set ?? b.sets
    if (sets !== undefined && (!Array.isArray(sets) || !sets.every(x => typeof x === 'string'))) {
      return json(400, {error: 'set must be an array of "field=value" strings (as trigger --set takes them)'})
    }

    const merged = b.action === 'merged'
    const {mergedFromId} = b
    if (mergedFromId !== undefined && (!merged || ((typeof mergedFromId !== 'number' || !Number.isFinite(mergedFromId)) && (typeof mergedFromId !== 'string' || mergedFromId === '')))) {
      return json(400, {error: 'mergedFromId goes with action "merged": the id (number or string) of the object merged away'})
    }

    const {changes} = this.state
    const record: ChangeRecord = {
      seq: changes.nextSeq,
      time: this.clock.now(),
      object: b.object,
      action: toV2Action(b.action),
      id,
      data,
      previous,
      ...(sets === undefined ? {} : {sets: sets as string[]}),
      ...(merged ? {mergedFromId: (mergedFromId as number | string | undefined) ?? mergedAwayId(id)} : {}),
    }
    try {
      // the same builders as trigger: a bad --set or an object no version has a sample of is refused here, not half-delivered
      for (const version of ['1.0', '2.0'] as const) if (sampleObjects(version).includes(record.object)) changeEvents(record, version)
    } catch (error) {
      return json(400, {error: (error as Error).message})
    }

    changes.nextSeq++
    changes.items.push(record)
    if (changes.items.length > LIMITS.changes) changes.items.splice(0, changes.items.length - LIMITS.changes)
    this.persist()
    const deliveries = await this.engine.dispatchPipedrive({
      ...record,
      userId: typeof b.userId === 'number' ? b.userId : undefined,
      changeSource: typeof b.changeSource === 'string' ? b.changeSource : undefined,
    })
    return json(200, {
      change: {
        seq: record.seq, object: record.object, action: b.action, id, ...(record.mergedFromId === undefined ? {} : {mergedFromId: record.mergedFromId}),
      }, deliveries,
    })
  }

  private write(res: ServerResponse, reply: Reply, close = false): void {
    if (res.headersSent || res.destroyed || res.writableEnded) return
    const headers: Record<string, number | string> = {...reply.headers}
    let payload = ''
    if (reply.text !== undefined) payload = reply.text
    else if (reply.body !== undefined) {
      payload = JSON.stringify(reply.body)
      if (!Object.keys(headers).some(k => k.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json; charset=utf-8'
    }

    headers['content-length'] = Buffer.byteLength(payload)
    if (close) headers.connection = 'close'
    res.writeHead(reply.status, headers)
    res.end(payload)
  }
}
