import {expect} from 'chai'
import nock from 'nock'

import {ConfigStore} from '../../src/lib/core/config.js'
import {STAGE_WARNING} from '../../src/lib/pipedrive/events.js'
import {
  assertNockDone, CE_HOST, ceEnv, cleanNock, instance, PD, pdEnv, run, stubPrompts, TOKEN, webhook,
} from '../helpers.js'

const env = {...ceEnv, ...pdEnv}
const store = () => new ConfigStore(process.env.PDHOOKS_CONFIG_DIR!)
const CB = 'https://api.cloud-elements.com/elements/api-v2/events/pipedrive/MjA5MzE='
const FLAGS = ['--name', 'crm-events', '--callback-url', 'https://app.example.com/ce', '--pipedrive-email', 'ops@example.com', '--pipedrive-password', 'pd-login-password-1']

/** Pipedrive fake with state: GET lists what POST created. */
function pipedriveState(initial: any[] = []) {
  const hooks = [...initial]
  let next = 100
  const posts: any[] = []
  nock(PD).persist().get('/v1/webhooks').reply(200, () => ({data: hooks, success: true}))
  nock(PD).persist().post('/v1/webhooks').reply(201, (_u, body: any) => {
    posts.push(body)
    const w = webhook({...body, id: next++})
    hooks.push(w)
    return {data: w, success: true}
  })
  nock(PD).persist().delete(/\/v1\/webhooks\/\d+/).reply(200, uri => {
    const id = Number(uri.split('/').pop())
    hooks.splice(hooks.findIndex(h => h.id === id), 1)
    return {success: true}
  })
  return {hooks, posts}
}

