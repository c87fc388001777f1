// e2e: Pipedrive webhook add / list / delete against the sandbox.
import {expect} from 'chai'

import {
  CREDENTIALS, explain, HOOK_PASSWORD, masked, PD_LOGIN, PD_PASSWORD, useSandbox,
} from './helpers.js'

const HOOK = 'https://app.example.com/hook'

describe('e2e: webhook', () => {
  const e2e = useSandbox({burst: 100})
  const posts = async () => (await e2e.requests('/v1/webhooks')).filter(r => r.method === 'POST')

  it('webhook add infers the version and sends the documented body', async function () {
    this.timeout(30_000)
    const v2 = await e2e.run(['webhook', 'add', '*.deal', '--url', HOOK, '--json'])
    expect(v2.code, explain(v2)).to.equal(0)
    expect(v2.json()).to.deep.include({created: true})
    expect(v2.json().webhook).to.deep.include({
      event: '*.deal', version: '2.0', url: HOOK, name: 'pdhooks *.deal', health: 'never-delivered',
    })

    const v1 = await e2e.run(['webhook', 'add', 'updated.person', '--url', HOOK, '--json'])
    expect(v1.code, explain(v1)).to.equal(0)
    expect(v1.json().webhook).to.deep.include({event: 'updated.person', version: '1.0'})

    const created = await e2e.run(['instance', 'create', '--name', 'i', '--callback-url', 'https://app.example.com/ce', ...PD_LOGIN, '--json'])
    expect(created.code, explain(created)).to.equal(0)
    // a Cloud Elements callback URL gives version 1.0: a v2 word is refused with the v1 spelling
    const v2word = await e2e.run(['webhook', 'add', 'change.deal', '--instance', '20931', '--json'])
    expect(v2word.code, explain(v2word)).to.equal(2)
    expect(v2word.json().error.message).to.include('updated.deal')
    const ce = await e2e.run(['webhook', 'add', '*.deal', '--instance', '20931', '--json'])
    expect(ce.code, explain(ce)).to.equal(0)
    const ceHook = ce.json().webhook
    expect(ceHook.version).to.equal('1.0')
    expect(ceHook.url).to.equal(`${e2e.url}/elements/api-v2/events/pipedrive/MjA5MzE=`)
    expect(String(ceHook.instanceId)).to.equal('20931')

    const sent = await posts()
    expect(sent).to.have.length(3)
    expect(sent[0].headers['x-api-token']).to.equal(masked(CREDENTIALS.PDHOOKS_PIPEDRIVE_TOKEN))
    expect(sent[0].headers['content-type']).to.match(/^application\/json/)
    expect(sent[0].headers['user-agent']).to.match(/^pdhooks\/\d+\.\d+\.\d+/)
    expect(sent[0].body).to.deep.include({
      event_action: '*', event_object: 'deal', name: 'pdhooks *.deal', subscription_url: HOOK, version: '2.0',
    })
    expect(sent[1].body).to.deep.include({event_action: 'updated', event_object: 'person', version: '1.0'})
    expect(sent[2].body).to.deep.include({
      event_action: '*', event_object: 'deal', version: '1.0', subscription_url: ceHook.url,
    })
  })

  it('webhook add is idempotent: the second identical add reports created:false and sends no POST', async function () {
    this.timeout(30_000)
    const first = await e2e.run(['webhook', 'add', 'change.deal', '--url', HOOK, '--json'])
    expect(first.code, explain(first)).to.equal(0)
    const second = await e2e.run(['webhook', 'add', 'change.deal', '--url', HOOK, '--json'])
    expect(second.code, explain(second)).to.equal(0)
    expect(second.json().created).to.equal(false)
    expect(second.json().webhook.id).to.equal(first.json().webhook.id)
    expect(await posts()).to.have.length(1)
    expect((await e2e.state()).pipedrive.webhooks).to.have.length(1)
  })

  it('webhook add: other basic auth is a conflict (exit 5, no secret printed); --replace makes the new one, then deletes the old', async function () {
    this.timeout(30_000)
    const first = await e2e.run(['webhook', 'add', 'change.person', '--url', HOOK, '--http-auth-user', 'bob', '--http-auth-password', HOOK_PASSWORD, '--json'])
    expect(first.code, explain(first)).to.equal(0)
    const oldId = first.json().webhook.id
    const conflict = await e2e.run(['webhook', 'add', 'change.person', '--url', HOOK, '--http-auth-user', 'alice', '--http-auth-password', PD_PASSWORD])
    expect(conflict.code, explain(conflict)).to.equal(5)
    expect(conflict.stderr).to.include(`webhook ${oldId}: its basic-auth user is "bob", not "alice"`).and.include('--replace')
    const samePassword = await e2e.run(['webhook', 'add', 'change.person', '--url', HOOK, '--http-auth-user', 'bob', '--http-auth-password', PD_PASSWORD])
    expect(samePassword.code, explain(samePassword)).to.equal(5)
    expect(samePassword.stderr).to.include('its basic-auth password is another one')
    expect(await posts()).to.have.length(1)
    const replaced = await e2e.run(['webhook', 'add', 'change.person', '--url', HOOK, '--http-auth-user', 'alice', '--http-auth-password', PD_PASSWORD, '--replace', '--json'])
    expect(replaced.code, explain(replaced)).to.equal(0)
    const doc = replaced.json()
    expect(doc.replaced).to.deep.equal([{id: oldId, status: 'deleted'}])
    const hooks = (await e2e.state()).pipedrive.webhooks
    expect(hooks.map((w: any) => [w.id, w.http_auth_user])).to.deep.equal([[doc.webhook.id, 'alice']])
    const order = (await e2e.requests('/v1/webhooks')).filter(r => r.method !== 'GET').map(r => `${r.method} ${r.path}`)
    expect(order.slice(-2)).to.deep.equal(['POST /v1/webhooks', `DELETE /v1/webhooks/${oldId}`])
    const again = await e2e.run(['webhook', 'add', 'change.person', '--url', HOOK, '--http-auth-user', 'alice', '--http-auth-password', PD_PASSWORD, '--json'])
    expect(again.code, explain(again)).to.equal(0)
    expect(again.json().created).to.equal(false)
  })

  it('webhook add --instance: an instance the platform does not have is exit 4, nothing sent to Pipedrive', async function () {
    this.timeout(30_000)
    const r = await e2e.run(['webhook', 'add', '*.*', '--instance', '99999', '--json'])
    expect(r.code, explain(r)).to.equal(4)
    expect(r.json().error.message).to.include('No instance 99999')
    expect(await posts()).to.have.length(0)
    const unchecked = await e2e.run(['webhook', 'add', '*.*', '--instance', '99999', '--json'], {env: {PDHOOKS_USER_SECRET: undefined, PDHOOKS_ORG_SECRET: undefined}})
    expect(unchecked.code, explain(unchecked)).to.equal(0)
    expect(unchecked.json().warnings).to.deep.equal(['Instance 99999 was not checked: no Cloud Elements credentials (set PDHOOKS_USER_SECRET and PDHOOKS_ORG_SECRET to check it).'])
  })

  it('webhook add: usage errors are exit 2 before any request; 415 and 400 answers are surfaced (exit 2)', async function () {
    this.timeout(30_000)
    const mixed = await e2e.run(['webhook', 'add', 'updated.deal', '--version', '2.0', '--url', HOOK, '--json'])
    expect(mixed.code, explain(mixed)).to.equal(2)
    expect(mixed.json().error.message).to.include('change.deal')
    const unknown = await e2e.run(['webhook', 'add', 'change.dael', '--url', HOOK])
    expect(unknown.code, explain(unknown)).to.equal(2)
    expect(unknown.stderr).to.include('deal')
    expect(await e2e.requests()).to.deep.equal([])

    await e2e.fault({
      method: 'POST', path: '/v1/webhooks', status: 415, body: {success: false, error: 'Unsupported Media Type: send a JSON body (Content-Type: application/json)', errorCode: 415},
    })
    const r415 = await e2e.run(['webhook', 'add', 'change.deal', '--url', HOOK, '--json'])
    expect(r415.code, explain(r415)).to.equal(2)
    expect(r415.json().error.status).to.equal(415)
    expect(r415.json().error.message).to.include('Unsupported Media Type')

    // the sandbox's own validation: a Pipedrive API URL cannot be a subscription URL
    const r400 = await e2e.run(['webhook', 'add', 'change.deal', '--url', 'https://api.pipedrive.com/v1/hook', '--json'])
    expect(r400.code, explain(r400)).to.equal(2)
    expect(r400.json().error.status).to.equal(400)
    expect(r400.json().error.message).to.include('subscription_url')
    const human = await e2e.run(['webhook', 'add', 'change.deal', '--url', 'https://api.pipedrive.com/v1/hook'])
    expect(human.code, explain(human)).to.equal(2)
    expect(human.stdout).to.equal('')
    expect(human.stderr).to.match(/^Error: .*400.*subscription_url/)
    expect((await e2e.state()).pipedrive.webhooks).to.deep.equal([])
  })

  it('webhook add past the 40-per-user quota is exit 5 without a create call; a 422 answer is exit 5 too', async function () {
    this.timeout(30_000)
    await e2e.seedPipedrive(40)
    const r = await e2e.run(['webhook', 'add', '*.person', '--url', HOOK, '--json'])
    expect(r.code, explain(r)).to.equal(5)
    expect(r.json().error.message).to.include('40')
    expect(await posts()).to.have.length(40) // only the seeded ones

    await e2e.api('POST', '/sandbox/reset')
    await e2e.fault({
      method: 'POST', path: '/v1/webhooks', status: 422, body: {success: false, error: 'Webhooks limit reached', errorCode: 422},
    })
    const r422 = await e2e.run(['webhook', 'add', '*.person', '--url', HOOK, '--json'])
    expect(r422.code, explain(r422)).to.equal(5)
    expect(r422.json().error.status).to.equal(422)
  })

  it('webhook list shows every webhook with its health, as a table and as one JSON document', async function () {
    this.timeout(30_000)
    await e2e.seedPipedrive(2, i => ({
      event_action: i === 0 ? 'create' : 'updated', event_object: i === 0 ? 'person' : 'deal', version: i === 0 ? '2.0' : '1.0', http_auth_user: 'u', http_auth_password: 'hook-password-123456',
    }))
    const r = await e2e.run(['webhook', 'list', '--json'])
    expect(r.code, explain(r)).to.equal(0)
    const doc = r.json()
    expect(doc.total).to.equal(2)
    expect(doc.webhooks.map((w: any) => [w.event, w.version, w.health, w.active])).to.deep.equal([
      ['create.person', '2.0', 'never-delivered', true],
      ['updated.deal', '1.0', 'never-delivered', true],
    ])
    expect(doc.webhooks[0].httpAuthPassword).to.equal('hook…')
    const human = await e2e.run(['webhook', 'list'])
    expect(human.code, explain(human)).to.equal(0)
    expect(human.stdout.split('\n')[0]).to.match(/^ID\s+EVENT\s+VERSION\s+TARGET\s+USER\s+ACTIVE\s+LAST DELIVERY\s+LAST STATUS\s+HEALTH/)
    expect(human.stdout).not.to.include('hook-password-123456')
    const filtered = await e2e.run(['webhook', 'list', '--event', 'change.deal', '--json'])
    expect(filtered.code, explain(filtered)).to.equal(0)
    expect(filtered.json().webhooks.map((w: any) => w.event)).to.deep.equal(['updated.deal'])
  })

  it('webhook delete: named ids, an unknown id is exit 4 before anything is deleted, --yes needed off a terminal', async function () {
    this.timeout(30_000)
    const [a, b, c] = await e2e.seedPipedrive(3)
    const refused = await e2e.run(['webhook', 'delete', String(a.id)])
    expect(refused.code, explain(refused)).to.equal(2)
    expect(refused.stderr).to.include(`${a.id}  change.deal (v2.0) → https://seed.example.com/0  "seed 0"`)
    expect((await e2e.state()).pipedrive.webhooks).to.have.length(3)

    const ok = await e2e.run(['webhook', 'delete', String(a.id), '--yes', '--json'])
    expect(ok.code, explain(ok)).to.equal(0)
    expect(ok.json().deleted).to.equal(1)

    const mixed = await e2e.run(['webhook', 'delete', String(b.id), '999', '--yes', '--json'])
    expect(mixed.code, explain(mixed)).to.equal(4)
    expect(mixed.json().error).to.deep.include({code: 'not_found', message: 'No webhook 999: nothing was deleted. See the ids with "pdhooks webhook list".'})
    expect((await e2e.requests('/v1/webhooks/')).filter(q => q.method === 'DELETE')).to.have.length(1)
    expect((await e2e.state()).pipedrive.webhooks.map((w: any) => w.id)).to.deep.equal([b.id, c.id])
    const second = await e2e.run(['webhook', 'delete', String(b.id), '--yes'])
    expect(second.code, explain(second)).to.equal(0)
    expect(second.stdout).to.include(`Deleted webhook ${b.id} (change.deal → https://seed.example.com/1)`)

    // with --all, a webhook deleted meanwhile (404) counts as done
    const [d] = await e2e.seedPipedrive(1)
    await e2e.fault({
      method: 'DELETE', path: `/v1/webhooks/${c.id}`, status: 404, body: {success: false, status: 'error', errors: {id: ['not found']}},
    })
    const all = await e2e.run(['webhook', 'delete', '--all', '--yes', '--json'])
    expect(all.code, explain(all)).to.equal(0)
    expect(all.json().results.map((x: any) => [String(x.id), x.status])).to.deep.equal([[String(c.id), 'gone'], [String(d.id), 'deleted']])
  })
})

