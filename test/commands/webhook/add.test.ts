import {expect} from 'chai'
import nock from 'nock'

import {
  assertNockDone, cleanNock, PD, pdEnv, run, TOKEN, webhook,
} from '../../helpers.js'

const CE_URL = 'https://api.cloud-elements.com/elements/api-v2/events/pipedrive/MjA5MzE='

describe('webhook add', () => {
  afterEach(() => cleanNock())

  it('creates a v2 webhook with a JSON body, the token header and a default name', async () => {
    let sent: any
    nock(PD, {reqheaders: {'user-agent': /^pdhooks\/\d+\.\d+\.\d+$/, 'x-api-token': TOKEN}}).get('/v1/webhooks').reply(200, {data: [], success: true})
    nock(PD, {reqheaders: {'content-type': 'application/json', 'x-api-token': TOKEN}})
    .post('/v1/webhooks', b => {
      sent = b
      return true
    })
    .reply(201, {
      data: webhook({
        event_action: '*', event_object: 'deal', id: 77, name: 'pdhooks *.deal',
      }), success: true,
    })
    const r = await run(['webhook:add', '*.deal', '--url', 'https://example.com/hook'], pdEnv)
    expect(r.exit).to.equal(0)
    expect(sent).to.deep.equal({
      event_action: '*', event_object: 'deal', name: 'pdhooks *.deal', subscription_url: 'https://example.com/hook', version: '2.0',
    })
    expect(r.stdout).to.contain('Created webhook 77: *.deal (v2.0) → https://example.com/hook')
    assertNockDone()
  })

  it('--json: one document with created, the masked webhook and warnings', async () => {
    nock(PD).get('/v1/webhooks').reply(200, {data: []})
    nock(PD).post('/v1/webhooks').reply(201, {
      data: webhook({
        event_action: 'change', event_object: 'stage', http_auth_password: 'clear-password-123', http_auth_user: 'u', id: 5,
      }),
    })
    const r = await run(['webhook:add', 'change.stage', '--url', 'https://example.com/hook', '--http-auth-user', 'u', '--http-auth-password', 'clear-password-123', '--json'], pdEnv)
    expect(r.exit).to.equal(0)
    const doc = r.json()
    expect(doc.created).to.equal(true)
    expect(doc.webhook).to.include({
      event: 'change.stage', httpAuthPassword: 'clea…', httpAuthUser: 'u', id: 5, version: '2.0',
    })
    expect(doc.warnings[0]).to.contain('change.deal')
    expect(r.stdout + r.stderr).not.to.contain('clear-password-123')
    expect(r.stderr).to.equal('')
  })

  it('is idempotent: an identical webhook is reported, not duplicated (exit 0, created false)', async () => {
    nock(PD).get('/v1/webhooks').reply(200, {
      data: [webhook({
        event_action: '*', event_object: 'deal', id: 9, version: '2.0',
      })],
    })
    const r = await run(['webhook:add', '*.deal', '--url', 'https://example.com/hook', '--json'], pdEnv)
    expect(r.exit).to.equal(0)
    expect(r.json()).to.deep.include({created: false})
    expect(r.json().webhook.id).to.equal(9)
    assertNockDone()
  })

  it('--allow-duplicate creates anyway', async () => {
    nock(PD).get('/v1/webhooks').reply(200, {data: [webhook({event_action: '*', event_object: 'deal', id: 9})]})
    nock(PD).post('/v1/webhooks').reply(201, {data: webhook({id: 10})})
    const r = await run(['webhook:add', '*.deal', '--url', 'https://example.com/hook', '--allow-duplicate', '--json'], pdEnv)
    expect(r.json().created).to.equal(true)
    assertNockDone()
  })

  it('targets an instance callback URL with version 1.0 and sends user id and Bearer auth', async () => {
    let sent: any
    nock(PD, {reqheaders: {authorization: 'Bearer oauth-access-token-123'}}).get('/v1/webhooks').reply(200, {data: []})
    nock(PD, {badheaders: ['x-api-token'], reqheaders: {authorization: 'Bearer oauth-access-token-123'}})
    .post('/v1/webhooks', b => {
      sent = b
      return true
    })
    .reply(201, {
      data: webhook({
        event_action: '*', event_object: '*', id: 3, subscription_url: CE_URL, version: '1.0',
      }),
    })
    const r = await run(['webhook:add', '*.*', '--instance', '20931', '--user-id', '12', '--json'], {PDHOOKS_PIPEDRIVE_ACCESS_TOKEN: 'oauth-access-token-123'})
    expect(r.exit).to.equal(0)
    expect(sent).to.deep.equal({
      event_action: '*', event_object: '*', name: 'pdhooks *.*', subscription_url: CE_URL, user_id: 12, version: '1.0',
    })
    expect(r.json().webhook).to.include({instanceId: '20931', target: 'instance 20931 (api.cloud-elements.com)'})
  })

  it('--generate-auth registers random credentials and prints them once', async () => {
    let sent: any
    nock(PD).get('/v1/webhooks').reply(200, {data: []})
    nock(PD).post('/v1/webhooks', b => {
      sent = b
      return true
    }).reply(201, (_u, b: any) => ({data: webhook({http_auth_password: b.http_auth_password, http_auth_user: b.http_auth_user, id: 4})}))
    const r = await run(['webhook:add', 'change.deal', '--url', 'https://example.com/hook', '--generate-auth'], pdEnv)
    expect(sent.http_auth_user).to.equal('pdhooks')
    expect(sent.http_auth_password).to.match(/^[\w-]{24}$/)
    expect(r.stdout.split(sent.http_auth_password).length - 1).to.equal(1)
  })

  it('checks the 40-per-user quota before creating (exit 5 with the count)', async () => {
    const hooks = Array.from({length: 40}, (_, i) => webhook({id: i + 1, subscription_url: `https://example.com/${i}`, user_id: 7}))
    nock(PD).get('/v1/webhooks').reply(200, {data: hooks})
    nock(PD).get('/v1/users/me').reply(200, {data: {id: 7}})
    const r = await run(['webhook:add', 'change.deal', '--url', 'https://example.com/new', '--json'], pdEnv)
    expect(r.exit).to.equal(5)
    expect(r.json().error.code).to.equal('quota')
    expect(r.json().error.message).to.contain('already has 40 webhooks')
    assertNockDone()
  })

  it('maps a 422 from Pipedrive to exit 5', async () => {
    nock(PD).get('/v1/webhooks').reply(200, {data: []})
    nock(PD).post('/v1/webhooks').reply(422, {error: 'Webhooks limit reached', success: false})
    const r = await run(['webhook:add', 'change.deal', '--url', 'https://example.com/new'], pdEnv)
    expect(r.exit).to.equal(5)
    expect(r.stderr).to.contain('limit: 40 webhooks per user')
  })

  it('after a POST timeout, finds the created webhook instead of reporting a failure', async () => {
    nock(PD).get('/v1/webhooks').reply(200, {data: []})
    nock(PD).post('/v1/webhooks').delay(1500).reply(201, {data: webhook({id: 50})})
    nock(PD).get('/v1/webhooks').reply(200, {data: [webhook({event_action: 'change', event_object: 'deal', id: 50})]})
    const r = await run(['webhook:add', 'change.deal', '--url', 'https://example.com/hook', '--timeout', '1', '--json'], pdEnv)
    expect(r.exit).to.equal(0)
    expect(r.json()).to.deep.include({created: true, recovered: true})
    expect(r.json().webhook.id).to.equal(50)
  })

  it('after a POST timeout with nothing created, says so (exit 6) and never resends', async () => {
    nock(PD).get('/v1/webhooks').reply(200, {data: []})
    const post = nock(PD).post('/v1/webhooks').delay(1500).reply(201, {data: webhook({id: 50})})
    nock(PD).get('/v1/webhooks').reply(200, {data: []})
    const r = await run(['webhook:add', 'change.deal', '--url', 'https://example.com/hook', '--timeout', '1', '--json'], pdEnv)
    expect(r.exit).to.equal(6)
    expect(r.json().error.message).to.contain('the webhook was not created')
    expect(post.isDone()).to.equal(true)
  })

  it('shows a 400 errors map in one line (exit 2)', async () => {
    nock(PD).get('/v1/webhooks').reply(200, {data: []})
    nock(PD).post('/v1/webhooks').reply(400, {errors: {subscription_url: ['invalid or non-reachable URL']}, status: 'error', success: false})
    const r = await run(['webhook:add', 'change.deal', '--url', 'https://example.com/hook'], pdEnv)
    expect(r.exit).to.equal(2)
    expect(r.stderr.trim().split('\n')).to.have.length(1)
    expect(r.stderr).to.contain('subscription_url: invalid or non-reachable URL')
  })

  it('401: exit 3 with the fix, token never shown', async () => {
    nock(PD).get('/v1/webhooks').reply(401, {error: 'unauthorized access', errorCode: 401, success: false})
    const r = await run(['webhook:add', 'change.deal', '--url', 'https://example.com/hook', '--json'], pdEnv)
    expect(r.exit).to.equal(3)
    expect(r.json()).to.deep.equal({
      error: {
        code: 'auth',
        message: 'Pipedrive rejected the API token (401 from api.pipedrive.com). Run "pdhooks auth login" or set PDHOOKS_PIPEDRIVE_TOKEN (or PDHOOKS_PIPEDRIVE_ACCESS_TOKEN).',
        status: 401,
      },
    })
    expect(r.stdout).not.to.contain(TOKEN)
  })

  it('415 and an HTML 5xx page are reported in one line', async () => {
    nock(PD).get('/v1/webhooks').reply(200, {data: []})
    nock(PD).post('/v1/webhooks').reply(415, {error: 'Unsupported Media Type'})
    let r = await run(['webhook:add', 'change.deal', '--url', 'https://example.com/hook'], pdEnv)
    expect(r.exit).to.equal(2)
    expect(r.stderr).to.contain('415')
    nock(PD).get('/v1/webhooks').times(4).reply(502, '<html><title>502 Bad Gateway</title></html>', {'content-type': 'text/html'})
    r = await run(['webhook:add', 'change.deal', '--url', 'https://example.com/hook', '--json'], pdEnv)
    expect(r.exit).to.equal(6)
    expect(r.json().error.message).to.contain('HTML page ("502 Bad Gateway")')
  })

  it('usage errors: bad event, v1 word on 2.0, no target, no credentials', async () => {
    let r = await run(['webhook:add', 'updated.deal', '--url', 'https://example.com/hook', '--version', '2.0', '--json'], pdEnv)
    expect(r.exit).to.equal(2)
    expect(r.json().error.message).to.contain('Use "change.deal"')
    r = await run(['webhook:add', 'change.deal'], pdEnv)
    expect(r.exit).to.equal(2)
    expect(r.stderr).to.contain('--url')
    r = await run(['webhook:add', 'change.deal', '--url', 'https://example.com/hook'])
    expect(r.exit).to.equal(3)
    expect(r.stderr).to.contain('PDHOOKS_PIPEDRIVE_TOKEN')
    r = await run(['webhook:add', 'change.deal', '--url', 'not-a-url'], pdEnv)
    expect(r.exit).to.equal(2)
    r = await run(['webhook:add', 'change.deal', '--url', 'https://x.example', '--http-auth-password', 'pw'], pdEnv)
    expect(r.exit).to.equal(2)
  })

  it('prints the stage warning on stderr', async () => {
    nock(PD).get('/v1/webhooks').reply(200, {data: []})
    nock(PD).post('/v1/webhooks').reply(201, {data: webhook({event_action: '*', event_object: 'stage', id: 8})})
    const r = await run(['webhook:add', '*.stage', '--url', 'https://example.com/hook'], pdEnv)
    expect(r.stderr).to.contain('Warning:').and.contain('not when a deal moves')
  })

  it('uses a company domain from PDHOOKS_PIPEDRIVE_URL', async () => {
    nock('https://acme.pipedrive.com').get('/api/v1/webhooks').reply(200, {data: []})
    nock('https://acme.pipedrive.com').post('/api/v1/webhooks').reply(201, {data: webhook({id: 1})})
    const r = await run(['webhook:add', 'change.deal', '--url', 'https://example.com/hook'], {...pdEnv, PDHOOKS_PIPEDRIVE_URL: 'acme'})
    expect(r.exit).to.equal(0)
    assertNockDone()
  })
})

describe('secret flag values in parse errors', () => {
  it('never prints a secret quoted by an oclif parse error', async () => {
    const r = await run(['webhook:add', 'change.deal', '--url', 'https://example.com/hook', '--generate-auth', '--http-auth-password', 'do-not-print-this-1', '--http-auth-user', 'u'], pdEnv)
    expect(r.exit).to.equal(2)
    expect(r.stdout + r.stderr).not.to.contain('do-not-print-this-1')
    const j = await run(['webhook:add', 'change.deal', '--url', 'https://example.com/hook', '--generate-auth', '--http-auth-password=do-not-print-this-1', '--json'], pdEnv)
    expect(j.exit).to.equal(2)
    expect(j.stdout).not.to.contain('do-not-print-this-1')
  })
})
