// e2e: instance create (webhook and polling modes), list, get, delete against the sandbox.
import {expect} from 'chai'

import {
  CREDENTIALS, explain, masked, PD_LOGIN, PD_PASSWORD, SIGNATURE_KEY, useSandbox,
} from './helpers.js'

describe('e2e: instance', () => {
  const e2e = useSandbox()
  const login = [...PD_LOGIN]
  const eventsUrl = (id: number) => `${e2e.url}/elements/api-v2/events/pipedrive/${Buffer.from(String(id)).toString('base64')}`

  it('instance create (webhook mode) sends the documented body and prints the callback URL', async function () {
    this.timeout(30_000)
    const r = await e2e.run([
      'instance',
      'create',
      '--name',
      'crm-events',
      '--callback-url',
      'https://app.example.com/ce',
      ...login,
      '--signature-key',
      SIGNATURE_KEY,
      '--tag',
      'prod',
      '--json',
    ])
    expect(r.code, explain(r)).to.equal(0)
    const {instance, next} = r.json()
    expect(instance).to.deep.include({
      id: 20_931, name: 'crm-events', events: 'webhook', callbackUrl: eventsUrl(20_931), notificationUrl: 'https://app.example.com/ce',
    })
    expect(instance.configuration['pipedrive.password']).not.to.equal(PD_PASSWORD)
    expect(next).to.equal("pdhooks webhook add '*.*' --instance 20931")

    const posts = (await e2e.requests('/elements/api-v2/instances')).filter(q => q.method === 'POST')
    expect(posts).to.have.length(1)
    expect(posts[0].headers.authorization).to.equal(`User ${masked(CREDENTIALS.PDHOOKS_USER_SECRET)}, Organization ${masked(CREDENTIALS.PDHOOKS_ORG_SECRET)}`)
    expect(posts[0].headers['content-type']).to.match(/^application\/json/)
    const {body} = posts[0]
    expect(body.element).to.deep.equal({key: 'pipedrive'})
    expect(body.name).to.equal('crm-events')
    expect(body.tags).to.deep.equal(['prod'])
    expect(body.configuration).to.deep.equal({
      'pipedrive.email': 'ops@example.com',
      'pipedrive.password': PD_PASSWORD,
      'event.notification.enabled': 'true',
      'event.notification.callback.url': 'https://app.example.com/ce',
      'event.vendor.type': 'webhook',
      'event.notification.signature.key': SIGNATURE_KEY,
    })

    // the new instance is the profile's current one, its token stored
    const status = await e2e.run(['auth', 'status', '--json'])
    expect(status.code, explain(status)).to.equal(0)
    expect(JSON.stringify(status.json().currentInstance)).to.include('20931')
  })

  it('instance create (polling mode) sends the poller configuration', async function () {
    this.timeout(30_000)
    const r = await e2e.run([
      'instance',
      'create',
      '--name',
      'crm-poll',
      '--events',
      'polling',
      '--poll',
      'contacts,opportunities',
      '--poll-interval',
      '5',
      '--callback-url',
      'https://app.example.com/poll',
      ...login,
      '--json',
    ])
    expect(r.code, explain(r)).to.equal(0)
    expect(r.json().instance).to.deep.include({events: 'polling', name: 'crm-poll'})
    const post = (await e2e.requests('/elements/api-v2/instances')).find(q => q.method === 'POST')!
    const c = post.body.configuration
    expect(c['event.vendor.type']).to.equal('polling')
    expect(c['event.notification.enabled']).to.equal('true')
    expect(String(c['event.poller.refresh_interval'])).to.equal('5')
    const poller = typeof c['event.poller.configuration'] === 'string' ? JSON.parse(c['event.poller.configuration']) : c['event.poller.configuration']
    expect(Object.keys(poller).sort()).to.deep.equal(['contacts', 'opportunities'])
    // Cloud Elements host (not *.hana.ondemand.com): updatedDateField keys
    expect(poller.contacts.datesConfiguration).to.have.property('updatedDateField')
    // the sandbox accepted it as a polling instance
    const state = await e2e.state()
    expect(state.elements.instances[0].configuration['event.vendor.type']).to.equal('polling')
  })

  it('instance list / get show each instance with its callback URL; an unknown id is exit 4', async function () {
    this.timeout(30_000)
    for (const name of ['one', 'two']) {
      const r = await e2e.run(['instance', 'create', '--name', name, '--callback-url', 'https://app.example.com/ce', ...login, '--json'])
      expect(r.code, explain(r)).to.equal(0)
    }

    const list = await e2e.run(['instance', 'list', '--json'])
    expect(list.code, explain(list)).to.equal(0)
    const doc = list.json()
    const instances = Array.isArray(doc) ? doc : doc.instances
    expect(instances.map((i: any) => [i.id, i.name, i.callbackUrl])).to.deep.equal([
      [20_931, 'one', eventsUrl(20_931)],
      [20_932, 'two', eventsUrl(20_932)],
    ])
    const human = await e2e.run(['instance', 'list'])
    expect(human.code, explain(human)).to.equal(0)
    expect(human.stdout).to.include(eventsUrl(20_932))

    const get = await e2e.run(['instance', 'get', '20932', '--json'])
    expect(get.code, explain(get)).to.equal(0)
    expect(get.json().instance).to.deep.include({id: 20_932, name: 'two', callbackUrl: eventsUrl(20_932)})

    const missing = await e2e.run(['instance', 'get', '99999', '--json'])
    expect(missing.code, explain(missing)).to.equal(4)
    expect(missing.json().error).to.deep.include({code: 'not_found', status: 404})
    const del = await e2e.run(['instance', 'delete', '99999', '--yes', '--json'])
    expect(del.code, explain(del)).to.equal(4)
    expect(del.json().error.status).to.equal(404)
  })

  it('instance delete --with-webhooks removes the instance and only the webhooks aimed at it', async function () {
    this.timeout(30_000)
    const created = await e2e.run(['instance', 'create', '--name', 'doomed', '--callback-url', 'https://app.example.com/ce', ...login, '--json'])
    expect(created.code, explain(created)).to.equal(0)
    for (const event of ['*.deal', 'added.person']) {
      const r = await e2e.run(['webhook', 'add', event, '--instance', '20931', '--json'])
      expect(r.code, explain(r)).to.equal(0)
    }

    const other = await e2e.run(['webhook', 'add', 'change.deal', '--url', 'https://other.example.com/hook', '--json'])
    expect(other.code, explain(other)).to.equal(0)

    // without --with-webhooks: the webhooks aimed at the instance are listed, not deleted
    const second = await e2e.run(['instance', 'create', '--name', 'kept-hooks', '--callback-url', 'https://app.example.com/ce', ...login, '--json'])
    expect(second.code, explain(second)).to.equal(0)
    const aimed = await e2e.run(['webhook', 'add', '*.*', '--instance', '20932', '--json'])
    expect(aimed.code, explain(aimed)).to.equal(0)
    const plain = await e2e.run(['instance', 'delete', '20932', '--yes', '--json'])
    expect(plain.code, explain(plain)).to.equal(0)
    expect(plain.json().webhooks.aimed.map((w: any) => w.id)).to.deep.equal([aimed.json().webhook.id])
    expect((await e2e.state()).pipedrive.webhooks).to.have.length(4)

    const r = await e2e.run(['instance', 'delete', '20931', '--with-webhooks', '--yes', '--json'])
    expect(r.code, explain(r)).to.equal(0)
    expect(r.json().deleted).to.equal(true)
    const state = await e2e.state()
    expect(state.elements.instances).to.deep.equal([])
    expect(state.pipedrive.webhooks.map((w: any) => w.subscription_url).sort()).to.deep.equal([eventsUrl(20_932), 'https://other.example.com/hook'])
    const deletes = (await e2e.requests('/v1/webhooks/')).filter(q => q.method === 'DELETE').map(q => q.path).sort()
    expect(deletes).to.have.length(2)
  })
})
