import {expect} from 'chai'

import type {Sandbox} from '../../../src/lib/sandbox/index.js'

import {
  BurstLimiter, extractToken, validateWebhookInput, webhookMatches,
} from '../../../src/lib/sandbox/pipedrive.js'
import {TestClock} from '../../support/clock.js'
import {
  call, pd, sandbox, webhookBody,
} from './helpers.js'

const WEBHOOK_FIELDS = [
  'id',
  'company_id',
  'owner_id',
  'user_id',
  'event_action',
  'event_object',
  'subscription_url',
  'version',
  'is_active',
  'add_time',
  'remove_time',
  'type',
  'http_auth_user',
  'http_auth_password',
  'remove_reason',
  'last_delivery_time',
  'last_http_status',
  'admin_id',
  'name',
]

describe('sandbox: Pipedrive webhooks API', () => {
  let sb: Sandbox

  beforeEach(async () => {
    sb = await sandbox()
  })

  afterEach(async () => {
    await sb.close()
  })

  describe('auth', () => {
    it('answers 401 without a token, with the documented body and rate headers', async () => {
      const r = await call(sb.url + '/v1/webhooks')
      expect(r.status).to.equal(401)
      expect(r.body).to.deep.equal({success: false, error: 'unauthorized access', errorCode: 401})
      expect(r.headers.get('x-ratelimit-limit')).to.be.a('string')
      const empty = await call(sb.url + '/v1/webhooks', {headers: {'x-api-token': ''}})
      expect(empty.status).to.equal(401)
      const emptyQuery = await call(sb.url + '/v1/webhooks?api_token=')
      expect(emptyQuery.status).to.equal(401)
    })

    it('accepts x-api-token, Bearer and ?api_token=, each token a stable user', async () => {
      const a = await call(sb.url + '/v1/users/me', {headers: {'x-api-token': 'tok-a'}})
      const b = await call(sb.url + '/v1/users/me', {headers: {authorization: 'Bearer tok-b'}})
      const c = await call(sb.url + '/v1/users/me?api_token=tok-a')
      expect([a.status, b.status, c.status]).to.deep.equal([200, 200, 200])
      expect(a.body.success).to.equal(true)
      expect(a.body.data).to.include({id: 1, company_id: 1, is_admin: true})
      expect(a.body.data.email).to.be.a('string')
      expect(a.body.data.name).to.be.a('string')
      expect(b.body.data.id).to.equal(2)
      expect(c.body.data.id).to.equal(1)
    })

    it('serves the same API under /api/v1', async () => {
      const created = await call(sb.url + '/api/v1/webhooks', {method: 'POST', headers: {'x-api-token': 't'}, json: webhookBody()})
      expect(created.status).to.equal(201)
      const list = await pd(sb, '/webhooks')
      expect(list.body.data.map((w: any) => w.id)).to.deep.equal([created.body.data.id])
      const del = await call(`${sb.url}/api/v1/webhooks/${created.body.data.id}`, {method: 'DELETE', headers: {'x-api-token': 't'}})
      expect(del.body).to.deep.equal({success: true, status: 'ok'})
    })
  })

  describe('POST /webhooks', () => {
    it('creates a webhook: 201 with every documented field, password in clear, default version 2.0', async () => {
      const r = await pd(sb, '/webhooks', {
        method: 'POST',
        json: webhookBody({http_auth_user: 'u', http_auth_password: 'p4ss', subscription_url: 'http://127.0.0.1:9/loopback'}),
      })
      expect(r.status).to.equal(201)
      expect(r.body.success).to.equal(true)
      expect(r.body.status).to.equal('ok')
      const w = r.body.data
      expect(Object.keys(w)).to.have.members(WEBHOOK_FIELDS)
      expect(w).to.include({
        company_id: 1,
        owner_id: 1,
        user_id: 1,
        event_action: 'change',
        event_object: 'deal',
        subscription_url: 'http://127.0.0.1:9/loopback',
        version: '2.0',
        is_active: 1,
        remove_time: null,
        type: 'general',
        http_auth_user: 'u',
        http_auth_password: 'p4ss',
        remove_reason: null,
        last_delivery_time: null,
        last_http_status: null,
        admin_id: 1,
        name: 'pdhooks test',
      })
      expect(w.id).to.be.a('number')
      expect(new Date(w.add_time).toISOString()).to.equal(w.add_time)
      const list = await pd(sb, '/webhooks')
      expect(list.status).to.equal(200)
      expect(list.body).to.deep.equal({success: true, status: 'ok', data: [w]})
    })

    it('keeps user_id when given and accepts v1 vocabulary with version 1.0', async () => {
      const r = await pd(sb, '/webhooks', {
        method: 'POST', json: webhookBody({
          event_action: 'updated', event_object: 'activityType', version: '1.0', user_id: 12,
        }),
      })
      expect(r.status).to.equal(201)
      expect(r.body.data).to.include({
        user_id: 12, owner_id: 1, version: '1.0', event_action: 'updated', event_object: 'activityType',
      })
    })

    it('answers 415 to a body that is not JSON', async () => {
      const r = await pd(sb, '/webhooks', {
        method: 'POST',
        headers: {'content-type': 'application/x-www-form-urlencoded'},
        body: 'subscription_url=https%3A%2F%2Fexample.com&event_action=*&event_object=*&name=x',
      })
      expect(r.status).to.equal(415)
      expect(r.body.success).to.equal(false)
      expect((await pd(sb, '/webhooks')).body.data).to.deep.equal([])
    })

    const invalid: Array<[string, Record<string, unknown>, string, RegExp]> = [
      ['missing subscription_url', {subscription_url: undefined}, 'subscription_url', /required/],
      ['a non-URL', {subscription_url: 'not a url'}, 'subscription_url', /invalid or non-reachable URL/],
      ['an ftp URL', {subscription_url: 'ftp://example.com/x'}, 'subscription_url', /invalid/],
      ['a Pipedrive URL', {subscription_url: 'https://acme.pipedrive.com/api/v1/x'}, 'subscription_url', /Pipedrive/],
      ['missing name', {name: undefined}, 'name', /required/],
      ['a 256-character name', {name: 'x'.repeat(256)}, 'name', /255/],
      ['an unknown version', {version: '3.0'}, 'version', /1\.0, 2\.0/],
      ['a numeric version', {version: 2}, 'version', /1\.0, 2\.0/],
      ['a v1 action with version 2.0', {event_action: 'updated'}, 'event_action', /use "change"/],
      ['a v2 action with version 1.0', {event_action: 'create', version: '1.0'}, 'event_action', /use "added"/],
      ['an unknown action', {event_action: 'modified'}, 'event_action', /create, change, delete/],
      ['activityType with version 2.0', {event_object: 'activityType'}, 'event_object', /version 1\.0/],
      ['lead with version 1.0', {event_object: 'lead', event_action: 'added', version: '1.0'}, 'event_object', /2\.0/],
      ['an unknown object', {event_object: 'deals'}, 'event_object', /must be one of/],
      ['a missing action', {event_action: undefined}, 'event_action', /required/],
      ['a bad user_id', {user_id: 'me'}, 'user_id', /integer/],
    ]
    for (const [what, overrides, field, message] of invalid) {
      it(`answers 400 naming ${field} for ${what}`, async () => {
        const r = await pd(sb, '/webhooks', {method: 'POST', json: webhookBody(overrides)})
        expect(r.status).to.equal(400)
        expect(r.body.success).to.equal(false)
        expect(r.body.status).to.equal('error')
        expect(r.body.errors).to.have.property(field)
        expect(r.body.errors[field][0]).to.match(message)
      })
    }

    it('accepts the v2-only objects with version 2.0', async () => {
      for (const object of ['lead', 'project', 'task', 'board', 'phase', 'deal_product', 'deal_installment', '*']) {
        const r = await pd(sb, '/webhooks', {method: 'POST', json: webhookBody({event_object: object, event_action: '*'})})
        expect(r.status, object).to.equal(201)
      }
    })

    it('answers 400 to malformed JSON', async () => {
      const r = await pd(sb, '/webhooks', {method: 'POST', headers: {'content-type': 'application/json'}, body: '{"name":'})
      expect(r.status).to.equal(400)
      expect(r.body.errors).to.have.property('body')
    })

    it('answers 422 to the 41st webhook of a user, not to another user', async () => {
      for (let i = 0; i < 40; i++) {
        const r = await pd(sb, '/webhooks', {method: 'POST', json: webhookBody({name: `w${i}`})})
        expect(r.status).to.equal(201)
      }

      const over = await pd(sb, '/webhooks', {method: 'POST', json: webhookBody({name: 'w40'})})
      expect(over.status).to.equal(422)
      expect(over.body).to.include({success: false, errorCode: 422})
      expect(over.body.error).to.match(/limit/i)
      const other = await pd(sb, '/webhooks', {method: 'POST', headers: {'x-api-token': 'someone-else'}, json: webhookBody()})
      expect(other.status).to.equal(201)
      expect((await pd(sb, '/webhooks')).body.data).to.have.length(41)
    })
  })

  describe('DELETE /webhooks/:id', () => {
    it('deletes, then answers 404 with the documented body', async () => {
      const {id} = (await pd(sb, '/webhooks', {method: 'POST', json: webhookBody()})).body.data
      const r = await pd(sb, `/webhooks/${id}`, {method: 'DELETE'})
      expect(r.status).to.equal(200)
      expect(r.body).to.deep.equal({success: true, status: 'ok'})
      const again = await pd(sb, `/webhooks/${id}`, {method: 'DELETE'})
      expect(again.status).to.equal(404)
      expect(again.body).to.deep.equal({success: false, status: 'error', errors: {id: ['not found']}})
      expect((await pd(sb, '/webhooks/abc', {method: 'DELETE'})).status).to.equal(404)
    })
  })

  it('answers 404 JSON to unknown Pipedrive routes', async () => {
    const r = await pd(sb, '/deals')
    expect(r.status).to.equal(404)
    expect(r.body.success).to.equal(false)
  })
})

