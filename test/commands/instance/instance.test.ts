import {expect} from 'chai'
import nock from 'nock'

import {ConfigStore} from '../../../src/lib/core/config.js'
import {
  assertNockDone, CE_AUTH, CE_HOST, ceEnv, cleanNock, instance, PD, pdEnv, run, stubConfirm, stubPrompts, webhook,
} from '../../helpers.js'
import {catchStraySignals} from '../../signals.js'

const store = () => new ConfigStore(process.env.PDHOOKS_CONFIG_DIR!)
const CB = 'https://api.cloud-elements.com/elements/api-v2/events/pipedrive/MjA5MzE='
const CREATE = ['instance:create', '--name', 'crm-events', '--callback-url', 'https://app.example.com/ce', '--pipedrive-email', 'ops@example.com', '--pipedrive-password', 'pd-login-password-1']

describe('instance', () => {
  afterEach(async () => {
    cleanNock()
    await store().removeAll()
  })

  describe('create', () => {
    it('sends the seed body with the exact platform header, prints the callback URL and the next command', async () => {
      let sent: any
      nock(CE_HOST, {reqheaders: {authorization: CE_AUTH}}).get('/elements/api-v2/instances').reply(200, [])
      nock(CE_HOST, {reqheaders: {authorization: CE_AUTH, 'content-type': 'application/json'}})
      .post('/elements/api-v2/instances', b => {
        sent = b
        return true
      })
      .reply(200, instance({tags: [{id: 1, name: 'prod'}]}))
      const r = await run([...CREATE, '--tag', 'prod', '--signature-key', 'signing-key-123456'], ceEnv)
      expect(r.exit, r.stderr).to.equal(0)
      expect(sent).to.deep.equal({
        configuration: {
          'event.notification.callback.url': 'https://app.example.com/ce',
          'event.notification.enabled': 'true',
          'event.notification.signature.key': 'signing-key-123456',
          'event.vendor.type': 'webhook',
          'pipedrive.email': 'ops@example.com',
          'pipedrive.password': 'pd-login-password-1',
        },
        element: {key: 'pipedrive'},
        name: 'crm-events',
        tags: ['prod'],
      })
      expect(r.stdout).to.contain(`Pipedrive webhook callback URL: ${CB}`)
      expect(r.stdout).to.contain("Next: pdhooks webhook add '*.*' --instance 20931")
      expect(r.stdout).not.to.match(/pd-login-password-1|signing-key-123456|bHtCEV5ufn8BB6FaXn/)
      const saved = await store().getProfile('default')
      expect(saved?.instance).to.deep.equal({
        elementsUrl: 'https://api.cloud-elements.com/elements/api-v2', id: 20_931, name: 'crm-events', token: 'bHtCEV5ufn8BB6FaXn/fBxs2LBqpHvE4A0=',
      })
      assertNockDone()
    })

    it('--json result; polling on a SAP host uses updatedAtField', async () => {
      let sent: any
      const SAP = 'https://api.openconnectors.us2.ext.hana.ondemand.com'
      nock(SAP).get('/elements/api-v2/instances').reply(200, [])
      nock(SAP).post('/elements/api-v2/instances', b => {
        sent = b
        return true
      }).reply(200, instance({id: 5}))
      const r = await run([...CREATE, '--events', 'polling', '--poll', 'contacts', '--elements-url', 'sap-us2', '--json'], ceEnv)
      expect(r.exit).to.equal(0)
      expect(sent.configuration['event.poller.configuration'].contacts.datesConfiguration.updatedAtField).to.equal('update_time')
      const doc = r.json()
      expect(doc.next).to.equal(null)
      expect(doc.instance).to.include({
        callbackUrl: `${SAP}/elements/api-v2/events/pipedrive/NQ==`, events: 'polling', id: 5, token: 'bHtC…',
      })
      expect(doc.instance.configuration['pipedrive.password']).to.equal('****')
    })

    it('missing values are exit 2 naming the flags; on a terminal they are asked (password hidden)', async () => {
      let r = await run(['instance:create', '--name', 'x', '--json'], ceEnv)
      expect(r.exit).to.equal(2)
      expect(r.json().error.message).to.match(/^Missing --pipedrive-email, --pipedrive-password, --callback-url. Pass them \(or set PDHOOKS_PIPEDRIVE_EMAIL/)
      const asked: string[] = []
      const restore = stubPrompts({
        async input(m: string) {
          asked.push(`input ${m}`)
          return m.startsWith('Pipedrive') ? 'ops@example.com' : 'https://app.example.com/ce'
        },
        interactive: () => true,
        async password(m: string) {
          asked.push(`password ${m}`)
          return 'typed-password-123'
        },
      })
      let sent: any
      nock(CE_HOST).get('/elements/api-v2/instances').reply(200, [])
      nock(CE_HOST).post('/elements/api-v2/instances', b => {
        sent = b
        return true
      }).reply(200, instance())
      try {
        r = await run(['instance:create', '--name', 'x'], ceEnv)
      } finally {
        restore()
      }

      expect(r.exit).to.equal(0)
      expect(asked).to.deep.equal([
        'input Pipedrive login email (for the connector):',
        'password Pipedrive login password:',
        "input Your app's URL for the platform's events (event.notification.callback.url):",
      ])
      expect(sent.configuration['pipedrive.password']).to.equal('typed-password-123')
    })

    it('a wrong platform secret is exit 3 naming PDHOOKS_USER_SECRET / PDHOOKS_ORG_SECRET', async () => {
      nock(CE_HOST).get('/elements/api-v2/instances').reply(401, {message: 'Invalid Organization or User secret', requestId: 'abc-123'})
      nock(CE_HOST).post('/elements/api-v2/instances').reply(401, {message: 'Invalid Organization or User secret', requestId: 'abc-123'})
      const r = await run(CREATE, ceEnv)
      expect(r.exit).to.equal(3)
      expect(r.stderr).to.contain('PDHOOKS_USER_SECRET').and.contain('PDHOOKS_ORG_SECRET')
      expect((await run(CREATE)).exit).to.equal(3)
    })

    it("a 400 shows the platform's message and request id", async () => {
      nock(CE_HOST).get('/elements/api-v2/instances').reply(200, [])
      nock(CE_HOST).post('/elements/api-v2/instances').reply(400, {message: 'Missing required configuration: pipedrive.password', providerMessage: 'nope', requestId: '5cf0a1'})
      const r = await run([...CREATE, '--json'], ceEnv)
      expect(r.exit).to.equal(2)
      expect(r.json().error.message).to.contain('Missing required configuration: pipedrive.password; provider: nope (request id 5cf0a1)')
    })

    it('after a timeout, finds the created instance instead of creating it twice', async () => {
      nock(CE_HOST).get('/elements/api-v2/instances').reply(200, [instance({id: 1, name: 'crm-events'})])
      nock(CE_HOST).post('/elements/api-v2/instances').delay(1500).reply(200, instance())
      nock(CE_HOST).get('/elements/api-v2/instances').reply(200, [instance({id: 1, name: 'crm-events'}), instance({id: 2, name: 'crm-events'})])
      const r = await run([...CREATE, '--timeout', '1', '--allow-duplicate', '--json'], ceEnv)
      expect(r.exit).to.equal(0)
      expect(r.json()).to.deep.include({recovered: true})
      expect(r.json().instance.id).to.equal(2)
    })

    it('a name that exists is exit 5 naming the ids, before any question or create', async () => {
      nock(CE_HOST).get('/elements/api-v2/instances').reply(200, [instance({id: 1, name: 'crm-events'}), instance({id: 2, name: 'other'}), instance({id: 3, name: 'crm-events'})])
      const restore = stubPrompts({
        interactive: () => true,
        async input() {
          throw new Error('asked')
        },
      })
      try {
        const r = await run(['instance:create', '--name', 'crm-events', '--json'], ceEnv)
        expect(r.exit).to.equal(5)
        expect(r.json().error).to.deep.equal({
          code: 'conflict',
          ids: [1, 3],
          message: 'An instance named "crm-events" already exists (ids 1, 3). Use it (pdhooks webhook add \'*.*\' --instance 1), choose another --name, or pass --allow-duplicate to create another one.',
          status: null,
        })
      } finally {
        restore()
      }

      assertNockDone()
    })

    it('--allow-duplicate creates a second instance with the same name', async () => {
      nock(CE_HOST).get('/elements/api-v2/instances').reply(200, [instance({id: 1, name: 'crm-events'})])
      nock(CE_HOST).post('/elements/api-v2/instances').reply(200, instance({id: 2}))
      const r = await run([...CREATE, '--allow-duplicate', '--json'], ceEnv)
      expect(r.exit).to.equal(0)
      expect(r.json().instance.id).to.equal(2)
      assertNockDone()
    })

    it('applied, then answered 503 or 429: found by the lookup, one POST, the profile records it', async () => {
      for (const status of [503, 429]) {
        nock(CE_HOST).get('/elements/api-v2/instances').reply(200, [])
        nock(CE_HOST).post('/elements/api-v2/instances').reply(status, {message: 'Service Unavailable'})
        nock(CE_HOST).get('/elements/api-v2/instances').reply(200, [instance({id: 7})])
        const r = await run([...CREATE, '--json'], ceEnv)
        expect(r.exit, String(status)).to.equal(0)
        expect(r.json()).to.deep.include({recovered: true})
        expect(r.json().instance.id).to.equal(7)
        expect((await store().getProfile('default'))?.instance?.id).to.equal(7)
        assertNockDone()
      }
    })

    it('not applied (503): looked up, then sent again; a 200 without an instance is looked up, never resent', async () => {
      nock(CE_HOST).get('/elements/api-v2/instances').reply(200, [])
      nock(CE_HOST).post('/elements/api-v2/instances').reply(503, {message: 'busy'})
      nock(CE_HOST).get('/elements/api-v2/instances').reply(200, [])
      nock(CE_HOST).post('/elements/api-v2/instances').reply(200, instance({id: 8}))
      let r = await run([...CREATE, '--json'], ceEnv)
      expect(r.exit).to.equal(0)
      expect(r.json().instance.id).to.equal(8)
      assertNockDone()
      nock(CE_HOST).get('/elements/api-v2/instances').reply(200, [])
      nock(CE_HOST).post('/elements/api-v2/instances').reply(200, {})
      nock(CE_HOST).get('/elements/api-v2/instances').reply(200, [instance({id: 9})])
      r = await run([...CREATE, '--json'], ceEnv)
      expect(r.exit).to.equal(0)
      expect(r.json()).to.deep.include({recovered: true})
      assertNockDone()
    })

    it('applied, answered 503, and the lookup fails too: exit 6, "may exist", how to check; never resent', async () => {
      nock(CE_HOST).get('/elements/api-v2/instances').reply(200, [])
      const post = nock(CE_HOST).post('/elements/api-v2/instances').reply(503, {message: 'busy'})
      nock(CE_HOST).get('/elements/api-v2/instances').times(4).reply(503, {message: 'busy'})
      const r = await run(CREATE, ceEnv)
      expect(r.exit).to.equal(6)
      expect(r.stderr).to.contain('it is unknown whether the instance was created').and.contain('Check with "pdhooks instance list" before trying again.')
      expect(r.stderr).not.to.contain('not created')
      expect(post.isDone()).to.equal(true)
      assertNockDone()
    })
  })

  describe('list and get', () => {
    it('lists with callback URLs (table and --json)', async () => {
      nock(CE_HOST).get('/elements/api-v2/instances').times(2).reply(200, [instance(), instance({
        configuration: {'event.notification.enabled': 'false'}, id: 7, name: 'quiet', tags: [{id: 2, name: 'dev'}],
      })])
      const r = await run(['instance:list'], ceEnv)
      expect(r.stdout.split('\n')[0]).to.match(/^ID\s+NAME\s+ELEMENT\s+EVENTS\s+TAGS\s+CALLBACK URL/)
      expect(r.stdout).to.contain(CB).and.contain('quiet')
      const doc = (await run(['instance:list', '--json'], ceEnv)).json()
      expect(doc.instances.map((i: any) => [i.id, i.events, i.tags])).to.deep.equal([[20_931, 'webhook', ['prod']], [7, 'none', ['dev']]])
      expect(JSON.stringify(doc)).not.to.contain('bHtCEV5ufn8BB6FaXn')
    })

    it('get shows one instance; an unknown id is exit 4', async () => {
      nock(CE_HOST).get('/elements/api-v2/instances/20931').reply(200, instance())
      const r = await run(['instance:get', '20931', '--json'], ceEnv)
      expect(r.json().instance).to.include({callbackUrl: CB, id: 20_931, notificationUrl: 'https://app.example.com/ce'})
      nock(CE_HOST).get('/elements/api-v2/instances/1').reply(404, {message: 'No instance found with id 1', requestId: 'r1'})
      const missing = await run(['instance:get', '1'], ceEnv)
      expect(missing.exit).to.equal(4)
      expect(missing.stderr).to.contain('No instance 1')
    })
  })

  describe('delete', () => {
    catchStraySignals()
    const aimed = [webhook({id: 11, subscription_url: CB}), webhook({id: 12, subscription_url: 'https://api.cloud-elements.co.uk/elements/api-v2/events/pipedrive/MjA5MzE%3D'}), webhook({id: 13})]

    it('lists the webhooks that will fail and leaves them without --with-webhooks', async () => {
      nock(CE_HOST).get('/elements/api-v2/instances/20931').reply(200, instance())
      nock(PD).get('/v1/webhooks').reply(200, {data: aimed})
      nock(CE_HOST).delete('/elements/api-v2/instances/20931').reply(200, {})
      const r = await run(['instance:delete', '20931', '--yes', '--json'], {...ceEnv, ...pdEnv})
      expect(r.exit).to.equal(0)
      const doc = r.json()
      expect(doc.webhooks.aimed.map((w: any) => w.id)).to.deep.equal([11, 12])
      expect(doc.webhooks.deleted).to.equal(null)
      assertNockDone()
    })

    it('--with-webhooks deletes them too, and clears the current instance', async () => {
      await store().updateProfile('default', p => ({...p, instance: {id: 20_931}}))
      nock(CE_HOST).get('/elements/api-v2/instances/20931').reply(200, instance())
      nock(PD).get('/v1/webhooks').reply(200, {data: aimed})
      nock(CE_HOST).delete('/elements/api-v2/instances/20931').reply(200, {})
      nock(PD).delete('/v1/webhooks/11').reply(200, {success: true})
      nock(PD).delete('/v1/webhooks/12').reply(200, {success: true})
      const r = await run(['instance:delete', '20931', '--with-webhooks', '--yes'], {...ceEnv, ...pdEnv})
      expect(r.exit, r.stderr).to.equal(0)
      expect(r.stdout).to.contain('Deleted webhook 11').and.contain('Deleted webhook 12')
      expect((await store().getProfile('default'))?.instance).to.equal(undefined)
      assertNockDone()
    })

    it('an unknown id is exit 4; no --yes off a terminal is exit 2 and deletes nothing', async () => {
      nock(CE_HOST).get('/elements/api-v2/instances/9').reply(404, {message: 'not found', requestId: 'x'})
      expect((await run(['instance:delete', '9', '--yes'], ceEnv)).exit).to.equal(4)
      nock(CE_HOST).get('/elements/api-v2/instances/20931').reply(200, instance())
      nock(PD).get('/v1/webhooks').reply(200, {data: []})
      const r = await run(['instance:delete', '20931'], {...ceEnv, ...pdEnv})
      expect(r.exit).to.equal(2)
      assertNockDone()
    })

    it('the question names the instance (name, events) and the webhooks (event, URL, name)', async () => {
      const {questions, restore} = stubConfirm(false)
      try {
        nock(CE_HOST).get('/elements/api-v2/instances/20931').reply(200, instance())
        nock(PD).get('/v1/webhooks').reply(200, {data: aimed})
        const r = await run(['instance:delete', '20931', '--with-webhooks'], {...ceEnv, ...pdEnv})
        expect(r.exit).to.equal(2)
        expect(questions).to.deep.equal(['Delete instance 20931 "crm-events" (events: webhook) and 2 webhook(s)?'])
        expect(r.stderr).to.contain(`  11  change.deal (v2.0) → ${CB}  "pdhooks change.deal"`)
        assertNockDone()
      } finally {
        restore()
      }
    })

    it('interrupted while the instance is deleted: that request finishes, no webhook is touched, exit 130 saying so', async () => {
      nock(CE_HOST).get('/elements/api-v2/instances/20931').times(2).reply(200, instance())
      nock(PD).get('/v1/webhooks').times(2).reply(200, {data: aimed})
      nock(CE_HOST).delete('/elements/api-v2/instances/20931').reply(200, () => {
        process.emit('SIGINT')
        return {}
      })
      const hooks = nock(PD).delete(/\/v1\/webhooks\/\d+/).reply(200, {success: true})
      const r = await run(['instance:delete', '20931', '--with-webhooks', '--yes'], {...ceEnv, ...pdEnv})
      expect(r.exit).to.equal(130)
      expect(r.stdout.trim()).to.equal('Deleted instance 20931 "crm-events"')
      expect(r.stderr).to.contain('Interrupted (SIGINT): deleted instance 20931; deleted 0 of 2 webhook(s) pointing at it.')
      expect(r.stderr).to.contain('Not deleted: 11, 12.').and.contain('To finish: pdhooks webhook delete 11 12 --yes')
      expect(hooks.isDone()).to.equal(false)
      nock(CE_HOST).delete('/elements/api-v2/instances/20931').reply(200, () => {
        process.emit('SIGTERM')
        return {}
      })
      const j = await run(['instance:delete', '20931', '--yes', '--json'], {...ceEnv, ...pdEnv})
      expect(j.exit).to.equal(143)
      expect(j.json().error).to.deep.equal({
        code: 'interrupted', instance: {id: 20_931, status: 'deleted'}, message: 'Interrupted (SIGTERM): deleted instance 20931.', signal: 'SIGTERM', status: null, webhooks: null,
      })
    })

    it('reports webhooks that could not be deleted (none left unreported)', async () => {
      nock(CE_HOST).get('/elements/api-v2/instances/20931').reply(200, instance())
      nock(PD).get('/v1/webhooks').reply(200, {data: aimed})
      nock(CE_HOST).delete('/elements/api-v2/instances/20931').reply(200, {})
      nock(PD).delete('/v1/webhooks/11').reply(200, {success: true})
      nock(PD).delete('/v1/webhooks/12').reply(403, {message: 'Forbidden', success: false})
      const r = await run(['instance:delete', '20931', '--with-webhooks', '--yes', '--json'], {...ceEnv, ...pdEnv})
      expect(r.exit).to.equal(3)
      expect(r.json().error.message).to.contain('still point at it: 12')
      // the result too: the instance is gone, and each webhook's outcome
      expect(r.json()).to.deep.include({deleted: true, instance: {id: 20_931, name: 'crm-events'}})
      expect(r.json().webhooks.deleted.map((w: any) => [w.id, w.status])).to.deep.equal([[11, 'deleted'], [12, 'failed']])
      expect(r.json().error.code).to.equal('partial_failure')
    })
  })
})
