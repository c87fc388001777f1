import {expect} from 'chai'
import nock from 'nock'

import {assertNockDone, cleanNock} from '../support/fakes.js'
import {
  CE_AUTH, CE_BASE, CE_HOST, ceEnv, instance, PD, pdEnv, webhook,
} from '../support/fixtures.js'
import {run, stubConfirm} from '../support/run.js'

const RATE = {
  'x-daily-requests-left': '12345', 'x-ratelimit-limit': '40', 'x-ratelimit-remaining': '39', 'x-ratelimit-reset': '2',
}
const CB = `${CE_BASE}/events/pipedrive/${Buffer.from('20931').toString('base64')}`
const ORPHAN = `${CE_BASE}/events/pipedrive/${Buffer.from('555').toString('base64')}`
const ok = {last_delivery_time: new Date().toISOString(), last_http_status: 200}

describe('doctor', () => {
  afterEach(() => cleanNock())

  it('reads each configured service once, reports the API budget, and exits 0 with warnings only; nothing is changed', async () => {
    nock(PD).get('/v1/webhooks').matchHeader('x-api-token', pdEnv.PDHOOKS_PIPEDRIVE_TOKEN).reply(200, {
      data: [webhook({id: 1, ...ok}), webhook({id: 2, ...ok})], success: true,
    }, RATE)
    const r = await run(['doctor', '--json'], pdEnv)
    expect(r.exit).to.equal(0)
    const doc = r.json()
    expect(doc.healthy).to.equal(true)
    expect(doc.summary).to.deep.equal({error: 0, info: 1, warning: 1})
    expect(doc.profiles[0].budget).to.deep.equal({
      burstLimit: 40, burstRemaining: 39, dailyLeft: 12_345, resetSeconds: 2,
    })
    expect(doc.findings.map((f: any) => f.code)).to.deep.equal(['duplicate-webhooks', 'api-budget'])
    expect(doc.plan).to.deep.equal([{
      id: 2, kind: 'pipedrive-webhook', label: 'change.deal (v2.0) → https://example.com/hook', profile: 'default', reason: 'duplicate of webhook 1', verb: 'delete',
    }])
    assertNockDone()
  })

  it('checks callback URLs against the instances (Cloud Elements auth header), exit 8 for an orphan', async () => {
    nock(PD).get('/v1/webhooks').reply(200, {
      data: [webhook({
        event_action: '*', event_object: '*', id: 1, subscription_url: CB, version: '1.0', ...ok,
      }), webhook({
        event_action: '*', event_object: '*', id: 2, subscription_url: ORPHAN, version: '1.0',
      })], success: true,
    })
    nock(CE_HOST).get('/elements/api-v2/instances').matchHeader('authorization', CE_AUTH).reply(200, [instance()])
    const r = await run(['doctor'], {...pdEnv, ...ceEnv})
    expect(r.exit).to.equal(8)
    expect(r.stdout).to.include('Profile "default": Pipedrive 2 webhook(s) · Cloud Elements 1 instance(s) · Pipeliner skipped (no Pipeliner credentials)')
    expect(r.stdout).to.include('ERROR   Pipedrive: Webhook 2 is aimed at instance 555, which does not exist on api.cloud-elements.com')
    expect(r.stdout).to.include('fix: pdhooks webhook delete 2 (or doctor --fix)')
    expect(r.stdout).to.include('1 error(s), 0 warning(s), 0 info.')
    assertNockDone()
  })

  it('--fix --yes sends exactly the plan\'s deletions and nothing else', async () => {
    nock(PD).get('/v1/webhooks').reply(200, {data: [webhook({id: 1, ...ok}), webhook({id: 2, ...ok}), webhook({id: 3, ...ok}), webhook({id: 4, name: 'mine', subscription_url: 'https://other.example.com'})], success: true})
    nock(PD).delete('/v1/webhooks/2').reply(200, {success: true})
    nock(PD).delete('/v1/webhooks/3').reply(404, {errors: {id: ['not found']}, success: false})
    const r = await run(['doctor', '--fix', '--yes', '--json'], pdEnv)
    expect(r.exit).to.equal(0)
    const doc = r.json()
    expect(doc.fixed).to.equal(true)
    expect(doc.results.map((x: any) => [x.id, x.status]).sort()).to.deep.equal([[2, 'deleted'], [3, 'gone']])
    assertNockDone()
  })

  it('--fix off a terminal without --yes is exit 2 and deletes nothing; on a terminal a "no" deletes nothing', async () => {
    const list = () => nock(PD).get('/v1/webhooks').reply(200, {data: [webhook({id: 1, ...ok}), webhook({id: 2, ...ok})], success: true})
    list()
    const del = nock(PD).delete(/.*/).reply(200, {success: true})
    const r = await run(['doctor', '--fix'], pdEnv)
    expect(r.exit).to.equal(2)
    expect(r.stdout).to.include('- delete  pipedrive-webhook 2  change.deal (v2.0) → https://example.com/hook (duplicate of webhook 1)')
    expect(r.stderr).to.include('Refusing to delete 1 object(s) without confirmation. Pass --yes')
    const {questions, restore} = stubConfirm(false)
    try {
      list()
      const no = await run(['doctor', '--fix'], pdEnv)
      expect(no.exit).to.equal(2)
      expect(questions).to.deep.equal(['Delete these 1 object(s)?'])
    } finally {
      restore()
    }

    expect(del.isDone()).to.equal(false)
  })

  it('never prints a secret or a control sequence from the server', async () => {
    nock(PD).get('/v1/webhooks').reply(200, {
      data: [webhook({
        http_auth_password: 'hook-password-SECRET-99', http_auth_user: 'bob', id: 1, is_active: 0, name: 'evil\u001B[2Jname', remove_reason: 'x\u001B]0;t\u0007', subscription_url: 'https://u:url-pass-SECRET@h.example.com/x?token=tok-SECRET',
      })],
      success: true,
    })
    const r = await run(['doctor'], pdEnv)
    expect(r.exit).to.equal(8)
    expect(r.stdout).not.to.include('\u001B').and.not.to.include('SECRET')
    expect(r.stdout).to.include(String.raw`evil\u001b[2Jname`)
    nock(PD).get('/v1/webhooks').reply(200, {
      data: [webhook({
        http_auth_password: 'hook-password-SECRET-99', id: 1, subscription_url: 'https://u:url-pass-SECRET@h.example.com/x', version: '1.0', event_action: 'updated',
      })], success: true,
    })
    const j = await run(['doctor', '--json'], pdEnv)
    expect(j.stdout).not.to.include('SECRET')
  })

  it('a profile that does not exist is exit 2 naming it; no credentials at all: every service skipped, exit 0', async () => {
    const r = await run(['doctor', '--profile', 'nope', '--json'])
    expect(r.exit).to.equal(2)
    expect(r.json().error.message).to.include('Profile "nope" does not exist')
    const none = await run(['doctor', '--json'])
    expect(none.exit).to.equal(0)
    expect(Object.values(none.json().profiles[0].services).map((s: any) => s.status)).to.deep.equal(['skipped', 'skipped', 'skipped'])
  })

  it('--help documents exit 8', async () => {
    const r = await run(['doctor', '--help'])
    expect(r.stdout.replaceAll(/\s+/g, ' ')).to.include('8 at least one finding of error severity')
  })
})