describe('sandbox: Pipedrive rate limits', () => {
  let sb: Sandbox

  afterEach(async () => {
    await sb.close()
  })

  it('counts down x-ratelimit-remaining, answers 429 over the burst limit, frees the window after 2 s', async () => {
    const clock = new TestClock()
    sb = await sandbox({burst: 3, clock})
    const seen: Array<[number, null | string]> = []
    for (let i = 0; i < 3; i++) {
      const r = await pd(sb, '/webhooks')
      seen.push([r.status, r.headers.get('x-ratelimit-remaining')])
      expect(r.headers.get('x-ratelimit-limit')).to.equal('3')
      expect(r.headers.get('x-ratelimit-reset')).to.equal('2')
      expect(Number(r.headers.get('x-daily-requests-left'))).to.be.greaterThan(0)
    }

    expect(seen).to.deep.equal([
      [200, '2'],
      [200, '1'],
      [200, '0'],
    ])
    const over = await pd(sb, '/webhooks')
    expect(over.status).to.equal(429)
    expect(over.body).to.deep.equal({success: false, error: 'Request over limit', errorCode: 429})
    expect(over.headers.get('x-ratelimit-remaining')).to.equal('0')
    expect(over.headers.get('retry-after')).to.equal('2')
    expect(over.headers.get('x-ratelimit-reset')).to.equal('2')
    // another token has its own window
    expect((await pd(sb, '/webhooks', {headers: {'x-api-token': 'other'}})).status).to.equal(200)
    await clock.tick(1999)
    expect((await pd(sb, '/webhooks')).status).to.equal(429)
    await clock.tick(1)
    const freed = await pd(sb, '/webhooks')
    expect(freed.status).to.equal(200)
    expect(freed.headers.get('x-ratelimit-remaining')).to.equal('2')
  })

  it('frees the window after 2 s (unit, with a fake clock)', () => {
    const l = new BurstLimiter(2)
    expect(l.take('t', 1000).allowed).to.equal(true)
    expect(l.take('t', 1500).allowed).to.equal(true)
    const denied = l.take('t', 1600)
    expect(denied).to.include({allowed: false, remaining: 0, reset: 2})
    expect(l.take('t', 2500)).to.include({allowed: false, reset: 1})
    expect(l.take('t', 3001)).to.include({allowed: true, remaining: 0})
    expect(new BurstLimiter(0).take('t').allowed).to.equal(true)
  })
})