describe('setup', () => {
  afterEach(async () => {
    cleanNock()
    await store().removeAll()
  })

  it('credentials → instance → callback URL → webhooks → live check (--json)', async () => {
    nock(CE_HOST).get('/elements/api-v2/instances').reply(200, [])
    nock(CE_HOST).post('/elements/api-v2/instances').reply(200, instance())
    const pd = pipedriveState()
    const r = await run(['setup', ...FLAGS, '--event', '*.deal', '--event', 'added.person', '--json'], env)
    expect(r.exit, r.stdout).to.equal(0)
    const doc = r.json()
    expect(doc.callbackUrl).to.equal(CB)
    expect(doc.instance).to.deep.equal({
      created: true, events: 'webhook', id: 20_931, name: 'crm-events',
    })
    expect(doc.webhooks).to.deep.equal([
      {
        active: true, created: true, event: '*.deal', id: 100, version: '1.0',
      },
      {
        active: true, created: true, event: 'added.person', id: 101, version: '1.0',
      },
    ])
    expect(pd.posts.map(p => [p.subscription_url, p.event_action, p.event_object, p.version])).to.deep.equal([[CB, '*', 'deal', '1.0'], [CB, 'added', 'person', '1.0']])
    expect((await store().getProfile('default'))?.instance?.id).to.equal(20_931)
    expect(r.stdout).not.to.contain('pd-login-password-1')
    expect(doc).not.to.have.property('warnings')
  })

  it('a stage event is warned about as webhook add does (in warnings under --json, on stderr otherwise)', async () => {
    nock(CE_HOST).get('/elements/api-v2/instances').times(2).reply(200, [])
    nock(CE_HOST).post('/elements/api-v2/instances').times(2).reply(200, instance())
    pipedriveState()
    const r = await run(['setup', ...FLAGS, '--event', 'updated.stage', '--json'], env)
    expect(r.exit, r.stdout).to.equal(0)
    expect(r.json().warnings).to.deep.equal([STAGE_WARNING])
    expect(r.stderr).to.equal('')
    await store().removeAll()
    pipedriveState()
    const human = await run(['setup', ...FLAGS, '--event', 'updated.stage'], env)
    expect(human.exit, human.stderr).to.equal(0)
    expect(human.stderr).to.contain(`Warning: ${STAGE_WARNING}`)
  })

  it('is idempotent: a second run with --instance keeps the webhooks', async () => {
    nock(CE_HOST).get('/elements/api-v2/instances').reply(200, [instance()])
    nock(CE_HOST).get('/elements/api-v2/instances/20931').reply(200, instance())
    const pd = pipedriveState([webhook({
      event_action: '*', event_object: '*', id: 5, subscription_url: CB, version: '1.0',
    })])
    const r = await run(['setup', '--instance', '20931', '--json'], env)
    expect(r.exit).to.equal(0)
    expect(r.json().webhooks).to.deep.equal([{
      active: true, created: false, event: '*.*', id: 5, version: '1.0',
    }])
    expect(pd.posts).to.deep.equal([])
  })

  it('polling skips the webhook step and says why', async () => {
    nock(CE_HOST).get('/elements/api-v2/instances').reply(200, [])
    nock(CE_HOST).post('/elements/api-v2/instances').reply(200, instance())
    const pd = pipedriveState()
    const r = await run(['setup', ...FLAGS, '--events', 'polling'], env)
    expect(r.exit).to.equal(0)
    expect(r.stdout).to.contain('Polling mode: the platform polls Pipedrive itself')
    expect(pd.posts).to.deep.equal([])
  })

  it('a failure between instance and webhooks prints what exists and the exact resume command (exit of the failure)', async () => {
    nock(CE_HOST).get('/elements/api-v2/instances').reply(200, [])
    nock(CE_HOST).post('/elements/api-v2/instances').reply(200, instance())
    nock(PD).get('/v1/webhooks').reply(200, {data: []})
    nock(PD).post('/v1/webhooks').reply(201, {
      data: webhook({
        event_action: '*', event_object: 'deal', id: 100, subscription_url: CB, version: '1.0',
      }),
    })
    nock(PD).post('/v1/webhooks').reply(401, {error: 'unauthorized access', errorCode: 401, success: false})
    const r = await run(['setup', ...FLAGS, '--event', '*.deal', '--event', '*.person', '--user-id', '3'], env)
    expect(r.exit).to.equal(3)
    expect(r.stderr).to.contain('Already done: instance 20931 (created by this run), webhooks 100 (*.deal, created).')
    expect(r.stderr).to.contain("Resume with: pdhooks setup --instance 20931 --event '*.deal' --event '*.person' --user-id 3 --yes")
    expect(r.stderr).to.contain('Setup failed at the webhooks step')
    expect(r.stderr).not.to.contain('pd-login-password-1')
    expect((await store().getProfile('default'))?.instance?.id).to.equal(20_931)
  })

  it('--json failure carries the step, what exists and the resume command', async () => {
    nock(CE_HOST).get('/elements/api-v2/instances').reply(200, [])
    nock(CE_HOST).post('/elements/api-v2/instances').reply(200, instance())
    nock(PD).get('/v1/webhooks').times(5).reply(200, {data: []})
    nock(PD).post('/v1/webhooks').times(4).reply(503, 'unavailable')
    const r = await run(['setup', ...FLAGS, '--json'], env)
    expect(r.exit).to.equal(6)
    const e = r.json().error
    expect(e.step).to.equal('webhooks')
    expect(e.created).to.deep.equal({instance: {created: true, id: 20_931}, webhooks: []})
    expect(e.resume).to.equal("pdhooks setup --instance 20931 --event '*.*' --json --yes")
    // sent 4 times, each looked up first: nothing was made
    expect(e.message).to.contain('the webhook was not created')
    assertNockDone()
  })

  it('--rollback deletes what this run created (webhooks, then the instance)', async () => {
    nock(CE_HOST).get('/elements/api-v2/instances').reply(200, [])
    nock(CE_HOST).post('/elements/api-v2/instances').reply(200, instance())
    nock(PD).get('/v1/webhooks').reply(200, {data: []})
    nock(PD).post('/v1/webhooks').reply(201, {
      data: webhook({
        event_action: '*', event_object: 'deal', id: 100, subscription_url: CB, version: '1.0',
      }),
    })
    nock(PD).post('/v1/webhooks').reply(400, {errors: {event_object: ['invalid']}, success: false})
    nock(PD).delete('/v1/webhooks/100').reply(200, {success: true})
    nock(CE_HOST).delete('/elements/api-v2/instances/20931').reply(200, {})
    const r = await run(['setup', ...FLAGS, '--event', '*.deal', '--event', '*.note', '--rollback', '--json'], env)
    expect(r.exit).to.equal(2)
    const e = r.json().error
    expect(e.rolledBack).to.deep.equal({instance: {id: 20_931, status: 'deleted'}, undetermined: [], webhooks: [{id: 100, status: 'deleted'}]})
    expect(e.resume).to.equal(null)
    expect((await store().getProfile('default'))?.instance).to.equal(undefined)
    assertNockDone()
  })

  it('--rollback never deletes a reused instance or kept webhooks', async () => {
    nock(CE_HOST).get('/elements/api-v2/instances').reply(200, [instance()])
    nock(CE_HOST).get('/elements/api-v2/instances/20931').reply(200, instance())
    nock(PD).get('/v1/webhooks').reply(200, {
      data: [webhook({
        event_action: '*', event_object: 'deal', id: 5, subscription_url: CB, version: '1.0',
      })],
    })
    nock(PD).post('/v1/webhooks').reply(422, {error: 'limit'})
    const r = await run(['setup', '--instance', '20931', '--event', '*.deal', '--event', '*.note', '--rollback', '--json'], env)
    expect(r.exit).to.equal(5)
    expect(r.json().error.rolledBack).to.equal(null)
    assertNockDone()
  })

  it('bad credentials fail first, before anything is created (exit 3)', async () => {
    nock(CE_HOST).get('/elements/api-v2/instances').reply(401, {message: 'Invalid secret', requestId: 'r'})
    const r = await run(['setup', ...FLAGS], env)
    expect(r.exit).to.equal(3)
    expect(r.stderr).to.contain('credentials step').and.contain('PDHOOKS_USER_SECRET')
    expect((await run(['setup', ...FLAGS], pdEnv)).exit).to.equal(3)
  })

  it('usage errors: bad event before anything is created, missing values off a terminal', async () => {
    let r = await run(['setup', ...FLAGS, '--event', 'change.deal'], env)
    expect(r.exit).to.equal(2)
    expect(r.stderr).to.contain('updated.deal')
    r = await run(['setup', '--name', 'x'], env)
    expect(r.exit).to.equal(2)
    expect(r.stderr).to.contain('--pipedrive-email')
  })

  it('the wizard asks through the prompt wrapper (the platform and the company domain too) and confirms at the end', async () => {
    const asked: string[] = []
    const restore = stubPrompts({
      async checkbox(m: string) {
        asked.push(`checkbox ${m}`)
        return ['*.deal'] as any
      },
      async confirm(m: string) {
        asked.push(`confirm ${m}`)
        return !m.startsWith('Save')
      },
      async input(m: string) {
        asked.push(`input ${m}`)
        if (m.startsWith('Instance name')) return 'wizard-instance'
        if (m.startsWith('Pipedrive login email')) return 'ops@example.com'
        if (m.startsWith('Pipedrive company domain')) return ''
        return 'https://app.example.com/ce'
      },
      interactive: () => true,
      async password(m: string) {
        asked.push(`password ${m}`)
        return 'typed-secret-value-123'
      },
      async select(m: string) {
        asked.push(`select ${m}`)
        if (m.startsWith('Platform')) return 'us' as any
        return (m.startsWith('Events') ? 'webhook' : '') as any
      },
    })
    nock(CE_HOST).get('/elements/api-v2/instances').times(2).reply(200, [instance({id: 1, name: 'old'})])
    nock(CE_HOST).post('/elements/api-v2/instances', b => b.name === 'wizard-instance').reply(200, instance({name: 'wizard-instance'}))
    const pd = pipedriveState()
    let r
    try {
      r = await run(['setup'], {})
    } finally {
      restore()
    }

    expect(r.exit, r.stderr).to.equal(0)
    expect(asked).to.deep.equal([
      'select Platform:',
      'password Cloud Elements / Open Connectors user secret:',
      'password Cloud Elements / Open Connectors organization secret:',
      'password Pipedrive API token:',
      'input Pipedrive company domain (acme for acme.pipedrive.com; empty for api.pipedrive.com):',
      'select Cloud Elements instance:',
      'select Events mode:',
      'input Instance name:',
      'input Pipedrive login email (for the connector):',
      'password Pipedrive login password:',
      "input Your app's URL for the platform's events (event.notification.callback.url):",
      'checkbox Pipedrive events to send to the platform:',
      'confirm Set up: create instance "wizard-instance" (events: webhook) and register 1 Pipedrive webhook(s) (*.deal)?',
      'confirm Save what you typed (URL, user secret, organization secret, API token) in profile "default"?',
    ])
    expect(pd.posts.map(p => p.event_object)).to.deep.equal(['deal'])
    expect((await store().getProfile('default'))?.userSecret).to.equal(undefined)
  })
})

