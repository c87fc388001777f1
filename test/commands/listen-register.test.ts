// listen --register / --pipeliner in-process with nock: what is sent, the error paths before anything listens, and the
// cleanup at Ctrl-C. The end-to-end runs against the sandbox are in test/e2e/listen-register.test.ts.
import {expect} from 'chai'
import nock from 'nock'

import {assertNockDone, cleanNock} from '../support/fakes.js'
import {PD, pdEnv, webhook} from '../support/fixtures.js'
import {run} from '../support/run.js'
import {catchStraySignals} from '../support/signals.js'

const PL = 'https://eu-central.api.pipelinersales.com'
const PL_PATH = '/api/v100/rest/spaces/s1/entities/Webhooks'
const plEnv = {
  PDHOOKS_PIPELINER_PASSWORD: 'pl-password-0123456789', PDHOOKS_PIPELINER_URL: `${PL}/api/v100/rest/spaces/s1`, PDHOOKS_PIPELINER_USERNAME: 'u',
}
const KEY = '01234567-abcd-dcba-ffff-000000000000'

describe('listen --register / --pipeliner (nock)', () => {
  catchStraySignals()

  afterEach(() => cleanNock())

  it('no Pipedrive credentials: exit 3 naming the variable, before anything listens', async () => {
    const r = await run(['listen', '--port', '0', '--register', '*.deal', '--public-url', 'https://hooks.example.com'], {PDHOOKS_CONFIG_DIR: '/nonexistent-pdhooks', PDHOOKS_PIPEDRIVE_TOKEN: undefined})
    expect(r.exit).to.equal(3)
    expect(r.stderr).to.include('PDHOOKS_PIPEDRIVE_TOKEN')
    expect(r.stderr).not.to.include('Ready')
  })

  it('--tunnel and --public-url together: exit 2', async () => {
    const r = await run(['listen', '--port', '0', '--register', '*.deal', '--public-url', 'https://hooks.example.com', '--tunnel', 'ngrok'], pdEnv)
    expect(r.exit).to.equal(2)
  })

  it('--pipeliner with a mistyped event: exit 2 with the suggestion, nothing sent', async () => {
    const r = await run(['listen', '--port', '0', '--pipeliner', 'Acount.Create', '--public-url', 'https://hooks.example.com'], plEnv)
    expect(r.exit).to.equal(2)
    expect(r.stderr).to.include('Did you mean "Account.Create"?')
  })

  it('a 422 from the create (the quota reached meanwhile) is exit 5; the list failing first is its own error, nothing created', async () => {
    nock(PD).get('/v1/webhooks').reply(200, {data: [], success: true})
    nock(PD).post('/v1/webhooks').reply(422, {error: 'Limit reached', success: false})
    nock(PD).get('/v1/webhooks').reply(200, {data: [], success: true})
    const r = await run(['listen', '--port', '0', '--register', '*.deal', '--public-url', 'https://hooks.example.com'], pdEnv)
    expect(r.exit, r.stderr).to.equal(5)
    expect(r.stderr).to.include('limit: 40 webhooks per user')
    expect(r.stderr).to.include('No temporary webhook to delete.')
    assertNockDone()
  })

  it('given --basic-auth / --pipeliner-key are registered (not generated); the public URL\'s path is kept; Ctrl-C deletes both', async () => {
    const bodies: any[] = []
    nock(PD).get('/v1/webhooks').reply(200, {data: [], success: true})
    nock(PL).get(PL_PATH).query(true).reply(200, {data: [], success: true})
    nock(PD).post('/v1/webhooks', b => bodies.push(b) > 0).reply(201, () => ({
      data: webhook({
        event_action: '*', id: 5, name: bodies[0].name, subscription_url: bodies[0].subscription_url,
      }), success: true,
    }))
    nock(PL).get(PL_PATH).query(true).reply(200, {data: [], success: true})
    nock(PL).post(PL_PATH, b => bodies.push(b) > 0).reply(201, () => {
      // registered: stop the listener like a Ctrl-C
      setTimeout(() => process.emit('SIGINT'), 100)
      return {data: {events: ['Account.Create'], id: 'aaaaaaaa-0000-4000-8000-000000000001', url: bodies[1].url}, success: true}
    })
    nock(PD).get('/v1/webhooks').reply(200, () => ({data: [webhook({id: 5, name: bodies[0].name})], success: true}))
    nock(PD).delete('/v1/webhooks/5').reply(200, {success: true})
    nock(PL).get(PL_PATH).query(true).reply(200, {data: [], success: true})
    nock(PL).delete(`${PL_PATH}/aaaaaaaa-0000-4000-8000-000000000001`).reply(200, {data: 'aaaaaaaa-0000-4000-8000-000000000001', success: true})
    const r = await run(['listen', '--port', '0', '--register', '*.deal', '--pipeliner', 'Account.Create', '--public-url', 'https://hooks.example.com/in/', '--basic-auth', 'hooks:given-password-0123', '--pipeliner-key', KEY], {...pdEnv, ...plEnv})
    expect(r.exit, r.stderr).to.equal(0)
    expect(bodies[0]).to.include({http_auth_password: 'given-password-0123', http_auth_user: 'hooks'})
    expect(bodies[0].subscription_url).to.match(/^https:\/\/hooks\.example\.com\/in\/[\da-f]{24}$/)
    expect(bodies[1]).to.include({signature: KEY, url: bodies[0].subscription_url})
    expect(r.stderr).to.match(/Ready: http:\/\/127\.0\.0\.1:\d+\/in\/[\da-f]{24} \(public: https:\/\/hooks\.example\.com\/in\/[\da-f]{24}\)/)
    expect(r.stderr).to.include('Deleted 2 temporary webhooks (Pipedrive 5; Pipeliner aaaaaaaa-0000-4000-8000-000000000001).')
    expect(r.stderr).not.to.include('generated')
    expect(r.stdout + r.stderr).not.to.include('given-password-0123')
    expect(r.stdout + r.stderr).not.to.include(KEY)
    assertNockDone()
  })
})
