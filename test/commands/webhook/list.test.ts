import {expect} from 'chai'
import nock from 'nock'

import type {WebhookListResult} from '../../../src/commands/webhook/list.js'

import {health} from '../../../src/lib/pipedrive/webhooks.js'
import {cleanNock} from '../../support/fakes.js'
import {PD, pdEnv, webhook} from '../../support/fixtures.js'
import {run} from '../../support/run.js'

const hour = 3600 * 1000
/** The ids `webhook list --json` shows with these flags. */
const ids = async (...flags: string[]) => (await run(['webhook:list', ...flags, '--json'], pdEnv)).json<WebhookListResult>().webhooks.map(w => w.id)
const iso = (msAgo: number) => new Date(Date.now() - msAgo).toISOString()

const HOOKS = [
  webhook({id: 1, last_delivery_time: iso(hour), last_http_status: 200}),
  webhook({
    event_action: 'updated', event_object: 'deal', id: 2, last_delivery_time: iso(hour), last_http_status: 500, version: '1.0',
  }),
  webhook({id: 3, is_active: 0}),
  webhook({event_action: '*', event_object: 'person', id: 4}),
  webhook({
    add_time: '2024-09-27 14:30:00', id: 5, last_delivery_time: iso(hour), last_http_status: 410,
  }),
  webhook({
    event_action: '*', event_object: '*', http_auth_password: 'very-secret-password', http_auth_user: 'ce', id: 6, last_delivery_time: '2024-09-27 14:30:00', last_http_status: 200, subscription_url: 'https://api.cloud-elements.com/elements/api-v2/events/pipedrive/MjA5MzE=', version: '1.0',
  }),
]

describe('webhook list', () => {
  afterEach(() => cleanNock())

  it('computes health', () => {
    expect(HOOKS.map(h => health(h as any))).to.deep.equal(['ok', 'failing', 'inactive', 'never-delivered', 'at-risk', 'ok'])
  })

  it('prints the SPEC columns, decoded instance ids, masked passwords', async () => {
    nock(PD).get('/v1/webhooks').reply(200, {data: HOOKS, success: true})
    const r = await run(['webhook:list'], pdEnv)
    expect(r.exit).to.equal(0)
    const [head, ...rows] = r.stdout.trim().split('\n')
    expect(head.split(/\s{2,}/)).to.deep.equal(['ID', 'EVENT', 'VERSION', 'TARGET', 'USER', 'ACTIVE', 'LAST DELIVERY', 'LAST STATUS', 'HEALTH'])
    expect(rows).to.have.length(6)
    expect(rows[5]).to.contain('instance 20931 (api.cloud-elements.com)')
    expect(r.stdout).not.to.contain('very-secret-password')
  })

  it('LAST STATUS is - when nothing answered (never delivered, or 0: no HTTP answer), never 0', async () => {
    const now = new Date().toISOString()
    nock(PD).get('/v1/webhooks').reply(200, {
      data: [
        webhook({id: 1, last_delivery_time: now, last_http_status: 0}),
        webhook({id: 2}),
        webhook({id: 3, last_delivery_time: now, last_http_status: 503}),
      ],
    })
    const r = await run(['webhook:list'], pdEnv)
    const rows = r.stdout.trim().split('\n').slice(1).map(l => l.split(/\s{2,}/))
    expect(rows.map(c => [c[0], c[7], c[8]])).to.deep.equal([['1', '-', 'failing'], ['2', '-', 'never-delivered'], ['3', '503', 'failing']])
  })

  it('--json lists masked views with the total', async () => {
    nock(PD).get('/v1/webhooks').reply(200, {data: HOOKS})
    const r = await run(['webhook:list', '--json'], pdEnv)
    const doc = r.json<WebhookListResult>()
    expect(doc.total).to.equal(6)
    expect(doc.webhooks[5]).to.include({
      health: 'ok', httpAuthPassword: 'very…', instanceId: '20931', version: '1.0',
    })
    expect(r.stdout).not.to.contain('very-secret-password')
  })

  it('filters with --unhealthy, --url and --event (across vocabularies)', async () => {
    nock(PD).get('/v1/webhooks').times(3).reply(200, {data: HOOKS})
    expect(await ids('--unhealthy')).to.deep.equal([2, 3, 4, 5])
    expect(await ids('--url', 'cloud-elements')).to.deep.equal([6])
    expect(await ids('--event', 'change.deal')).to.deep.equal([1, 2, 3, 5])
  })

  it('says so when there are none', async () => {
    nock(PD).get('/v1/webhooks').reply(200, {data: []})
    const r = await run(['webhook:list'], pdEnv)
    expect(r.stdout.trim()).to.equal('No webhooks.')
  })

  it('errors: 401 exit 3, malformed JSON exit 1, connection refused exit 6', async () => {
    nock(PD).get('/v1/webhooks').reply(401, {error: 'unauthorized access', errorCode: 401, success: false})
    expect((await run(['webhook:list'], pdEnv)).exit).to.equal(3)
    nock(PD).get('/v1/webhooks').reply(200, '{"data":[', {'content-type': 'application/json'})
    const bad = await run(['webhook:list', '--json'], pdEnv)
    expect(bad.exit).to.equal(1)
    expect(bad.json().error.code).to.equal('bad_response')
    nock(PD).get('/v1/webhooks').times(4).replyWithError(Object.assign(new Error('refused'), {code: 'ECONNREFUSED'}))
    const down = await run(['webhook:list'], pdEnv)
    expect(down.exit).to.equal(6)
    expect(down.stderr).to.contain('api.pipedrive.com')
  })

  it('retries a 429 then succeeds', async () => {
    nock(PD).get('/v1/webhooks').reply(429, {error: 'Request over limit'}, {'retry-after': '0'})
    nock(PD).get('/v1/webhooks').reply(200, {data: HOOKS.slice(0, 1)})
    const r = await run(['webhook:list', '--json'], pdEnv)
    expect(r.exit).to.equal(0)
    expect(r.json().total).to.equal(1)
  })
})
