// e2e: pdhooks webhook migrate (v1 → v2) against the sandbox: the resulting state, faults, quota, refusals.
import {expect} from 'chai'

import {
  explain, HOOK_PASSWORD, useSandbox,
} from './helpers.js'

const b64 = (id: number) => Buffer.from(String(id)).toString('base64')
const shape = (w: any) => `${w.event_action}.${w.event_object} v${w.version} ${w.subscription_url} user=${w.user_id} auth=${w.http_auth_user ?? '-'}:${w.http_auth_password ? 'set' : '-'} "${w.name}"`

describe('e2e: webhook migrate', () => {
  const e2e = useSandbox({burst: 0})
  const hooks = async () => (await e2e.state()).pipedrive.webhooks as any[]
  const posts = async () => (await e2e.requests('/v1/webhooks')).filter(r => r.method === 'POST')

  it('--all moves every v1 webhook (same URL, user, name and auth; mapped action), skips what cannot move, and leaves exactly the v2 set', async function () {
    this.timeout(60_000)
    const cb = `${e2e.url}/elements/api-v2/events/pipedrive/${b64(20_931)}`
    const made = await e2e.seedPipedrive(7, i => [
      {
        event_action: 'updated', event_object: 'deal', name: 'deals', subscription_url: 'https://app.example.com/h', version: '1.0',
      },
      {
        event_action: 'merged', event_object: 'deal', name: 'merges', subscription_url: 'https://app.example.com/h', version: '1.0',
      },
      {
        event_action: 'added', event_object: 'person', http_auth_password: HOOK_PASSWORD, http_auth_user: 'bob', name: 'people', subscription_url: 'https://app.example.com/p', user_id: 5, version: '1.0',
      },
      {
        event_action: '*', event_object: '*', name: 'connector', subscription_url: cb, version: '1.0',
      },
      {
        event_action: 'deleted', event_object: 'activityType', name: 'types', subscription_url: 'https://app.example.com/t', version: '1.0',
      },
      {
        event_action: 'change', event_object: 'note', name: 'already v2', subscription_url: 'https://app.example.com/n', version: '2.0',
      },
      {
        event_action: '*', event_object: 'product', name: 'products', subscription_url: 'https://app.example.com/pr', version: '1.0',
      },
    ][i])
    await e2e.api('DELETE', '/sandbox/requests')
    const r = await e2e.run(['webhook', 'migrate', '--all', '--yes', '--json'])
    expect(r.code, explain(r)).to.equal(0)
    const doc = r.json()
    expect(doc.migrated).to.equal(4)
    const status = Object.fromEntries(doc.results.map((x: any) => [x.id, x.status]))
    expect(status).to.deep.equal({
      [made[0].id]: 'migrated', [made[1].id]: 'merged', [made[2].id]: 'migrated', [made[3].id]: 'skipped', [made[4].id]: 'skipped', [made[6].id]: 'migrated',
    })
    expect(doc.results.find((x: any) => x.id === made[3].id).reason).to.include('Cloud Elements')
    expect(doc.receiverChanges.join(' ')).to.include('meta.entity_id')
    const after = (await hooks()).map(w => shape(w)).sort()
    expect(after).to.deep.equal([
      'change.deal v2.0 https://app.example.com/h user=1 auth=-:- "deals"',
      'change.note v2.0 https://app.example.com/n user=1 auth=-:- "already v2"',
      `*.* v1.0 ${cb} user=1 auth=-:- "connector"`,
      '*.product v2.0 https://app.example.com/pr user=1 auth=-:- "products"',
      'create.person v2.0 https://app.example.com/p user=5 auth=bob:set "people"',
      'deleted.activityType v1.0 https://app.example.com/t user=1 auth=-:- "types"',
    ].sort())
    expect((await hooks()).find(w => w.event_object === 'person').http_auth_password).to.equal(HOOK_PASSWORD)
    // each new webhook was created before its old one was deleted
    const log = (await e2e.requests('/v1/webhooks')).filter(x => x.method !== 'GET').map(x => `${x.method} ${x.path}`)
    expect(log).to.deep.equal([
      'POST /v1/webhooks',
      `DELETE /v1/webhooks/${made[0].id}`,
      `DELETE /v1/webhooks/${made[1].id}`,
      'POST /v1/webhooks',
      `DELETE /v1/webhooks/${made[2].id}`,
      'POST /v1/webhooks',
      `DELETE /v1/webhooks/${made[6].id}`,
    ])
    // a second run has nothing to do
    const again = await e2e.run(['webhook', 'migrate', '--all', '--yes'])
    expect(again.code, explain(again)).to.equal(0)
    expect(again.stdout).to.include('Nothing to migrate.')
  })

  it('a webhook aimed at a Cloud Elements callback is refused without --force (exit 2, nothing changed), migrated with it', async function () {
    this.timeout(30_000)
    const cb = `${e2e.url}/elements/api-v2/events/pipedrive/${b64(20_931)}`
    const [ce, plain] = await e2e.seedPipedrive(2, i => ({
      event_action: 'updated', event_object: 'deal', name: `n${i}`, subscription_url: i === 0 ? cb : 'https://app.example.com/h', version: '1.0',
    }))
    await e2e.api('DELETE', '/sandbox/requests')
    const r = await e2e.run(['webhook', 'migrate', String(ce.id), String(plain.id), '--yes'])
    expect(r.code, explain(r)).to.equal(2)
    expect(r.stderr).to.include(`${ce.id}: aimed at a Cloud Elements`).and.include('--force').and.include('Nothing was migrated')
    expect((await posts())).to.have.length(0)
    const forced = await e2e.run(['webhook', 'migrate', String(ce.id), '--yes', '--force'])
    expect(forced.code, explain(forced)).to.equal(0)
    expect((await hooks()).map(w => `${w.event_action} ${w.version}`).sort()).to.deep.equal(['change 2.0', 'updated 1.0'])
  })

  it('a create the server applied but answered 503 is found, not sent again: no duplicate, the old one deleted', async function () {
    this.timeout(30_000)
    const [old] = await e2e.seedPipedrive(1, () => ({
      event_action: 'updated', event_object: 'deal', subscription_url: 'https://app.example.com/h', version: '1.0',
    }))
    await e2e.api('DELETE', '/sandbox/requests')
    await e2e.fault({
      apply: true, method: 'POST', path: '/v1/webhooks', status: 503,
    })
    const r = await e2e.run(['webhook', 'migrate', String(old.id), '--yes', '--json'])
    expect(r.code, explain(r)).to.equal(0)
    expect(await posts()).to.have.length(1)
    const left = await hooks()
    expect(left.map(w => `${w.event_action}.${w.event_object} ${w.version}`)).to.deep.equal(['change.deal 2.0'])
    expect(r.json().results[0]).to.include({id: old.id, newId: left[0].id, status: 'migrated'})
  })

  it('the old webhook cannot be deleted after the new one exists: both deliver, it says so, exit non-zero', async function () {
    this.timeout(30_000)
    const [old] = await e2e.seedPipedrive(1, () => ({
      event_action: 'added', event_object: 'deal', subscription_url: 'https://app.example.com/h', version: '1.0',
    }))
    await e2e.api('DELETE', '/sandbox/requests')
    await e2e.fault({
      method: 'DELETE', path: `/v1/webhooks/${old.id}`, status: 503, times: 10,
    })
    const r = await e2e.run(['webhook', 'migrate', String(old.id), '--yes'])
    expect(r.code, explain(r)).to.equal(6)
    expect(r.stderr).to.include('Both deliver now').and.include(`pdhooks webhook delete ${old.id}`)
    expect((await hooks()).map(w => `${w.event_action} ${w.version}`).sort()).to.deep.equal(['added 1.0', 'create 2.0'])
    const json = await e2e.run(['webhook', 'migrate', String(old.id), '--yes', '--json'])
    // the v2 one exists (reused, not duplicated); the delete still fails
    expect(json.code, explain(json)).to.equal(6)
    expect(json.json().results[0].status).to.equal('both-active')
    expect(json.json().error.message).to.include('both deliver')
    expect(await hooks()).to.have.length(2)
  })

  it('one webhook failing does not stop the others; the exit is the failure\'s', async function () {
    this.timeout(30_000)
    const made = await e2e.seedPipedrive(2, i => ({
      event_action: 'updated', event_object: i === 0 ? 'deal' : 'person', subscription_url: 'https://app.example.com/h', version: '1.0',
    }))
    await e2e.api('DELETE', '/sandbox/requests')
    await e2e.fault({
      body: {errors: {subscription_url: ['invalid or non-reachable URL']}, status: 'error', success: false}, method: 'POST', path: '/v1/webhooks', status: 400, times: 1,
    })
    const r = await e2e.run(['webhook', 'migrate', String(made[0].id), String(made[1].id), '--yes', '--json'])
    expect(r.code, explain(r)).to.equal(2)
    const doc = r.json()
    expect(doc.results.map((x: any) => x.status)).to.deep.equal(['failed', 'migrated'])
    expect(doc.results[0].error).to.include(`Webhook ${made[0].id} is unchanged`)
    expect((await hooks()).map(w => `${w.event_action}.${w.event_object} ${w.version}`).sort()).to.deep.equal(['change.person 2.0', 'updated.deal 1.0'])
  })

  it('a full quota is exit 5 before anything changes', async function () {
    this.timeout(60_000)
    await e2e.seedPipedrive(40, i => ({
      event_action: 'updated', event_object: 'deal', subscription_url: `https://app.example.com/${i}`, version: '1.0',
    }))
    await e2e.api('DELETE', '/sandbox/requests')
    const r = await e2e.run(['webhook', 'migrate', '--all', '--yes', '--json'])
    expect(r.code, explain(r)).to.equal(5)
    expect(r.json().error.message).to.include('40 webhooks').and.include('one free place').and.include('Nothing was migrated')
    expect(await posts()).to.have.length(0)
    expect(await hooks()).to.have.length(40)
  })

  it('--dry-run changes nothing; unknown ids are exit 4; off a terminal --yes is required', async function () {
    this.timeout(30_000)
    const [old] = await e2e.seedPipedrive(1, () => ({
      event_action: 'updated', event_object: 'deal', http_auth_password: HOOK_PASSWORD, http_auth_user: 'bob', subscription_url: 'https://app.example.com/h', version: '1.0',
    }))
    await e2e.api('DELETE', '/sandbox/requests')
    const dry = await e2e.run(['webhook', 'migrate', String(old.id), '--dry-run'])
    expect(dry.code, explain(dry)).to.equal(0)
    expect(dry.stdout).to.include(`${old.id}  updated.deal (v1.0) → change.deal (v2.0)  https://app.example.com/h`)
    expect(dry.stdout).to.include('What the receiver must change')
    const missing = await e2e.run(['webhook', 'migrate', String(old.id), '999'])
    expect(missing.code, explain(missing)).to.equal(4)
    const refused = await e2e.run(['webhook', 'migrate', String(old.id)])
    expect(refused.code, explain(refused)).to.equal(2)
    expect(refused.stderr).to.include('--yes')
    expect(await posts()).to.have.length(0)
    // a password Pipedrive does not show must be given, else the new webhook would lose its auth
    await e2e.api('PATCH', `/sandbox/pipedrive/webhooks/${old.id}`, {http_auth_password: null})
    const noPw = await e2e.run(['webhook', 'migrate', String(old.id), '--yes'])
    expect(noPw.code, explain(noPw)).to.equal(2)
    expect(noPw.stderr).to.include('--http-auth-password')
    const withPw = await e2e.run(['webhook', 'migrate', String(old.id), '--yes'], {env: {PDHOOKS_HTTP_AUTH_PASSWORD: HOOK_PASSWORD}})
    expect(withPw.code, explain(withPw)).to.equal(0)
    expect((await hooks()).map(w => `${w.event_action} ${w.http_auth_user} ${w.http_auth_password === HOOK_PASSWORD}`)).to.deep.equal(['change bob true'])
  })
})
