// Fakes of the three services on nock: a stateful world, one Pipeliner list page, and nock hygiene.
import nock from 'nock'

import {
  CE_HOST, instance as instanceFixture, PD, PL, PL_SPACE, webhook,
} from './fixtures.js'

export interface World {
  fail: {pdPost?: number}
  instances: any[]
  pd: any[]
  pl: any[]
  requests: string[]
}

/**
 * A stateful fake of the three services on nock (persisting interceptors): what is created is listed afterwards, so
 * commands that converge (apply, setup) can be run twice. `token` scopes Pipedrive to one account.
 */
export function fakeWorld(opts: {pdHost?: string; token?: string} = {}): World {
  const w: World = {
    fail: {}, instances: [], pd: [], pl: [], requests: [],
  }
  let nextInstance = 20_931
  let nextHook = 100
  let nextPl = 1
  const pdScope = nock(opts.pdHost ?? PD, opts.token ? {reqheaders: {'x-api-token': opts.token}} : {}).persist()
  pdScope.get('/v1/webhooks').reply(200, () => {
    w.requests.push('GET pd')
    return {data: w.pd, success: true}
  })
  pdScope.post('/v1/webhooks').reply((_u, body: any) => {
    w.requests.push(`POST pd ${body.event_action}.${body.event_object}`)
    if (w.fail.pdPost) {
      w.fail.pdPost--
      return [400, {errors: {subscription_url: ['invalid or non-reachable URL']}, status: 'error', success: false}]
    }

    const hook = webhook({...body, id: nextHook++, user_id: body.user_id ?? 7})
    w.pd.push(hook)
    return [201, {data: hook, success: true}]
  })
  pdScope.delete(/\/v1\/webhooks\/\d+/).reply(uri => {
    const id = Number(uri.split('/').pop())
    w.requests.push(`DELETE pd ${id}`)
    const i = w.pd.findIndex(h => h.id === id)
    if (i === -1) return [404, {errors: {id: ['not found']}, success: false}]
    w.pd.splice(i, 1)
    return [200, {success: true}]
  })
  const ce = nock(CE_HOST).persist()
  ce.get('/elements/api-v2/instances').reply(200, () => w.instances)
  ce.post('/elements/api-v2/instances').reply(200, (_u, body: any) => {
    w.requests.push(`POST instance ${body.name}`)
    const inst = instanceFixture({
      configuration: body.configuration, id: nextInstance++, name: body.name, tags: body.tags,
    })
    w.instances.push(inst)
    return inst
  })
  ce.patch(/\/elements\/api-v2\/instances\/\d+/).reply((uri, body: any) => {
    const id = Number(uri.split('/').pop())
    w.requests.push(`PATCH instance ${id}`)
    const inst = w.instances.find(i => i.id === id)
    if (!inst) return [404, {message: 'not found', requestId: 'r'}]
    Object.assign(inst.configuration, body.configuration)
    if (body.tags) inst.tags = body.tags
    return [200, inst]
  })
  ce.delete(/\/elements\/api-v2\/instances\/\d+/).reply(uri => {
    const id = Number(uri.split('/').pop())
    w.requests.push(`DELETE instance ${id}`)
    w.instances = w.instances.filter(i => i.id !== id)
    return [200, {}]
  })
  const pl = nock(PL).persist()
  pl.get(`${PL_SPACE}/entities/Webhooks`).query(true).reply(200, () => ({data: w.pl, page_info: {end_cursor: null, has_next_page: false}, success: true}))
  pl.post(`${PL_SPACE}/entities/Webhooks`).reply(201, (_u, body: any) => {
    w.requests.push(`POST pl ${body.url}`)
    const hook = {...body, id: `00000000-0000-4000-8000-${String(nextPl++).padStart(12, '0')}`}
    w.pl.push(hook)
    return {data: hook, success: true}
  })
  pl.delete(new RegExp(`${PL_SPACE}/entities/Webhooks/[\\w-]+$`)).reply(uri => {
    const id = uri.split('/').pop()
    w.requests.push(`DELETE pl ${id}`)
    w.pl = w.pl.filter(h => h.id !== id)
    return [200, {data: id, success: true}]
  })
  return w
}

/** `GET /entities/Webhooks?first=100[&after=…]` answering one page. */
export function listPage(data: unknown[], opts: {after?: string; next?: string} = {}): nock.Scope {
  const query: Record<string, string> = {first: '100'}
  if (opts.after) query.after = opts.after
  return nock(PL).get(`${PL_SPACE}/entities/Webhooks`).query(query).reply(200, {
    data,
    page_info: {
      end_cursor: opts.next ?? (data.length > 0 ? 'last-cursor' : null), has_next_page: Boolean(opts.next), has_previous_page: Boolean(opts.after), start_cursor: null,
    },
    success: true,
  })
}

export function cleanNock(): void {
  nock.cleanAll()
}

/** Asserts that no nock interceptor is left unused. */
export function assertNockDone(): void {
  if (!nock.isDone()) {
    const pending = nock.pendingMocks()
    nock.cleanAll()
    throw new Error(`Unused nock interceptors: ${pending.join(', ')}`)
  }
}
