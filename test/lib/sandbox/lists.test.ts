import {expect} from 'chai'

import type {Sandbox} from '../../../src/lib/sandbox/index.js'
import type {ChangeRecord} from '../../../src/lib/sandbox/state.js'

import {listedObjects} from '../../../src/lib/sandbox/lists.js'
import {
  call, hook, PD_TOKEN, sandbox,
} from './helpers.js'

const v2 = (sb: Sandbox, path: string, headers?: Record<string, string>) => call(`${sb.url}/api/v2${path}`, {headers: headers ?? {'x-api-token': PD_TOKEN}})

const record = (over: Partial<ChangeRecord>): ChangeRecord => ({
  action: 'change', data: null, id: 1, object: 'deal', previous: null, seq: 1, time: Date.parse('2026-12-01T10:00:00.400Z'), ...over,
})

const t = (s: number) => Date.parse('2026-12-01T10:00:00Z') + (s * 1000)

describe('sandbox: API v2 lists', () => {
  let sb: Sandbox

  afterEach(async () => {
    await sb?.close()
  })

  it('lists the latest state of each object; deleted and merged-away ones are gone; add_time is the create\'s', () => {
    const items = listedObjects([
      record({
        action: 'create', id: 1, seq: 1, time: t(0),
      }),
      record({
        data: {title: 'renamed'}, id: 1, seq: 2, time: t(5.7),
      }),
      record({id: 2, seq: 3, time: t(6)}),
      record({
        action: 'delete', id: 2, seq: 4, time: t(7),
      }),
      record({
        id: 3, mergedFromId: 4, seq: 5, time: t(8),
      }),
      record({id: 4, seq: 0, time: t(-1)}),
      record({
        id: 9, object: 'person', seq: 6, time: t(9),
      }),
    ], 'deal')
    expect(items.map(i => i.id)).to.deep.equal([1, 3])
    expect(items[0]).to.include({add_time: '2026-12-01T10:00:00Z', title: 'renamed', update_time: '2026-12-01T10:00:05Z'})
  })

  it('pages with cursor and limit, filters by updated_since (inclusive) and updated_until (exclusive), sorts', async () => {
    sb = await sandbox()
    for (let id = 1; id <= 5; id++) expect((await hook(sb, '/events', {action: 'change', id, object: 'deal'})).status).to.equal(200)
    const first = await v2(sb, '/deals?limit=2')
    expect(first.status).to.equal(200)
    expect(first.body.success).to.equal(true)
    expect(first.body.data.map((d: any) => d.id)).to.deep.equal([1, 2])
    expect(first.headers.get('x-ratelimit-limit')).to.be.a('string')
    const next = first.body.additional_data.next_cursor
    expect(next).to.be.a('string')
    const second = await v2(sb, `/deals?limit=2&cursor=${next}`)
    expect(second.body.data.map((d: any) => d.id)).to.deep.equal([3, 4])
    const last = await v2(sb, `/deals?limit=2&cursor=${second.body.additional_data.next_cursor}`)
    expect(last.body.data.map((d: any) => d.id)).to.deep.equal([5])
    expect(last.body.additional_data.next_cursor).to.equal(null)

    const updated = first.body.data[0].update_time as string
    expect(updated).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    expect((await v2(sb, `/deals?updated_since=${updated}`)).body.data.length).to.equal(5)
    expect((await v2(sb, `/deals?updated_until=${updated}`)).body.data.length).to.equal(0)
    expect((await v2(sb, '/deals?updated_since=2999-01-01T00:00:00Z')).body.data).to.deep.equal([])
    expect((await v2(sb, '/deals?sort_by=id&sort_direction=desc&limit=1')).body.data[0].id).to.equal(5)
    expect((await v2(sb, '/persons')).body.data).to.deep.equal([])
  })

  it('refuses what API v2 refuses: unknown parameters, a limit over 500, fractions of seconds, a bad cursor; no token is 401', async () => {
    sb = await sandbox()
    const bad = async (path: string) => {
      const r = await v2(sb, path)
      expect(r.status, `${path}: ${r.text}`).to.equal(400)
      expect(r.body).to.include({code: 'ERR_SCHEMA_VALIDATION_FAILED', success: false})
      return r.body.error as string
    }

    expect(await bad('/deals?start=0')).to.include('Unknown query parameter "start"')
    expect(await bad('/deals?limit=501')).to.include('limit')
    expect(await bad('/deals?updated_since=2025-01-01T10:20:00.123Z')).to.include('whole seconds')
    expect(await bad('/deals?updated_until=yesterday')).to.include('updated_until')
    expect(await bad('/deals?cursor=nonsense')).to.include('cursor')
    expect(await bad('/deals?sort_by=title')).to.include('sort_by')
    expect(await bad('/deals?sort_direction=up')).to.include('sort_direction')
    // products, pipelines and stages have no time filter
    expect(await bad('/products?updated_since=2025-01-01T10:20:00Z')).to.include('updated_since')
    expect((await v2(sb, '/products?sort_by=update_time&sort_direction=desc')).status).to.equal(200)
    expect((await v2(sb, '/deals', {})).status).to.equal(401)
    expect((await v2(sb, '/widgets')).status).to.equal(404)
    expect((await call(`${sb.url}/api/v2/deals`, {headers: {'x-api-token': PD_TOKEN}, json: {}, method: 'POST'})).status).to.equal(405)
  })

  it('counts list calls in the burst limit (429 with Retry-After over it)', async () => {
    sb = await sandbox({burst: 2})
    expect((await v2(sb, '/deals')).status).to.equal(200)
    expect((await v2(sb, '/deals')).status).to.equal(200)
    const r = await v2(sb, '/deals')
    expect(r.status).to.equal(429)
    expect(r.headers.get('retry-after')).to.be.a('string')
  })
})
