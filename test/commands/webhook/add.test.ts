import {expect} from 'chai'
import nock from 'nock'

import {assertNockDone, cleanNock} from '../../support/fakes.js'
import {
  CE_AUTH, CE_HOST, ceEnv, instance, PD, pdEnv, TOKEN, webhook,
} from '../../support/fixtures.js'
import {run} from '../../support/run.js'

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

  it('after a POST timeout with nothing found, says so (exit 6), never resends and never claims "not created"', async () => {
    nock(PD).get('/v1/webhooks').reply(200, {data: []})
    const post = nock(PD).post('/v1/webhooks').delay(1500).reply(201, {data: webhook({id: 50})})
    nock(PD).get('/v1/webhooks').reply(200, {data: []})
    const r = await run(['webhook:add', 'change.deal', '--url', 'https://example.com/hook', '--timeout', '1', '--json'], pdEnv)
    expect(r.exit).to.equal(6)
    expect(r.json().error.message).to.contain('no webhook was found afterwards, but the service may still be processing the request')
    expect(r.json().error.message).to.contain('Check with "pdhooks webhook list"')
    expect(post.isDone()).to.equal(true)
    assertNockDone()
  })

  describe('a create the server may have applied (429/502/503/504) is looked up before anything else', () => {
    const HOOK = 'https://example.com/hook'
    const made = webhook({
      event_action: 'change', event_object: 'deal', id: 60, subscription_url: HOOK,
    })

    it('answered 201 without the created webhook: looked up (not sent again), found, reported created', async () => {
      nock(PD).get('/v1/webhooks').reply(200, {data: []})
      const post = nock(PD).post('/v1/webhooks').reply(201, {success: true})
      nock(PD).get('/v1/webhooks').reply(200, {data: [made]})
      const r = await run(['webhook:add', 'change.deal', '--url', HOOK, '--json'], pdEnv)
      expect(r.exit).to.equal(0)
      expect(r.json()).to.deep.include({created: true})
      expect(r.json().webhook.id).to.equal(60)
      expect(post.isDone()).to.equal(true)
      assertNockDone()
    })

    it('applied, then answered 503: found by the lookup, reported created (exit 0), one POST only', async () => {
      const order: string[] = []
      nock(PD).get('/v1/webhooks').reply(200, () => {
        order.push('list')
        return {data: [webhook({id: 3, subscription_url: 'https://other.example.com/'})]}
      })
      nock(PD).post('/v1/webhooks').reply(503, () => {
        order.push('POST')
        return {error: 'Service Unavailable', success: false}
      })
      nock(PD).get('/v1/webhooks').reply(200, () => {
        order.push('lookup')
        return {data: [webhook({id: 3, subscription_url: 'https://other.example.com/'}), made]}
      })
      const r = await run(['webhook:add', 'change.deal', '--url', HOOK, '--json'], pdEnv)
      expect(r.exit).to.equal(0)
      expect(r.json()).to.deep.include({created: true, recovered: true})
      expect(r.json().webhook.id).to.equal(60)
      expect(order).to.deep.equal(['list', 'POST', 'lookup'])
      assertNockDone()
    })

    it('applied, then answered 429: found, not sent again; the human line says it was confirmed', async () => {
      nock(PD).get('/v1/webhooks').reply(200, {data: []})
      nock(PD).post('/v1/webhooks').reply(429, {error: 'Request over limit', success: false}, {'retry-after': '0'})
      nock(PD).get('/v1/webhooks').reply(200, {data: [made]})
      const r = await run(['webhook:add', 'change.deal', '--url', HOOK], pdEnv)
      expect(r.exit).to.equal(0)
      expect(r.stdout).to.contain('Created webhook 60: change.deal (v2.0) → https://example.com/hook (confirmed after the create call failed)')
      assertNockDone()
    })

    it('not applied (429): looked up, then sent again after Retry-After; exactly two POSTs', async () => {
      const order: string[] = []
      nock(PD).get('/v1/webhooks').reply(200, {data: []})
      nock(PD).post('/v1/webhooks').reply(429, () => {
        order.push('POST 429')
        return {error: 'Request over limit'}
      }, {'retry-after': '0'})
      nock(PD).get('/v1/webhooks').reply(200, () => {
        order.push('lookup')
        return {data: []}
      })
      nock(PD).post('/v1/webhooks').reply(201, () => {
        order.push('POST 201')
        return {data: made}
      })
      const r = await run(['webhook:add', 'change.deal', '--url', HOOK, '--json'], pdEnv)
      expect(r.exit).to.equal(0)
      expect(r.json()).to.deep.include({created: true})
      expect(r.json().recovered).to.equal(undefined)
      expect(order).to.deep.equal(['POST 429', 'lookup', 'POST 201'])
      assertNockDone()
    })

    it('an identical webhook that existed before is not mistaken for the one this run made', async () => {
      nock(PD).get('/v1/webhooks').reply(200, {data: [webhook({id: 5, subscription_url: HOOK})]})
      nock(PD).post('/v1/webhooks').reply(502, 'Bad Gateway', {'content-type': 'text/plain'})
      nock(PD).get('/v1/webhooks').reply(200, {data: [webhook({id: 5, subscription_url: HOOK})]})
      nock(PD).post('/v1/webhooks').reply(201, {data: made})
      const r = await run(['webhook:add', 'change.deal', '--url', HOOK, '--allow-duplicate', '--json'], pdEnv)
      expect(r.exit).to.equal(0)
      expect(r.json().webhook.id).to.equal(60)
      assertNockDone()
    })

    it('never applied (503 four times, each looked up): exit 6, "was not created"', async () => {
      nock(PD).get('/v1/webhooks').reply(200, {data: []})
      for (let i = 0; i < 4; i++) {
        nock(PD).post('/v1/webhooks').reply(503, {error: 'down'})
        nock(PD).get('/v1/webhooks').reply(200, {data: []})
      }

      const r = await run(['webhook:add', 'change.deal', '--url', HOOK, '--json'], pdEnv)
      expect(r.exit).to.equal(6)
      expect(r.json().error.message).to.contain('(4 attempts, each looked up before the next); the webhook was not created.')
      assertNockDone()
    })

    it('applied, answered 503, and the lookup fails too: exit 6, "may exist", how to check; never sent again', async () => {
      nock(PD).get('/v1/webhooks').reply(200, {data: []})
      const post = nock(PD).post('/v1/webhooks').reply(503, {error: 'down'})
      nock(PD).get('/v1/webhooks').times(4).reply(503, {error: 'down'})
      const r = await run(['webhook:add', 'change.deal', '--url', HOOK], pdEnv)
      expect(r.exit).to.equal(6)
      expect(r.stderr).to.contain('it is unknown whether the webhook was created (looking it up failed too')
      expect(r.stderr).to.contain('Check with "pdhooks webhook list" before trying again.')
      expect(r.stderr).not.to.contain('not created')
      expect(post.isDone()).to.equal(true)
      assertNockDone()
    })
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

describe('webhook add: conflicts, --replace, the instance check, the next step', () => {
  const HOOK = 'https://example.com/hook'
  const PW = 'hook-password-SECRET-123'
  const OTHER_PW = 'other-password-SECRET-456'

  afterEach(() => cleanNock())

  it('same URL, event and version but another basic-auth user: exit 5 naming the difference, nothing sent', async () => {
    nock(PD).get('/v1/webhooks').reply(200, {data: [webhook({http_auth_password: OTHER_PW, http_auth_user: 'bob', id: 9})]})
    const c = await run(['webhook:add', 'change.deal', '--url', HOOK, '--http-auth-user', 'alice', '--http-auth-password', PW, '--json'], pdEnv)
    expect(c.exit).to.equal(5)
    const {error} = c.json()
    expect(error.code).to.equal('conflict')
    expect(error.message).to.equal('A webhook for change.deal (v2.0) → https://example.com/hook already exists with other settings (webhook 9: its basic-auth user is "bob", not "alice"). Pass --replace to replace it (the new webhook is created first, then the old one deleted).')
    expect(error.conflicts).to.deep.equal([{differences: ['its basic-auth user is "bob", not "alice"'], id: 9}])
    expect(c.stdout + c.stderr).not.to.contain(PW).and.not.to.contain(OTHER_PW)
    assertNockDone()
  })

  it('the same user with another password (shown by Pipedrive): exit 5, no password printed', async () => {
    nock(PD).get('/v1/webhooks').reply(200, {data: [webhook({http_auth_password: OTHER_PW, http_auth_user: 'alice', id: 9})]})
    const r = await run(['webhook:add', 'change.deal', '--url', HOOK, '--http-auth-user', 'alice', '--http-auth-password', PW], pdEnv)
    expect(r.exit).to.equal(5)
    expect(r.stderr).to.contain('webhook 9: its basic-auth password is another one').and.contain('--replace')
    expect(r.stdout + r.stderr).not.to.contain(PW).and.not.to.contain(OTHER_PW)
  })

  it('auth added or removed, and another --user-id, are conflicts too', async () => {
    nock(PD).get('/v1/webhooks').reply(200, {data: [webhook({id: 9})]})
    let r = await run(['webhook:add', 'change.deal', '--url', HOOK, '--http-auth-user', 'alice', '--http-auth-password', PW], pdEnv)
    expect(r.exit).to.equal(5)
    expect(r.stderr).to.contain('it sends no basic auth (user "alice" was asked)')
    nock(PD).get('/v1/webhooks').reply(200, {data: [webhook({http_auth_password: OTHER_PW, http_auth_user: 'bob', id: 9})]})
    r = await run(['webhook:add', 'change.deal', '--url', HOOK], pdEnv)
    expect(r.exit).to.equal(5)
    expect(r.stderr).to.contain('it sends basic auth as user "bob" (none was asked)')
    nock(PD).get('/v1/webhooks').reply(200, {data: [webhook({id: 9, user_id: 7})]})
    r = await run(['webhook:add', 'change.deal', '--url', HOOK, '--user-id', '12'], pdEnv)
    expect(r.exit).to.equal(5)
    expect(r.stderr).to.contain('its user id is 7, not 12')
    nock(PD).get('/v1/webhooks').reply(200, {data: [webhook({id: 9, user_id: 12})]})
    r = await run(['webhook:add', 'change.deal', '--url', HOOK, '--user-id', '12', '--json'], pdEnv)
    expect(r.exit).to.equal(0)
    expect(r.json().created).to.equal(false)
    assertNockDone()
  })

  it('the same auth is no conflict; a password Pipedrive does not show is reported as not compared', async () => {
    nock(PD).get('/v1/webhooks').reply(200, {data: [webhook({http_auth_password: PW, http_auth_user: 'alice', id: 9})]})
    let r = await run(['webhook:add', 'change.deal', '--url', HOOK, '--http-auth-user', 'alice', '--http-auth-password', PW, '--json'], pdEnv)
    expect(r.exit).to.equal(0)
    expect(r.json()).to.deep.include({created: false, warnings: []})
    nock(PD).get('/v1/webhooks').reply(200, {data: [webhook({http_auth_password: null, http_auth_user: 'alice', id: 9})]})
    r = await run(['webhook:add', 'change.deal', '--url', HOOK, '--http-auth-user', 'alice', '--http-auth-password', PW], pdEnv)
    expect(r.exit).to.equal(0)
    expect(r.stdout).to.contain('Webhook 9 already exists')
    expect(r.stderr).to.contain('Pipedrive does not show the basic-auth password of webhook 9: it was not compared.')
    assertNockDone()
  })

  it('--generate-auth against an existing webhook is a conflict (new credentials only go to a new webhook)', async () => {
    nock(PD).get('/v1/webhooks').reply(200, {data: [webhook({http_auth_password: OTHER_PW, http_auth_user: 'pdhooks', id: 9})]})
    const r = await run(['webhook:add', 'change.deal', '--url', HOOK, '--generate-auth'], pdEnv)
    expect(r.exit).to.equal(5)
    expect(r.stderr).to.contain('--generate-auth makes new credentials, but it sends basic auth as user "pdhooks"')
    assertNockDone()
  })

  it('--replace creates the new webhook first, then deletes the old one; --json lists what was replaced', async () => {
    const order: string[] = []
    let sent: any
    nock(PD).get('/v1/webhooks').reply(200, {data: [webhook({http_auth_password: OTHER_PW, http_auth_user: 'bob', id: 9})]})
    nock(PD).post('/v1/webhooks', b => {
      sent = b
      order.push('POST')
      return true
    }).reply(201, {data: webhook({http_auth_password: PW, http_auth_user: 'alice', id: 10})})
    nock(PD).delete('/v1/webhooks/9').reply(200, () => {
      order.push('DELETE 9')
      return {success: true}
    })
    const r = await run(['webhook:add', 'change.deal', '--url', HOOK, '--http-auth-user', 'alice', '--http-auth-password', PW, '--replace', '--json'], pdEnv)
    expect(r.exit).to.equal(0)
    expect(order).to.deep.equal(['POST', 'DELETE 9'])
    expect(sent).to.include({http_auth_password: PW, http_auth_user: 'alice'})
    const doc = r.json()
    expect(doc).to.deep.include({created: true, replaced: [{id: 9, status: 'deleted'}]})
    expect(doc.webhook).to.include({httpAuthUser: 'alice', id: 10})
    expect(r.stdout).not.to.contain(PW)
    assertNockDone()
  })

  it('--replace replaces every conflicting duplicate; human output names each', async () => {
    const hooks = [webhook({id: 9, user_id: 7}), webhook({id: 11, user_id: 8})]
    nock(PD).get('/v1/webhooks').reply(200, {data: hooks})
    const c = await run(['webhook:add', 'change.deal', '--url', HOOK, '--user-id', '12'], pdEnv)
    expect(c.exit).to.equal(5)
    expect(c.stderr).to.contain('webhook 9: its user id is 7, not 12 / webhook 11: its user id is 8, not 12').and.contain('replace them')
    nock(PD).get('/v1/webhooks').reply(200, {data: hooks})
    nock(PD).post('/v1/webhooks').reply(201, {data: webhook({id: 12, user_id: 12})})
    nock(PD).delete('/v1/webhooks/9').reply(200, {success: true})
    nock(PD).delete('/v1/webhooks/11').reply(404, {errors: {id: ['not found']}, success: false})
    const r = await run(['webhook:add', 'change.deal', '--url', HOOK, '--user-id', '12', '--replace'], pdEnv)
    expect(r.exit).to.equal(0)
    expect(r.stdout).to.contain('Created webhook 12').and.contain('Replaced webhook 9 (deleted)').and.contain('Replaced webhook 11 (it was already gone)')
    assertNockDone()
  })

  it('--replace: when the old webhook cannot be deleted, says both exist (exit of the failure)', async () => {
    nock(PD).get('/v1/webhooks').reply(200, {data: [webhook({id: 9, user_id: 7})]})
    nock(PD).post('/v1/webhooks').reply(201, {data: webhook({id: 12, user_id: 12})})
    nock(PD).delete('/v1/webhooks/9').reply(403, {message: 'Forbidden', success: false})
    const r = await run(['webhook:add', 'change.deal', '--url', HOOK, '--user-id', '12', '--replace', '--json'], pdEnv)
    expect(r.exit).to.equal(3)
    const {error} = r.json()
    expect(error.message).to.contain('Created webhook 12, but the old webhook(s) 9 could not be deleted')
    expect(error.message).to.contain('pdhooks webhook delete 9')
    expect(error).to.deep.include({created: 12, notDeleted: [9]})
    assertNockDone()
  })

  it('--replace with nothing to replace creates; an identical one is kept; --replace with --allow-duplicate is exit 2', async () => {
    nock(PD).get('/v1/webhooks').reply(200, {data: [webhook({id: 9})]})
    let r = await run(['webhook:add', 'change.deal', '--url', HOOK, '--replace', '--json'], pdEnv)
    expect(r.exit).to.equal(0)
    expect(r.json()).to.deep.include({created: false})
    r = await run(['webhook:add', 'change.deal', '--url', HOOK, '--replace', '--allow-duplicate'], pdEnv)
    expect(r.exit).to.equal(2)
    assertNockDone()
  })

  it('--replace at the 40-webhook limit explains it needs one free place', async () => {
    const hooks = Array.from({length: 40}, (_, i) => webhook({id: i + 1, subscription_url: i === 0 ? HOOK : `https://example.com/${i}`, user_id: 7}))
    nock(PD).get('/v1/webhooks').reply(200, {data: hooks})
    nock(PD).get('/v1/users/me').reply(200, {data: {id: 7}})
    const r = await run(['webhook:add', 'change.deal', '--url', HOOK, '--http-auth-user', 'a', '--http-auth-password', PW, '--replace'], pdEnv)
    expect(r.exit).to.equal(5)
    expect(r.stderr).to.contain('needs one free place')
    assertNockDone()
  })

  it('the quota error suggests listing first, never a bulk delete that would hit brand-new webhooks', async () => {
    const hooks = Array.from({length: 40}, (_, i) => webhook({id: i + 1, subscription_url: `https://example.com/${i}`, user_id: 7}))
    nock(PD).get('/v1/webhooks').reply(200, {data: hooks})
    nock(PD).get('/v1/users/me').reply(200, {data: {id: 7}})
    const r = await run(['webhook:add', 'change.deal', '--url', 'https://example.com/new'], pdEnv)
    expect(r.exit).to.equal(5)
    expect(r.stderr).to.contain('pdhooks webhook list').and.contain('pdhooks webhook delete ID')
    expect(r.stderr).not.to.contain('--unhealthy').and.not.to.contain('--all')
    nock(PD).get('/v1/webhooks').reply(200, {data: []})
    nock(PD).post('/v1/webhooks').reply(422, {error: 'Webhooks limit reached', success: false})
    const q = await run(['webhook:add', 'change.deal', '--url', 'https://example.com/new'], pdEnv)
    expect(q.exit).to.equal(5)
    expect(q.stderr).to.contain('pdhooks webhook list').and.not.to.contain('--unhealthy')
    assertNockDone()
  })

  it('prints the next step (human and --json)', async () => {
    nock(PD).get('/v1/webhooks').reply(200, {data: []})
    nock(PD).post('/v1/webhooks').reply(201, {data: webhook({id: 77})})
    const r = await run(['webhook:add', 'change.deal', '--url', 'https://example.com/hook?a=1&b=2'], pdEnv)
    expect(r.stdout).to.contain("Next: change a deal in Pipedrive, then check its LAST STATUS and HEALTH with: pdhooks webhook list --url 'https://example.com/hook?a=1&b=2'")
    nock(PD).get('/v1/webhooks').reply(200, {data: [webhook({id: 77})]})
    const j = await run(['webhook:add', 'change.deal', '--url', HOOK, '--json'], pdEnv)
    expect(j.json().next).to.equal('pdhooks webhook list --url https://example.com/hook')
    assertNockDone()
  })

  describe('--instance ID is checked on the platform when Cloud Elements credentials are available', () => {
    const CE_URL = 'https://api.cloud-elements.com/elements/api-v2/events/pipedrive/OTk5OTk='

    it('an unknown instance is exit 4 before anything is sent to Pipedrive', async () => {
      nock(CE_HOST, {reqheaders: {authorization: CE_AUTH}}).get('/elements/api-v2/instances/99999').reply(404, {message: 'No instance found'})
      const r = await run(['webhook:add', '*.*', '--instance', '99999', '--json'], {...pdEnv, ...ceEnv})
      expect(r.exit).to.equal(4)
      expect(r.json().error.message).to.contain('No instance 99999 on api.cloud-elements.com')
      assertNockDone()
    })

    it('without Pipedrive credentials: exit 3 before the platform is asked anything', async () => {
      const r = await run(['webhook:add', '*.*', '--instance', '99999'], ceEnv)
      expect(r.exit).to.equal(3)
      expect(r.stderr).to.contain('No Pipedrive credentials').and.not.to.contain('Instance 99999')
      assertNockDone()
    })

    it('an existing instance passes; one with polling events gets a warning', async () => {
      nock(CE_HOST).get('/elements/api-v2/instances/99999').reply(200, instance({id: 99_999}))
      nock(PD).get('/v1/webhooks').reply(200, {data: []})
      nock(PD).post('/v1/webhooks').reply(201, {data: webhook({subscription_url: CE_URL, version: '1.0'})})
      let r = await run(['webhook:add', '*.*', '--instance', '99999', '--json'], {...pdEnv, ...ceEnv})
      expect(r.exit).to.equal(0)
      expect(r.json().warnings).to.deep.equal([])
      nock(CE_HOST).get('/elements/api-v2/instances/99999').reply(200, instance({configuration: {'event.notification.enabled': 'true', 'event.vendor.type': 'polling'}, id: 99_999}))
      nock(PD).get('/v1/webhooks').reply(200, {
        data: [webhook({
          event_action: '*', event_object: '*', subscription_url: CE_URL, version: '1.0',
        })],
      })
      r = await run(['webhook:add', '*.*', '--instance', '99999'], {...pdEnv, ...ceEnv})
      expect(r.exit).to.equal(0)
      expect(r.stderr).to.contain('Instance 99999 "crm-events" has events by polling')
      assertNockDone()
    })

    it('without Cloud Elements credentials, warns that it was not checked (and --json carries it)', async () => {
      nock(PD).get('/v1/webhooks').reply(200, {data: []})
      nock(PD).post('/v1/webhooks').reply(201, {data: webhook({subscription_url: CE_URL, version: '1.0'})})
      const r = await run(['webhook:add', '*.*', '--instance', '99999', '--json'], pdEnv)
      expect(r.exit).to.equal(0)
      expect(r.json().warnings).to.deep.equal(['Instance 99999 was not checked: no Cloud Elements credentials (set PDHOOKS_USER_SECRET and PDHOOKS_ORG_SECRET to check it).'])
      assertNockDone()
    })

    it('when the platform cannot answer, warns and goes on', async () => {
      nock(CE_HOST).get('/elements/api-v2/instances/99999').times(4).reply(503, {message: 'down'})
      nock(PD).get('/v1/webhooks').reply(200, {data: []})
      nock(PD).post('/v1/webhooks').reply(201, {data: webhook({subscription_url: CE_URL, version: '1.0'})})
      const r = await run(['webhook:add', '*.*', '--instance', '99999'], {...pdEnv, ...ceEnv})
      expect(r.exit).to.equal(0)
      expect(r.stderr).to.contain('Instance 99999 could not be checked: Cloud Elements is unavailable')
      assertNockDone()
    })
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

  it('the version follows the target kind: an instance, or a platform events URL given as --url, is 1.0; another URL 2.0', async () => {
    const sent: any[] = []
    nock(PD).get('/v1/webhooks').times(3).reply(200, {data: []})
    nock(PD).post('/v1/webhooks', b => {
      sent.push(b)
      return true
    }).times(3).reply(201, (_uri, b: any) => ({data: webhook({...b, id: 60 + sent.length})}))
    const sap = 'https://api.openconnectors.us2.ext.hana.ondemand.com/elements/api-v2/events/pipedrive/MjA5MzE='
    for (const args of [['--instance', '20931'], ['--url', sap], ['--url', 'https://example.com/hook']]) {
      const r = await run(['webhook:add', '*.deal', ...args], pdEnv)
      expect(r.exit, r.stderr).to.equal(0)
    }

    expect(sent.map(b => [b.subscription_url, b.version])).to.deep.equal([[CE_URL, '1.0'], [sap, '1.0'], ['https://example.com/hook', '2.0']])
  })
})
