// e2e: Pipeliner webhooks against the sandbox's Pipeliner API.
import {expect} from 'chai'

import {PL_HOOKS} from '../support/fixtures.js'
import {explain, useSandbox} from './helpers.js'

const UUID = /^[\da-f]{8}-[\da-f]{4}-[\da-f]{4}-[\da-f]{4}-[\da-f]{12}$/i

describe('e2e: pipeliner webhook', () => {
  const e2e = useSandbox()

  it('add sends {url, events, insecure_ssl, signature}, prints a generated key once, and is idempotent', async function () {
    this.timeout(30_000)
    const r = await e2e.run(['pipeliner', 'webhook', 'add', '--event', 'account.create', '--event', 'Opportunity.*', '--url', 'https://app.example.com/pl', '--sign', '--json'])
    expect(r.code, explain(r)).to.equal(0)
    const doc = r.json()
    expect(doc.created).to.equal(true)
    expect(doc.generatedSignature).to.match(UUID)
    expect(doc.webhook.signed).to.equal(true)
    expect(doc.webhook.signature).to.equal(`${doc.generatedSignature.slice(0, 4)}…`)
    const post = (await e2e.requests(PL_HOOKS)).find(q => q.method === 'POST')!
    expect(post.headers.authorization).to.match(/^Basic /)
    expect(post.body).to.deep.equal({
      url: 'https://app.example.com/pl', events: ['Account.Create', 'Opportunity.*'], insecure_ssl: false, signature: doc.generatedSignature,
    })

    // the same command again is a conflict: a new key can only go to a new webhook
    const signAgain = await e2e.run(['pipeliner', 'webhook', 'add', '--event', 'Opportunity.*', '--event', 'Account.Create', '--url', 'https://app.example.com/pl', '--sign'])
    expect(signAgain.code, explain(signAgain)).to.equal(5)
    expect(signAgain.stderr).to.include('--sign makes a new signature key, but it is signed with its own key').and.include('--replace')
    // with the key it was given, it is idempotent
    const again = await e2e.run(['pipeliner', 'webhook', 'add', '--event', 'Opportunity.*', '--event', 'Account.Create', '--url', 'https://app.example.com/pl', '--signature', doc.generatedSignature, '--json'])
    expect(again.code, explain(again)).to.equal(0)
    expect(again.json().created).to.equal(false)
    expect(again.json().webhook.id).to.equal(doc.webhook.id)
    expect((await e2e.requests(PL_HOOKS)).filter(q => q.method === 'POST')).to.have.length(1)
    // the generated key is never shown again
    const list = await e2e.run(['pipeliner', 'webhook', 'list', '--json'])
    expect(list.stdout).not.to.include(doc.generatedSignature)
    expect(again.stdout).not.to.include(doc.generatedSignature)

    const bad = await e2e.run(['pipeliner', 'webhook', 'add', '--event', 'Account.Crate', '--url', 'https://app.example.com/pl'])
    expect(bad.code, explain(bad)).to.equal(2)
    expect(bad.stderr).to.include('Account.Create')
  })

  it('list follows every page (>100 webhooks)', async function () {
    this.timeout(30_000)
    await e2e.seedPipeliner(105)
    const r = await e2e.run(['pipeliner', 'webhook', 'list', '--json'])
    expect(r.code, explain(r)).to.equal(0)
    const doc = r.json()
    const hooks = Array.isArray(doc) ? doc : doc.webhooks
    expect(hooks).to.have.length(105)
    expect(new Set(hooks.map((w: any) => w.id)).size).to.equal(105)
    const gets = (await e2e.requests(PL_HOOKS)).filter(q => q.method === 'GET')
    expect(gets).to.have.length(2)
    expect(gets[0].query).to.deep.equal({first: '100'})
    expect(gets[1].query.first).to.equal('100')
    expect(gets[1].query.after).to.be.a('string').and.not.equal('')

    const filtered = await e2e.run(['pipeliner', 'webhook', 'list', '--url', 'pl/104', '--json'])
    expect(filtered.code, explain(filtered)).to.equal(0)
    const f = filtered.json()
    expect((Array.isArray(f) ? f : f.webhooks).map((w: any) => w.url)).to.deep.equal(['https://seed.example.com/pl/104'])
  })

  it('delete: one id, an unknown id is exit 4, --all in batches of 100', async function () {
    this.timeout(30_000)
    const seeded = await e2e.seedPipeliner(130)
    const keep = await e2e.seedPipeliner(1, () => ({url: 'https://keep.example.com/pl'}))

    const one = await e2e.run(['pipeliner', 'webhook', 'delete', seeded[0].id, '--yes', '--json'])
    expect(one.code, explain(one)).to.equal(0)
    expect((await e2e.requests(PL_HOOKS)).filter(q => q.method === 'DELETE').map(q => q.path)).to.deep.equal([`${PL_HOOKS}/${seeded[0].id}`])

    const missing = await e2e.run(['pipeliner', 'webhook', 'delete', '5e1f7f4c-2b8a-4f7e-9a51-0c7c1e6f2d10', '--yes', '--json'])
    expect(missing.code, explain(missing)).to.equal(4)
    expect(missing.json().error.code).to.equal('not_found')

    await e2e.api('DELETE', '/sandbox/requests')
    const all = await e2e.run(['pipeliner', 'webhook', 'delete', '--all', '--url', 'seed.example.com', '--yes', '--json'])
    expect(all.code, explain(all)).to.equal(0)
    expect(all.json().deleted).to.equal(129)
    const batches = (await e2e.requests(`${PL_HOOKS}/batch-delete`)).filter(q => q.method === 'POST')
    expect(batches.map(b => (Array.isArray(b.body) ? b.body : b.body.ids).length)).to.deep.equal([100, 29])
    const state = await e2e.state()
    expect(state.pipeliner.webhooks.map((w: any) => w.id)).to.deep.equal([keep[0].id])
  })
})