describe('setup (re-run by name)', () => {
  afterEach(async () => {
    cleanNock()
    await store().removeAll()
  })

  it('reuses the instance of the same name instead of creating a second one', async () => {
    nock(CE_HOST).get('/elements/api-v2/instances').reply(200, [instance({id: 20_931, name: 'crm-events'})])
    const pd = pipedriveState([webhook({
      event_action: '*', event_object: '*', id: 5, subscription_url: CB, version: '1.0',
    })])
    const r = await run(['setup', ...FLAGS, '--json'], env)
    expect(r.exit, r.stdout).to.equal(0)
    expect(r.json().instance).to.deep.equal({
      created: false, events: 'webhook', id: 20_931, name: 'crm-events',
    })
    expect(r.json().webhooks[0]).to.include({created: false, id: 5})
    expect(pd.posts).to.deep.equal([])
  })
})

/** Cloud Elements fake with state: what POST creates is listed and got; PATCH merges; `fail` answers the next POST. */
function platformState(initial: any[] = []) {
  const instances = [...initial]
  let next = 20_931
  const writes: string[] = []
  /** `lists`: the statuses of the next lists, in order (then 200). */
  const fail: {lists: number[]; post?: {apply: boolean; status: number}} = {lists: []}
  const ce = nock(CE_HOST).persist()
  ce.get('/elements/api-v2/instances').reply(() => {
    const status = fail.lists.shift() ?? 200
    return status === 200 ? [200, instances] : [status, {message: 'down', requestId: 'r'}]
  })
  ce.get(/\/elements\/api-v2\/instances\/\d+$/).reply(uri => {
    const found = instances.find(i => i.id === Number(uri.split('/').pop()))
    return found ? [200, found] : [404, {message: 'not found', requestId: 'r'}]
  })
  ce.post('/elements/api-v2/instances').reply((_u, body: any) => {
    writes.push(`POST ${body.name}`)
    const made = instance({
      configuration: body.configuration, id: next++, name: body.name, tags: body.tags,
    })
    if (!fail.post || fail.post.apply) instances.push(made)
    const f = fail.post
    fail.post = undefined
    return f ? [f.status, 'unavailable'] : [200, made]
  })
  ce.patch(/\/elements\/api-v2\/instances\/\d+$/).reply((uri, body: any) => {
    const inst = instances.find(i => i.id === Number(uri.split('/').pop()))
    writes.push(`PATCH ${inst.id} ${JSON.stringify(body)}`)
    Object.assign(inst.configuration, body.configuration)
    if (body.tags) inst.tags = body.tags
    return [200, inst]
  })
  ce.delete(/\/elements\/api-v2\/instances\/\d+$/).reply(uri => {
    const id = Number(uri.split('/').pop())
    writes.push(`DELETE ${id}`)
    instances.splice(instances.findIndex(i => i.id === id), 1)
    return [200, {}]
  })
  return {
    fail, instances, writes,
  }
}

