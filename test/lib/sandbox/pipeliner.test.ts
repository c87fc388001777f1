import {expect} from 'chai'

import type {Sandbox} from '../../../src/lib/sandbox/index.js'

import {verifyPipeliner} from '../../../src/lib/deliveries/signatures.js'
import {
  decodeCursor, encodeCursor, isValidEventPattern, plOptionsAllow,
} from '../../../src/lib/sandbox/pipeliner.js'
import {TestClock} from '../../support/clock.js'
import {PL_SPACE, SIG} from '../../support/fixtures.js'
import {type Receiver, receiver} from '../../support/receiver.js'
import {
  call, hook, pl, sandbox,
} from './helpers.js'

function body(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    url: 'https://app.example.com/pl', events: ['Account.Create', 'Opportunity.*'], insecure_ssl: false, ...overrides,
  }
}

describe('sandbox: Pipeliner webhooks API', () => {
  let sb: Sandbox
  let clock: TestClock

  beforeEach(async () => {
    clock = new TestClock()
    sb = await sandbox({clock})
  })

  afterEach(async () => {
    await sb.close()
  })

  it('answers 401 without Basic credentials, 404 for another space', async () => {
    const cases: Array<Record<string, string>> = [
      {},
      {authorization: 'Basic ' + Buffer.from('user:').toString('base64')},
      {authorization: 'Basic ' + Buffer.from(':pass').toString('base64')},
      {authorization: 'Bearer abc'},
    ]
    for (const headers of cases) {
      const r = await call(sb.url + PL_SPACE + '/entities/Webhooks', {headers})
      expect(r.status).to.equal(401)
      expect(r.body).to.include({success: false, http_status: 401})
      expect(r.body.code).to.be.a('number')
      expect(r.body.name).to.be.a('string')
      expect(r.body.message).to.be.a('string')
    }

    const other = await call(sb.url + '/api/v100/rest/spaces/other/entities/Webhooks', {headers: {authorization: 'Basic ' + Buffer.from('a:b').toString('base64')}})
    expect(other.status).to.equal(404)
    expect(other.body).to.include({success: false, http_status: 404})
  })

  it('creates (201), gets, patches and deletes a webhook', async () => {
    const r = await pl(sb, '/entities/Webhooks', {method: 'POST', json: body({signature: SIG, options: {chunk_size: 5, skip_keys: ['me']}})})
    expect(r.status).to.equal(201)
    expect(r.body.success).to.equal(true)
    const w = r.body.data
    expect(Object.keys(w)).to.have.members(['id', 'url', 'events', 'insecure_ssl', 'signature', 'options', 'created', 'modified', 'is_deleted', 'application_id', 'client_id'])
    expect(w).to.include({
      url: 'https://app.example.com/pl', insecure_ssl: false, signature: SIG, is_deleted: false,
    })
    expect(w.id).to.match(/^[\da-f]{8}-[\da-f]{4}-[\da-f]{4}-[\da-f]{4}-[\da-f]{12}$/)
    expect(w.options).to.deep.equal({chunk_size: 5, skip_keys: ['me']})
    const got = await pl(sb, `/entities/Webhooks/${w.id}`)
    expect(got.body).to.deep.equal({success: true, data: w})
    const patched = await pl(sb, `/entities/Webhooks/${w.id}`, {method: 'PATCH', json: {url: 'https://app.example.com/other'}})
    expect(patched.status).to.equal(200)
    expect(patched.body.data).to.include({url: 'https://app.example.com/other', signature: SIG})
    const badPatch = await pl(sb, `/entities/Webhooks/${w.id}`, {method: 'PATCH', json: {events: []}})
    expect(badPatch.status).to.equal(400)
    const del = await pl(sb, `/entities/Webhooks/${w.id}`, {method: 'DELETE'})
    expect(del.status).to.equal(200)
    expect(del.body).to.deep.equal({success: true, data: w.id})
    for (const method of ['GET', 'DELETE', 'PATCH']) {
      const r404 = await pl(sb, `/entities/Webhooks/${w.id}`, {method, ...(method === 'PATCH' ? {json: {}} : {})})
      expect(r404.status, method).to.equal(404)
      expect(r404.body).to.include({success: false, http_status: 404})
    }
  })

  const invalid: Array<[string, Record<string, unknown>, RegExp]> = [
    ['a missing url', {url: undefined}, /'url'/],
    ['a non-URL', {url: 'nope'}, /'url'/],
    ['missing events', {events: undefined}, /'events'/],
    ['empty events', {events: []}, /'events'/],
    ['an unknown event', {events: ['Account.Explode']}, /Account\.Explode/],
    ['an unknown entity', {events: ['Deal.*']}, /Deal/],
    ['a missing insecure_ssl', {insecure_ssl: undefined}, /insecure_ssl/],
    ['a string insecure_ssl', {insecure_ssl: 'false'}, /insecure_ssl/],
    ['a non-UUID signature', {signature: 'secret'}, /signature/],
    ['chunk_size 0', {options: {chunk_size: 0}}, /chunk_size/],
    ['chunk_size 101', {options: {chunk_size: 101}}, /chunk_size/],
  ]
  for (const [what, overrides, message] of invalid) {
    it(`answers 400 ERROR_PARAMETER_INVALID to ${what}`, async () => {
      const r = await pl(sb, '/entities/Webhooks', {method: 'POST', json: body(overrides)})
      expect(r.status).to.equal(400)
      expect(r.body).to.include({
        success: false, http_status: 400, code: 117, name: 'ERROR_PARAMETER_INVALID',
      })
      expect(r.body.message).to.match(message)
    })
  }

  it('accepts every documented event form', async () => {
    const events = ['*', 'Lead.BackToLead', 'Opportunity.Qualify', 'Task.Comment', 'Email.DocumentLinked', 'OpptyProductRelation.*', 'CustomEntity.OwnerChanged', 'Product.Delete']
    const r = await pl(sb, '/entities/Webhooks', {method: 'POST', json: body({events})})
    expect(r.status).to.equal(201)
    expect(r.body.data.events).to.deep.equal(events)
  })

  it('pages with first/after across several pages', async () => {
    const ids: string[] = []
    for (let i = 0; i < 7; i++) ids.push((await pl(sb, '/entities/Webhooks', {method: 'POST', json: body({url: `https://app.example.com/${i}`})})).body.data.id)
    const seen: string[] = []
    let after: null | string = null
    let pages = 0
    for (;;) {
      const q: string = `?first=3${after ? `&after=${encodeURIComponent(after)}` : ''}`
      const r = await pl(sb, '/entities/Webhooks' + q)
      expect(r.status).to.equal(200)
      pages++
      seen.push(...r.body.data.map((w: any) => w.id))
      expect(r.body.page_info.has_previous_page).to.equal(pages > 1)
      if (!r.body.page_info.has_next_page) break
      after = r.body.page_info.end_cursor
      expect(after).to.be.a('string')
    }

    expect(pages).to.equal(3)
    expect(seen).to.deep.equal(ids)
    const all = await pl(sb, '/entities/Webhooks')
    expect(all.body.data).to.have.length(7)
    expect(all.body.page_info).to.include({has_next_page: false, has_previous_page: false})
    for (const q of ['?first=101', '?first=0', '?first=x', '?after=garbage']) {
      const r = await pl(sb, '/entities/Webhooks' + q)
      expect(r.status, q).to.equal(400)
      expect(r.body.code).to.equal(117)
    }
  })

  it('batch-deletes from an array or from {ids}', async () => {
    const ids: string[] = []
    for (let i = 0; i < 4; i++) ids.push((await pl(sb, '/entities/Webhooks', {method: 'POST', json: body()})).body.data.id)
    const a = await pl(sb, '/entities/Webhooks/batch-delete', {method: 'POST', json: [ids[0], ids[1]]})
    expect(a.status).to.equal(200)
    expect(a.body.success).to.equal(true)
    const b = await pl(sb, '/entities/Webhooks/batch-delete', {method: 'POST', json: {ids: [ids[2]]}})
    expect(b.status).to.equal(200)
    const left = await pl(sb, '/entities/Webhooks')
    expect(left.body.data.map((w: any) => w.id)).to.deep.equal([ids[3]])
    expect((await pl(sb, '/entities/Webhooks/batch-delete', {method: 'POST', json: {nope: 1}})).status).to.equal(400)
  })

  describe('deliveries', () => {
    let rx: Receiver

    beforeEach(async () => {
      rx = await receiver()
    })

    afterEach(async () => {
      await rx.close()
    })

    it('delivers signed, chunked arrays to matching webhooks only', async () => {
      const signed = (await pl(sb, '/entities/Webhooks', {
        method: 'POST', json: body({
          url: rx.url + '/a', events: ['Opportunity.*'], signature: SIG, options: {chunk_size: 2},
        }),
      })).body.data
      await pl(sb, '/entities/Webhooks', {method: 'POST', json: body({url: rx.url + '/b', events: ['Account.Create']})})
      const plain = (await pl(sb, '/entities/Webhooks', {method: 'POST', json: body({url: rx.url + '/c', events: ['*']})})).body.data
      const r = await hook(sb, '/events', {event: 'Opportunity.Update', entities: [{id: 'o1'}, {id: 'o2'}, {id: 'o3'}]})
      expect(r.status).to.equal(200)
      expect(r.body.deliveries).to.have.length(3)
      expect(r.body.deliveries.every((d: any) => d.status === 200)).to.equal(true)
      const got = await rx.waitFor(3)
      const toA = got.filter(g => g.path === '/hook/a')
      expect(toA.map(g => g.json.length).sort()).to.deep.equal([1, 2])
      for (const g of toA) {
        expect(verifyPipeliner(SIG, g.raw, g.headers['webhook-signature'] as string)).to.equal(true)
        expect(g.headers['webhook-signature']).to.match(/^[\da-f]{64}$/)
      }

      const item = toA.find(g => g.json.length === 2)!.json[0]
      expect(item).to.include({event: 'Opportunity.Update', team_space_id: 'sandbox', related_entity: null})
      expect(item.entity).to.deep.equal({id: 'o1'})
      expect(item.webhook.id).to.equal(signed.id)
      expect(item.webhook).not.to.have.property('signature')
      expect(new Date(item.event_time).toISOString()).to.equal(item.event_time)
      const toC = got.filter(g => g.path === '/hook/c')
      expect(toC).to.have.length(1)
      expect(toC[0].json).to.have.length(3)
      expect(toC[0].json[0].webhook.id).to.equal(plain.id)
      expect(toC[0].headers['webhook-signature']).to.equal(undefined)
      expect(got.some(g => g.path === '/hook/b')).to.equal(false)
    })

    it('delays chunk N by N × chunk_delay seconds', async () => {
      await pl(sb, '/entities/Webhooks', {method: 'POST', json: body({url: rx.url, events: ['Contact.*'], options: {chunk_size: 1, chunk_delay: 30}})})
      const r = await hook(sb, '/events', {event: 'Contact.Create', entities: [{id: 'c1'}, {id: 'c2'}, {id: 'c3'}]})
      const byChunk = r.body.deliveries.sort((a: any, b: any) => a.chunk - b.chunk)
      expect(byChunk.map((d: any) => [d.chunk, d.status, d.scheduled_in_ms ?? 0])).to.deep.equal([
        [0, 200, 0],
        [1, null, 30_000],
        [2, null, 60_000],
      ])
      expect(clock.pending()).to.deep.equal([30_000, 60_000])
      await rx.waitFor(1)
      await clock.tick(30_000)
      await rx.waitFor(2)
      await clock.tick(29_999)
      expect(clock.pending()).to.deep.equal([1])
      await clock.tick(1)
      const got = await rx.waitFor(3)
      expect(got.map(g => g.json[0].entity.id)).to.deep.equal(['c1', 'c2', 'c3'])
    })

    it('honours skip_keys and entity filters', async () => {
      await pl(sb, '/entities/Webhooks', {
        method: 'POST',
        json: body({url: rx.url, events: ['Account.*'], options: {skip_keys: ['my-sync'], entity: {Account: {filter: {owner_id: ['u1']}}}}}),
      })
      const skipped = await call(sb.url + '/sandbox/events', {method: 'POST', headers: {'webhook-skip-key': 'my-sync'}, json: {event: 'Account.Update', entity: {id: 'a', owner_id: 'u1'}}})
      expect(skipped.body.deliveries).to.deep.equal([])
      const filtered = await hook(sb, '/events', {event: 'Account.Update', entity: {id: 'a', owner_id: 'u2'}})
      expect(filtered.body.deliveries).to.deep.equal([])
      const sent = await hook(sb, '/events', {event: 'Account.Update', entity: {id: 'a', owner_id: 'u1'}})
      expect(sent.body.deliveries).to.have.length(1)
      expect(rx.received).to.have.length(1)
    })

    it('rejects unknown Pipeliner events', async () => {
      const r = await hook(sb, '/events', {event: 'Opportunity.*', entity: {}})
      expect(r.status).to.equal(400)
    })
  })
})

