import {expect} from 'chai'
import nock from 'nock'

import {ConfigStore} from '../../src/lib/config.js'
import {
  assertNockDone, CE_HOST, ceEnv, cleanNock, instance, PD, pdEnv, run, stubPrompts, webhook,
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
    nock(CE_HOST).get('/elements/api-v2/instances').times(2).reply(200, [])
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
    nock(CE_HOST).get('/elements/api-v2/instances').times(2).reply(200, [])
    nock(CE_HOST).post('/elements/api-v2/instances').reply(200, instance())
    const pd = pipedriveState()
    const r = await run(['setup', ...FLAGS, '--events', 'polling'], env)
    expect(r.exit).to.equal(0)
    expect(r.stdout).to.contain('Polling mode: the platform polls Pipedrive itself')
    expect(pd.posts).to.deep.equal([])
  })

  it('a failure between instance and webhooks prints what exists and the exact resume command (exit of the failure)', async () => {
    nock(CE_HOST).get('/elements/api-v2/instances').times(2).reply(200, [])
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
    expect(r.stderr).to.contain('Already done: instance 20931 (created by this run), webhooks 100.')
    expect(r.stderr).to.contain("Resume with: pdhooks setup --instance 20931 --event '*.deal' --event '*.person' --user-id 3 --yes")
    expect(r.stderr).to.contain('Setup failed at the webhooks step')
    expect(r.stderr).not.to.contain('pd-login-password-1')
    expect((await store().getProfile('default'))?.instance?.id).to.equal(20_931)
  })

  it('--json failure carries the step, what exists and the resume command', async () => {
    nock(CE_HOST).get('/elements/api-v2/instances').times(2).reply(200, [])
    nock(CE_HOST).post('/elements/api-v2/instances').reply(200, instance())
    nock(PD).get('/v1/webhooks').reply(200, {data: []})
    nock(PD).post('/v1/webhooks').times(4).reply(503, 'unavailable')
    const r = await run(['setup', ...FLAGS, '--json'], env)
    expect(r.exit).to.equal(6)
    const e = r.json().error
    expect(e.step).to.equal('webhooks')
    expect(e.created).to.deep.equal({instance: {created: true, id: 20_931}, webhooks: []})
    expect(e.resume).to.equal("pdhooks setup --instance 20931 --event '*.*' --json --yes")
  })

  it('--rollback deletes what this run created (webhooks, then the instance)', async () => {
    nock(CE_HOST).get('/elements/api-v2/instances').times(2).reply(200, [])
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
    expect(e.rolledBack).to.deep.equal({instance: {id: 20_931, status: 'deleted'}, webhooks: [{id: 100, status: 'deleted'}]})
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

  it('the wizard asks through the prompt wrapper and confirms at the end', async () => {
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
        return 'https://app.example.com/ce'
      },
      interactive: () => true,
      async password(m: string) {
        asked.push(`password ${m}`)
        return 'typed-secret-value-123'
      },
      async select(m: string) {
        asked.push(`select ${m}`)
        return (m.startsWith('Events') ? 'webhook' : '') as any
      },
    })
    nock(CE_HOST).get('/elements/api-v2/instances').times(3).reply(200, [instance({id: 1, name: 'old'})])
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
      'password Cloud Elements / Open Connectors user secret:',
      'password Cloud Elements / Open Connectors organization secret:',
      'password Pipedrive API token:',
      'select Cloud Elements instance:',
      'select Events mode:',
      'input Instance name:',
      'input Pipedrive login email (for the connector):',
      'password Pipedrive login password:',
      "input Your app's URL for the platform's events (event.notification.callback.url):",
      'checkbox Pipedrive events to send to the platform:',
      'confirm Set up: create instance "wizard-instance" (events: webhook) and register 1 Pipedrive webhook(s) (*.deal)?',
      'confirm Save the credentials you typed in profile "default"?',
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