/** Pipedrive fake with state, able to apply a create and then answer an error, or to fail its lists. */
function accountState(initial: any[] = []) {
  const hooks = [...initial]
  let next = 100
  const writes: string[] = []
  /** `lists`: the statuses of the next lists, in order (then 200). */
  const fail: {lists: number[]; post?: {apply: boolean; status: number}} = {lists: []}
  const pd = nock(PD).persist()
  pd.get('/v1/webhooks').reply(() => {
    const status = fail.lists.shift() ?? 200
    return status === 200 ? [200, {data: hooks, success: true}] : [status, {error: 'down', success: false}]
  })
  pd.post('/v1/webhooks').reply((_u, body: any) => {
    writes.push(`POST ${body.event_action}.${body.event_object}`)
    const w = webhook({...body, id: next++})
    const f = fail.post
    fail.post = undefined
    if (!f || f.apply) hooks.push(w)
    return f ? [f.status, {error: 'unavailable', success: false}] : [201, {data: w, success: true}]
  })
  pd.delete(/\/v1\/webhooks\/\d+/).reply(uri => {
    const id = Number(uri.split('/').pop())
    writes.push(`DELETE ${id}`)
    hooks.splice(hooks.findIndex(h => h.id === id), 1)
    return [200, {success: true}]
  })
  return {
    fail, hooks, writes,
  }
}

