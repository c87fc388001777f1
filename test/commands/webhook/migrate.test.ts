import {expect} from 'chai'
import nock from 'nock'

import {assertNockDone, cleanNock} from '../../support/fakes.js'
import {
  CE_BASE, PD, pdEnv, webhook,
} from '../../support/fixtures.js'
import {run, stubConfirm} from '../../support/run.js'

const PW = 'hook-password-SECRET-0123'

describe('webhook migrate', () => {
  afterEach(() => cleanNock())

  it('creates the v2 webhook (same URL, user, name, auth; mapped action) first, then deletes the v1 one', async () => {
    const order: string[] = []
    const old = webhook({
      event_action: 'added', event_object: 'person', http_auth_password: PW, http_auth_user: 'bob', id: 12, name: 'crm people', user_id: 7, version: '1.0',
    })
    nock(PD).get('/v1/webhooks').reply(200, {data: [old], success: true})
    nock(PD).post('/v1/webhooks', {
      event_action: 'create', event_object: 'person', http_auth_password: PW, http_auth_user: 'bob', name: 'crm people', subscription_url: 'https://example.com/hook', user_id: 7, version: '2.0',
    }).matchHeader('content-type', 'application/json').reply(201, () => {
      order.push('POST')
      return {
        data: webhook({
          ...old, event_action: 'create', id: 13, version: '2.0',
        }), success: true,
      }
    })
    nock(PD).delete('/v1/webhooks/12').reply(200, () => {
      order.push('DELETE 12')
      return {success: true}
    })
    const r = await run(['webhook:migrate', '12', '--yes', '--json'], pdEnv)
    expect(r.exit).to.equal(0)
    expect(order).to.deep.equal(['POST', 'DELETE 12'])
    const doc = r.json()
    expect(doc).to.deep.include({dryRun: false, migrated: 1})
    expect(doc.results).to.deep.equal([{
      from: 'added.person (v1.0)', id: 12, newId: 13, status: 'migrated', to: 'create.person (v2.0)', url: 'https://example.com/hook',
    }])
    expect(r.stdout).not.to.include(PW)
    assertNockDone()
  })

  it('the confirmation names each webhook; "no" changes nothing', async () => {
    const {questions, restore} = stubConfirm(false)
    try {
      nock(PD).get('/v1/webhooks').reply(200, {
        data: [webhook({
          event_action: 'updated', id: 3, name: 'legacy', version: '1.0',
        })], success: true,
      })
      const r = await run(['webhook:migrate', '3'], pdEnv)
      expect(r.exit).to.equal(2)
      expect(questions).to.deep.equal(['Migrate webhook 3 updated.deal (v1.0) → change.deal (v2.0) https://example.com/hook "legacy" to v2?'])
      assertNockDone()
    } finally {
      restore()
    }
  })

  it('refuses a Cloud Elements callback without --force, an already-v2 id is only skipped, bad input is exit 2', async () => {
    const ce = webhook({
      event_action: '*', event_object: '*', id: 4, subscription_url: `${CE_BASE}/events/pipedrive/MjA5MzE=`, version: '1.0',
    })
    nock(PD).get('/v1/webhooks').reply(200, {data: [ce], success: true})
    const r = await run(['webhook:migrate', '4', '--yes', '--json'], pdEnv)
    expect(r.exit).to.equal(2)
    expect(r.json().error.message).to.include('4: aimed at a Cloud Elements / Open Connectors callback URL').and.include('--force')
    nock(PD).get('/v1/webhooks').reply(200, {
      data: [webhook({
        event_action: 'updated', id: 6, name: 'pdhooks:prod updated.deal', version: '1.0',
      })], success: true,
    })
    const owned = await run(['webhook:migrate', '6', '--yes', '--json'], pdEnv)
    expect(owned.exit).to.equal(2)
    expect(owned.json().error.message).to.include('owned by apply stack "prod"')
    nock(PD).get('/v1/webhooks').reply(200, {data: [webhook({id: 5})], success: true})
    const v2 = await run(['webhook:migrate', '5', '--yes', '--json'], pdEnv)
    expect(v2.exit).to.equal(0)
    expect(v2.json().results).to.deep.equal([{
      from: 'change.deal (v2.0)', id: 5, reason: 'already v2', status: 'skipped', to: '-', url: 'https://example.com/hook',
    }])
    expect((await run(['webhook:migrate'], pdEnv)).exit).to.equal(2)
    expect((await run(['webhook:migrate', 'abc'], pdEnv)).exit).to.equal(2)
    expect((await run(['webhook:migrate', '1', '--all'], pdEnv)).exit).to.equal(2)
    assertNockDone()
  })
})