function v1(event_action: string, event_object: string): {event_action: string; event_object: string; version: '1.0'} {
  return {event_action, event_object, version: '1.0'}
}

function v2(event_action: string, event_object: string): {event_action: string; event_object: string; version: '2.0'} {
  return {event_action, event_object, version: '2.0'}
}

describe('sandbox: Pipedrive rules (unit)', () => {
  it('validates a body and reports every bad field at once', () => {
    const r = validateWebhookInput({event_action: 'updated', event_object: 'lead', version: '2.0'})
    expect(r.ok).to.equal(false)
    if (!r.ok) expect(Object.keys(r.errors)).to.have.members(['event_action', 'subscription_url', 'name'])
    const ok = validateWebhookInput(webhookBody({subscription_url: 'http://localhost:4000/x'}))
    expect(ok.ok).to.equal(true)
  })

  it('refuses the sandbox’s own Pipedrive API as a subscription URL', () => {
    const r = validateWebhookInput(webhookBody({subscription_url: 'http://127.0.0.1:4010/v1/webhooks'}), 'http://127.0.0.1:4010')
    expect(r.ok).to.equal(false)
    expect(validateWebhookInput(webhookBody({subscription_url: 'http://127.0.0.1:4010/elements/api-v2/events/pipedrive/MQ=='}), 'http://127.0.0.1:4010').ok).to.equal(true)
  })

  it('matches changes across vocabularies and wildcards', () => {
    expect(webhookMatches(v1('updated', 'deal'), 'deal', 'change')).to.equal(true)
    expect(webhookMatches(v1('updated', 'deal'), 'deal', 'merged')).to.equal(false)
    expect(webhookMatches(v1('merged', 'person'), 'person', 'merged')).to.equal(true)
    expect(webhookMatches(v2('change', 'person'), 'person', 'merged')).to.equal(true)
    expect(webhookMatches(v2('create', '*'), 'deal', 'added')).to.equal(true)
    expect(webhookMatches(v2('create', '*'), 'deal', 'deleted')).to.equal(false)
    expect(webhookMatches(v1('*', '*'), 'lead', 'added')).to.equal(false)
    expect(webhookMatches(v2('*', '*'), 'activityType', 'create')).to.equal(false)
    expect(webhookMatches(v2('*', '*'), 'lead', 'delete')).to.equal(true)
    expect(webhookMatches(v1('*', 'deal'), 'person', 'added')).to.equal(false)
  })

  it('finds the token in the header, the bearer or the query', () => {
    expect(extractToken({'x-api-token': ' a '}, new URLSearchParams())).to.equal('a')
    expect(extractToken({authorization: 'Bearer b'}, new URLSearchParams())).to.equal('b')
    expect(extractToken({}, new URLSearchParams('api_token=c'))).to.equal('c')
    expect(extractToken({authorization: 'Basic xyz'}, new URLSearchParams())).to.equal('')
  })
})