describe('setup: an instance of the same name', () => {
  afterEach(async () => {
    cleanNock()
    await store().removeAll()
  })

  it('with another callback URL, events mode or polling: exit 5 naming the differences and the fixes; nothing is written', async () => {
    const ce = platformState([instance({configuration: {...instance().configuration, 'event.notification.callback.url': 'https://old.example.com/ce'}})])
    const pd = accountState()
    let r = await run(['setup', ...FLAGS, '--json'], env)
    expect(r.exit, r.stdout).to.equal(5)
    const e = r.json().error
    expect(e.code).to.equal('conflict')
    expect(e.message).to.equal('Setup failed at the instance step: An instance named "crm-events" exists (id 20931) with other settings: its callback URL is https://old.example.com/ce, not https://app.example.com/ce. Pass --update to change it to these settings, --instance 20931 to use it as it is, or choose another --name.')
    expect(e.differences).to.deep.equal([{field: 'callbackUrl', have: 'https://old.example.com/ce', want: 'https://app.example.com/ce'}])
    r = await run(['setup', ...FLAGS, '--events', 'polling', '--poll', 'contacts'], env)
    expect(r.exit).to.equal(5)
    expect(r.stderr).to.contain('its events mode is webhook, not polling; its callback URL is https://old.example.com/ce, not https://app.example.com/ce')
    expect(r.stderr).to.contain('Pass --update to change it to these settings, --instance 20931 to use it as it is, or choose another --name.')
    expect(ce.writes).to.deep.equal([])
    expect(pd.writes).to.deep.equal([])
    expect(await store().getProfile('default')).to.equal(undefined)
  })

  it('a polling instance polling other resources is a difference too', async () => {
    const polling = instance({
      configuration: {
        ...instance().configuration, 'event.poller.configuration': {accounts: {}, contacts: {}}, 'event.poller.refresh_interval': '15', 'event.vendor.type': 'polling',
      },
    })
    platformState([polling])
    accountState()
    const r = await run(['setup', ...FLAGS, '--events', 'polling', '--poll', 'contacts', '--poll-interval', '5'], env)
    expect(r.exit).to.equal(5)
    expect(r.stderr).to.contain('it polls accounts,contacts, not contacts; it polls every 15 min, not 5.')
  })

  it('--update PATCHes it to the settings asked, then registers the webhooks', async () => {
    const ce = platformState([instance({configuration: {...instance().configuration, 'event.notification.callback.url': 'https://old.example.com/ce'}})])
    const pd = accountState()
    const r = await run(['setup', ...FLAGS, '--update', '--json'], env)
    expect(r.exit, r.stdout).to.equal(0)
    expect(r.json().instance).to.deep.equal({
      created: false, events: 'webhook', id: 20_931, name: 'crm-events', updated: true,
    })
    expect(ce.writes).to.deep.equal([`PATCH 20931 ${JSON.stringify({
      configuration: {'event.notification.enabled': 'true', 'event.notification.callback.url': 'https://app.example.com/ce', 'event.vendor.type': 'webhook'},
    })}`])
    expect(ce.instances[0].configuration['event.notification.callback.url']).to.equal('https://app.example.com/ce')
    expect(pd.writes).to.deep.equal(['POST *.*'])
    expect(await run(['setup', '--instance', '20931', '--update'], env)).to.include({exit: 2})
  })

  it('two instances with the name: exit 5, ambiguous, listing their ids', async () => {
    const ce = platformState([instance({id: 1}), instance({id: 2})])
    accountState()
    const r = await run(['setup', ...FLAGS, '--json'], env)
    expect(r.exit).to.equal(5)
    expect(r.json().error).to.deep.include({
      code: 'ambiguous', ids: [1, 2], message: 'Setup failed at the instance step: Instance name "crm-events" is ambiguous: instances 1, 2 have it. Pick one with --instance ID (e.g. --instance 1), or choose another --name.',
    })
    expect(ce.writes).to.deep.equal([])
  })
})