describe('sandbox: Pipeliner rules (unit)', () => {
  it('validates event patterns from the seed table', () => {
    for (const ok of ['*', 'Account.*', 'Opportunity.Won', 'Lead.Lost', 'Appointment.Comment', 'Email.Update']) expect(isValidEventPattern(ok), ok).to.equal(true)
    for (const bad of ['Account', 'Email.OwnerChanged', 'Product.DocumentLinked', 'account.create', '*.*', 'Contact.Won']) expect(isValidEventPattern(bad), bad).to.equal(false)
  })

  it('round-trips cursors', () => {
    expect(decodeCursor(encodeCursor(42))).to.equal(42)
    expect(decodeCursor('zzz')).to.equal(undefined)
  })

  it('applies on-field-change only when previous is known', () => {
    const options = {entity: {Opportunity: {'on-field-change': ['value']}}}
    expect(plOptionsAllow(options, {event: 'Opportunity.Update', entity: {value: 2}, previous: {value: 1}})).to.equal(true)
    expect(plOptionsAllow(options, {event: 'Opportunity.Update', entity: {value: 2, name: 'b'}, previous: {value: 2, name: 'a'}})).to.equal(false)
    expect(plOptionsAllow(options, {event: 'Opportunity.Update', entity: {value: 2}})).to.equal(true)
    expect(plOptionsAllow({entity: {Account: {filter: {status: 'open'}, 'filter-op': {status: 'neq'}}}}, {event: 'Account.Update', entity: {status: 'won'}})).to.equal(true)
  })
})