describe('e2e: webhook delete --all under a burst limit', () => {
  const e2e = useSandbox({burst: 10})

  it('deletes 30 webhooks paced from the rate-limit headers, with no request refused', async function () {
    this.timeout(60_000)
    // seeded with other users' tokens so the CLI's own token starts with a fresh window
    for (const token of ['seed-token-a', 'seed-token-b', 'seed-token-c']) {
      await e2e.seedPipedrive(10, i => ({subscription_url: `https://seed.example.com/${token}/${i}`}), token)
    }

    expect((await e2e.state()).pipedrive.webhooks).to.have.length(30)
    await e2e.api('DELETE', '/sandbox/requests')
    const r = await e2e.run(['webhook', 'delete', '--all', '--yes', '--json'], {timeoutMs: 50_000})
    expect(r.code, explain(r)).to.equal(0)
    const doc = r.json()
    expect(doc.deleted).to.equal(30)
    expect(doc.results.every((x: any) => x.status === 'deleted')).to.equal(true)
    expect((await e2e.state()).pipedrive.webhooks).to.deep.equal([])
    // every request was answered the first time: one DELETE per webhook, no repeat after a 429
    const deletes = (await e2e.requests('/v1/webhooks/')).filter(q => q.method === 'DELETE').map(q => q.path)
    expect(deletes).to.have.length(30)
    expect(new Set(deletes).size).to.equal(30)
    expect((await e2e.requests('/v1/webhooks')).filter(q => q.method === 'GET')).to.have.length(1)
  })
})