describe('setup: ambiguous creates and rollback', () => {
  afterEach(async () => {
    cleanNock()
    await store().removeAll()
  })

  it('an instance created but answered 503 is found by name, never created twice', async () => {
    const ce = platformState()
    ce.fail.post = {apply: true, status: 503}
    const pd = accountState()
    const r = await run(['setup', ...FLAGS, '--json'], env)
    expect(r.exit, r.stdout).to.equal(0)
    expect(ce.writes).to.deep.equal(['POST crm-events'])
    expect(ce.instances).to.have.length(1)
    expect(r.json().instance).to.include({created: true, id: 20_931})
    expect(pd.writes).to.deep.equal(['POST *.*'])
  })

  it('an instance create whose outcome is unknown: exit 6, said so; running setup again finds it by name', async () => {
    // the first list works, the lookup after the 503 fails
    const ce = platformState()
    ce.fail.post = {apply: true, status: 503}
    ce.fail.lists = [200, 500]
    accountState()
    const r = await run(['setup', ...FLAGS, '--json'], env)
    expect(r.exit, r.stdout).to.equal(6)
    const e = r.json().error
    expect(e.code).to.equal('outcome_unknown')
    expect(e.created.pending).to.deep.equal({kind: 'instance', name: 'crm-events', outcome: 'unknown'})
    expect(e.resume).to.match(/^pdhooks setup --event '\*\.\*' --callback-url https:\/\/app\.example\.com\/ce --name crm-events /)
    expect(ce.instances).to.have.length(1)
    // running it again finds the instance by name (same settings): reused, never a second one
    const again = await run(['setup', ...FLAGS, '--json'], env)
    expect(again.exit, again.stdout).to.equal(0)
    expect(again.json().instance).to.include({created: false, id: 20_931})
    expect(ce.writes).to.deep.equal(['POST crm-events'])
  })

  it('--rollback after an instance create whose outcome was unknown finds it by name and deletes it', async () => {
    const ce = platformState()
    ce.fail.post = {apply: true, status: 503}
    // lists: the credentials step works, the lookup after the 503 fails, the rollback's works
    ce.fail.lists = [200, 500, 200]
    accountState()
    const r = await run(['setup', ...FLAGS, '--rollback', '--json'], env)
    expect(r.exit, r.stdout).to.equal(6)
    const e = r.json().error
    expect(e.rolledBack).to.deep.equal({
      instance: {found: true, id: 20_931, status: 'deleted'}, undetermined: [], webhooks: [],
    })
    expect(ce.instances).to.deep.equal([])
    expect(ce.writes).to.deep.equal(['POST crm-events', 'DELETE 20931'])
  })

  it('--rollback after a webhook create whose outcome was unknown finds it by identity; what cannot be looked up is said', async () => {
    const ce = platformState()
    const pd = accountState()
    pd.fail.post = {apply: true, status: 503}
    // the credentials step's list works, the webhook's lookup (after the 503) fails; the rollback's works and finds it
    pd.fail.lists = [200, 500]
    let r = await run(['setup', ...FLAGS, '--rollback'], env)
    expect(r.exit, r.stderr).to.equal(6)
    expect(r.stderr).to.contain('it is unknown whether the webhook was created')
    expect(r.stderr).to.contain('  webhook 100: deleted (found on the server: its create had failed without a clear answer)')
    expect(r.stderr).to.contain('  instance 20931: deleted')
    expect(pd.hooks).to.deep.equal([])
    expect(ce.instances).to.deep.equal([])
    expect(pd.writes).to.deep.equal(['POST *.*', 'DELETE 100'])

    // the rollback's own lookup fails too: it says what it could not determine, and still deletes the instance
    pd.fail.post = {apply: true, status: 503}
    pd.fail.lists = [200, 500, 500]
    r = await run(['setup', ...FLAGS, '--rollback', '--json'], env)
    expect(r.exit).to.equal(6)
    const {rolledBack} = r.json().error
    expect(rolledBack.instance).to.deep.include({status: 'deleted'})
    expect(rolledBack.undetermined).to.have.length(1)
    expect(rolledBack.undetermined[0]).to.match(/^whether webhook \*\.\* → https:\/\/api\.cloud-elements\.com\/elements\/api-v2\/events\/pipedrive\/MjA5MzI= was created: looking it up failed \(.*\)\. Check with "pdhooks webhook list --url https:/)
    expect(pd.hooks).to.have.length(1)
  })

  it('the created instance is in the profile at once, before the webhooks', async () => {
    platformState()
    nock(PD).get('/v1/webhooks').reply(200, {data: []})
    nock(PD).post('/v1/webhooks').reply(async () => {
      expect((await new ConfigStore(process.env.PDHOOKS_CONFIG_DIR!).getProfile('default'))?.instance).to.deep.include({id: 20_931, name: 'crm-events'})
      return [201, {data: webhook({id: 100}), success: true}]
    })
    nock(PD).get('/v1/webhooks').reply(200, {data: [webhook({id: 100})]})
    const r = await run(['setup', ...FLAGS], env)
    expect(r.exit, r.stderr).to.equal(0)
  })
})

describe('setup: webhook conflicts', () => {
  afterEach(async () => {
    cleanNock()
    await store().removeAll()
  })

  it('a webhook of the same URL and event with another basic auth is exit 5 saying how to resume with --replace; --replace replaces it (new first)', async () => {
    platformState([instance()])
    const pd = accountState([webhook({
      event_action: '*', event_object: '*', http_auth_user: 'someone', id: 5, subscription_url: CB, version: '1.0',
    })])
    let r = await run(['setup', '--instance', '20931', '--http-auth-user', 'hooks', '--http-auth-password', 'hook-pass-0123456'], env)
    expect(r.exit).to.equal(5)
    expect(r.stderr).to.contain('its basic-auth user is "someone", not "hooks"').and.contain('Pass --replace')
    expect(r.stderr).to.contain('Resume with: pdhooks setup --instance 20931 --event \'*.*\' --http-auth-password "$PDHOOKS_HTTP_AUTH_PASSWORD" --http-auth-user hooks --yes')
    expect(r.stderr).not.to.contain('hook-pass-0123456')
    expect(pd.writes).to.deep.equal([])
    r = await run(['setup', '--instance', '20931', '--http-auth-user', 'hooks', '--http-auth-password', 'hook-pass-0123456', '--replace', '--json'], env)
    expect(r.exit, r.stdout).to.equal(0)
    expect(r.json().webhooks).to.deep.equal([{
      active: true, created: true, event: '*.*', id: 100, replaced: [5], version: '1.0',
    }])
    expect(pd.writes).to.deep.equal(['POST *.*', 'DELETE 5'])
  })
})

describe('setup: secrets in the resume command', () => {
  afterEach(async () => {
    cleanNock()
    await store().removeAll()
  })

  it('secret flags become their environment twins, --config secrets PDHOOKS_CONFIG_* variables; none is printed; the command is said to read them', async () => {
    nock(CE_HOST).get('/elements/api-v2/instances').reply(200, [])
    nock(CE_HOST).post('/elements/api-v2/instances').reply(400, {message: 'bad configuration', requestId: 'r'})
    nock(PD).get('/v1/webhooks').reply(200, {data: []})
    const args = ['setup',
      '--name',
      'crm',
      '--callback-url',
      'https://app.example.com/ce',
      '--config',
      'pipedrive.api.token=cfg-token-0123456789',
      '--config',
      'pagination.max=50',
      '--signature-key',
      'sig-key-0123456789',
      '--pipedrive-password',
      'pd-login-0123456789',
      '--pipedrive-email',
      'ops@example.com',
      '--http-auth-user',
      'hooks',
      '--http-auth-password',
      'hook-pass-0123456',
      '--pipedrive-token',
      TOKEN]
    const r = await run(args, ceEnv)
    expect(r.exit).to.equal(2)
    const resume = /Resume with: (.*)/.exec(r.stderr)![1]
    expect(resume).to.equal('pdhooks setup --event \'*.*\' --callback-url https://app.example.com/ce --config "pipedrive.api.token=$PDHOOKS_CONFIG_PIPEDRIVE_API_TOKEN" --config pagination.max=50 --name crm --pipedrive-email ops@example.com --pipedrive-password "$PDHOOKS_PIPEDRIVE_PASSWORD" --signature-key "$PDHOOKS_SIGNATURE_KEY" --http-auth-password "$PDHOOKS_HTTP_AUTH_PASSWORD" --http-auth-user hooks --pipedrive-token "$PDHOOKS_PIPEDRIVE_TOKEN" --yes')
    expect(r.stderr).to.contain('It reads PDHOOKS_CONFIG_PIPEDRIVE_API_TOKEN (--config pipedrive.api.token), PDHOOKS_PIPEDRIVE_PASSWORD (--pipedrive-password), PDHOOKS_SIGNATURE_KEY (--signature-key), PDHOOKS_HTTP_AUTH_PASSWORD (--http-auth-password), PDHOOKS_PIPEDRIVE_TOKEN (--pipedrive-token): export them first.')
    for (const secret of ['cfg-token-0123456789', 'sig-key-0123456789', 'pd-login-0123456789', 'hook-pass-0123456', TOKEN]) expect(r.stderr + r.stdout).not.to.contain(secret)

    // under --json too
    nock(CE_HOST).get('/elements/api-v2/instances').reply(200, [])
    nock(CE_HOST).post('/elements/api-v2/instances').reply(400, {message: 'bad configuration', requestId: 'r'})
    nock(PD).get('/v1/webhooks').reply(200, {data: []})
    const j = await run([...args, '--json'], ceEnv)
    expect(j.json().error.resumeVariables.map((v: any) => v.name)).to.deep.equal(['PDHOOKS_CONFIG_PIPEDRIVE_API_TOKEN', 'PDHOOKS_PIPEDRIVE_PASSWORD', 'PDHOOKS_SIGNATURE_KEY', 'PDHOOKS_HTTP_AUTH_PASSWORD', 'PDHOOKS_PIPEDRIVE_TOKEN'])
    expect(j.stdout).not.to.contain('cfg-token-0123456789')
  })

  it('--generate-auth: once a webhook has the generated credentials, the resume sends the same ones (printed once, the password as a variable)', async () => {
    platformState([instance()])
    let posts = 0
    nock(PD).persist().get('/v1/webhooks').reply(200, {data: [], success: true})
    nock(PD).persist().post('/v1/webhooks').reply((_u, body: any) => (++posts === 1
      ? [201, {data: webhook({...body, id: 100}), success: true}]
      : [403, {error: 'no permission', success: false}]))
    const r = await run(['setup', '--instance', '20931', '--event', '*.deal', '--event', '*.person', '--generate-auth'], env)
    expect(r.exit).to.equal(3)
    const password = /password (\S+)\. Set PDHOOKS_HTTP_AUTH_PASSWORD/.exec(r.stderr)?.[1]
    expect(password, r.stderr).to.match(/^[\w-]{24}$/)
    expect(r.stderr).to.contain('Resume with: pdhooks setup --instance 20931 --event \'*.deal\' --event \'*.person\' --http-auth-user pdhooks --http-auth-password "$PDHOOKS_HTTP_AUTH_PASSWORD" --yes')
  })
})

describe('setup: the wizard', () => {
  afterEach(async () => {
    cleanNock()
    await store().removeAll()
  })

  it('with --yes and every value given it asks nothing, even on a terminal; it prints the next step', async () => {
    const restore = stubPrompts({
      async checkbox(m: string) {
        throw new Error(`asked: ${m}`)
      },
      async confirm(m: string) {
        throw new Error(`asked: ${m}`)
      },
      async input(m: string) {
        throw new Error(`asked: ${m}`)
      },
      interactive: () => true,
      async password(m: string) {
        throw new Error(`asked: ${m}`)
      },
      async select(m: string) {
        throw new Error(`asked: ${m}`)
      },
    })
    platformState()
    accountState()
    let r
    try {
      r = await run(['setup', ...FLAGS, '--yes'], env)
    } finally {
      restore()
    }

    expect(r.exit, r.stderr).to.equal(0)
    expect(r.stdout).to.contain(`Next: change a record in Pipedrive, then check the webhooks' LAST STATUS and HEALTH with: pdhooks webhook list --url ${CB}`)
  })

  it('on failure, the resume command keeps every non-secret value typed (platform, domain, name, email, URL, events) and names the secrets as variables', async () => {
    const restore = stubPrompts({
      checkbox: async () => ['*.deal', '*.person'] as any,
      confirm: async () => true,
      async input(m: string) {
        if (m.startsWith('Instance name')) return 'typed name'
        if (m.startsWith('Pipedrive login email')) return 'typed@example.com'
        if (m.startsWith('Pipedrive company domain')) return 'acme'
        return 'https://typed.example.com/ce'
      },
      interactive: () => true,
      password: async () => 'typed-secret-value-123',
      async select(m: string) {
        if (m.startsWith('Platform')) return 'sap-us2' as any
        return (m.startsWith('Events') ? 'webhook' : '') as any
      },
    })
    const SAP = 'https://api.openconnectors.us2.ext.hana.ondemand.com'
    nock(SAP).get('/elements/api-v2/instances').times(2).reply(200, [])
    nock(SAP).post('/elements/api-v2/instances').reply(503, 'down')
    nock(SAP).get('/elements/api-v2/instances').reply(200, [])
    nock('https://acme.pipedrive.com').get('/api/v1/webhooks').reply(200, {data: []})
    let r
    try {
      r = await run(['setup'], {})
    } finally {
      restore()
    }

    expect(r.exit, r.stderr).to.equal(6)
    expect(r.stderr).to.contain('Resume with: pdhooks setup --event \'*.deal\' --event \'*.person\' --elements-url sap-us2 --user-secret "$PDHOOKS_USER_SECRET" --org-secret "$PDHOOKS_ORG_SECRET" --pipedrive-token "$PDHOOKS_PIPEDRIVE_TOKEN" --pipedrive-url acme --callback-url https://typed.example.com/ce --name \'typed name\' --pipedrive-password "$PDHOOKS_PIPEDRIVE_PASSWORD" --pipedrive-email typed@example.com --yes')
    expect(r.stderr).not.to.contain('typed-secret-value-123')
    // the platform's own words on SAP
    assertNockDone()
  })
})
