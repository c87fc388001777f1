// e2e: failure paths over real HTTP, injected with the sandbox's faults: 429, 5xx, HTML bodies, connection errors and a
// timeout after the webhook was created.
import {expect} from 'chai'

import {PL_HOOKS} from '../support/fixtures.js'
import {freePort} from '../support/receiver.js'
import {
  explain, PD_LOGIN, useSandbox,
} from './helpers.js'

const HOOK = 'https://app.example.com/hook'
const HTML_502 = '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><center>cloudflare</center></body></html>'

describe('e2e: fault paths', () => {
  const e2e = useSandbox()
  const count = async (method: string, path: string) => (await e2e.requests(path)).filter(r => r.method === method && r.path === path).length

  it('a 429 with Retry-After is retried, then succeeds (reads and creates)', async function () {
    this.timeout(30_000)
    await e2e.fault({
      method: 'GET', path: '/v1/webhooks', status: 429, headers: {'Retry-After': '0'}, body: {success: false, error: 'Request over limit', errorCode: 429},
    })
    const list = await e2e.run(['webhook', 'list', '--json'])
    expect(list.code, explain(list)).to.equal(0)
    expect(list.json()).to.deep.equal({total: 0, webhooks: []})
    expect(await count('GET', '/v1/webhooks')).to.equal(2)

    await e2e.api('DELETE', '/sandbox/requests')
    await e2e.fault({
      method: 'POST', path: '/v1/webhooks', status: 429, headers: {'Retry-After': '0'},
    })
    const add = await e2e.run(['webhook', 'add', 'change.deal', '--url', HOOK, '--json'])
    expect(add.code, explain(add)).to.equal(0)
    expect(add.json().created).to.equal(true)
    expect(await count('POST', '/v1/webhooks')).to.equal(2)
    expect((await e2e.state()).pipedrive.webhooks).to.have.length(1)
  })

  it('a 403 after a 429 stops retrying (exit 3)', async function () {
    this.timeout(30_000)
    await e2e.fault([
      {
        method: 'GET', path: '/v1/webhooks', status: 429, headers: {'Retry-After': '0'},
      },
      {
        method: 'GET', path: '/v1/webhooks', status: 403, body: {success: false, error: 'forbidden'}, times: 5,
      },
    ])
    const r = await e2e.run(['webhook', 'list', '--json'])
    expect(r.code, explain(r)).to.equal(3)
    expect(r.json().error.status).to.equal(403)
    expect(await count('GET', '/v1/webhooks')).to.equal(2)
  })

  it('a 401 from Cloud Elements is exit 3, naming the variables to set', async function () {
    this.timeout(30_000)
    await e2e.fault({
      method: 'GET', path: '/elements/api-v2/instances', status: 401, body: {message: 'Invalid Organization or User secret, or invalid Element token provided.', requestId: 'e2e'},
    })
    const r = await e2e.run(['instance', 'list', '--json'])
    expect(r.code, explain(r)).to.equal(3)
    expect(r.json().error).to.deep.include({code: 'auth', status: 401})
    expect(r.json().error.message).to.include('PDHOOKS_USER_SECRET')
    expect(await count('GET', '/elements/api-v2/instances')).to.equal(1) // not retried
  })

  it('5xx until the retries run out is exit 6 after 4 attempts', async function () {
    this.timeout(30_000)
    await e2e.fault({
      method: 'GET', path: '/v1/webhooks', status: 503, times: 10,
    })
    const r = await e2e.run(['webhook', 'list', '--json'])
    expect(r.code, explain(r)).to.equal(6)
    const {error} = r.json()
    expect(error).to.deep.include({code: 'unavailable', status: 503})
    expect(await count('GET', '/v1/webhooks')).to.equal(4)

    await e2e.fault({
      method: 'GET', path: '/elements/api-v2/instances', status: 504, times: 10,
    })
    const ce = await e2e.run(['instance', 'list'])
    expect(ce.code, explain(ce)).to.equal(6)
    expect(ce.stdout).to.equal('')
    expect(ce.stderr.trim().split('\n')).to.have.length(1)
    expect(ce.stderr).to.match(/^Error: /)
  })

  it('an HTML body is reported as an HTML page, with the exit code of its status', async function () {
    this.timeout(30_000)
    await e2e.fault({
      method: 'GET', path: '/v1/webhooks', status: 502, body: HTML_502, times: 10,
    })
    const r502 = await e2e.run(['webhook', 'list', '--json'])
    expect(r502.code, explain(r502)).to.equal(6)
    expect(r502.json().error.message).to.include('HTML page').and.to.include('502 Bad Gateway')

    await e2e.api('DELETE', '/sandbox/faults')
    await e2e.fault({
      method: 'GET', path: '/v1/webhooks', status: 403, body: '<html><head><title>Forbidden</title></head><body>WAF</body></html>',
    })
    const r403 = await e2e.run(['webhook', 'list'])
    expect(r403.code, explain(r403)).to.equal(3)
    expect(r403.stderr).to.include('HTML page')

    await e2e.fault({
      method: 'GET', path: '/elements/api-v2/instances', status: 400, body: '<html><head><title>Bad Request</title></head></html>',
    })
    const r400 = await e2e.run(['instance', 'list', '--json'])
    expect(r400.code, explain(r400)).to.equal(2)
    expect(r400.json().error.message).to.include('HTML page')

    // a 200 that is not JSON is a malformed response (exit 1), not a crash
    await e2e.fault({
      method: 'GET', path: '/elements/api-v2/instances', status: 200, body: '<html><head><title>Sign in</title></head></html>',
    })
    const r200 = await e2e.run(['instance', 'list', '--json'])
    expect(r200.code, explain(r200)).to.equal(1)
    expect(r200.json().error.message).to.include('HTML page')
    expect(r200.stderr).not.to.match(/\n\s+at /) // no stack trace
  })

  it('a connection error is retried, then exit 6', async function () {
    this.timeout(30_000)
    const port = await freePort()
    const r = await e2e.run(['webhook', 'list', '--json'], {env: {PDHOOKS_PIPEDRIVE_URL: `http://127.0.0.1:${port}/v1`}})
    expect(r.code, explain(r)).to.equal(6)
    expect(r.json().error.message).to.include(`127.0.0.1:${port}`)
  })

  it('a timeout after the sandbox created the webhook is recovered: reported created, exit 0, never duplicated', async function () {
    this.timeout(30_000)
    await e2e.fault({
      method: 'POST', path: '/v1/webhooks', passThrough: true, delay: 3000,
    })
    const started = Date.now()
    const r = await e2e.run(['webhook', 'add', '*.deal', '--url', HOOK, '--timeout', '1', '--json'])
    expect(r.code, explain(r)).to.equal(0)
    const doc = r.json()
    expect(doc.created).to.equal(true)
    expect(doc.recovered).to.equal(true)
    expect(doc.webhook).to.deep.include({event: '*.deal', url: HOOK})
    expect(Date.now() - started).to.be.below(3000) // it gave up after 1 s instead of waiting for the delayed answer
    expect(await count('POST', '/v1/webhooks')).to.equal(1)

    const list = await e2e.run(['webhook', 'list', '--json'])
    expect(list.code, explain(list)).to.equal(0)
    expect(list.json().webhooks.map((w: any) => w.id)).to.deep.equal([doc.webhook.id])
  })

  describe('creates the service applied, then answered 503 / 429 / 502 ("apply" faults): never a duplicate', () => {
    const login = [...PD_LOGIN, '--callback-url', 'https://app.example.com/ce']

    it('webhook add: applied then 503, and applied then 429, are found by the lookup (one POST each, exit 0)', async function () {
      this.timeout(30_000)
      await e2e.fault({
        method: 'POST', path: '/v1/webhooks', apply: true, status: 503, body: {success: false, error: 'Service Unavailable'},
      })
      const a = await e2e.run(['webhook', 'add', 'change.deal', '--url', HOOK, '--json'])
      expect(a.code, explain(a)).to.equal(0)
      expect(a.json()).to.deep.include({created: true, recovered: true})
      await e2e.fault({
        method: 'POST', path: '/v1/webhooks', apply: true, status: 429, headers: {'Retry-After': '0'},
      })
      const b = await e2e.run(['webhook', 'add', 'change.person', '--url', HOOK, '--json'])
      expect(b.code, explain(b)).to.equal(0)
      expect(b.json()).to.deep.include({created: true, recovered: true})
      expect(await count('POST', '/v1/webhooks')).to.equal(2)
      const hooks = (await e2e.state()).pipedrive.webhooks
      expect(hooks.map((w: any) => `${w.event_action}.${w.event_object}`)).to.deep.equal(['change.deal', 'change.person'])
    })

    it('webhook add: applied then 503 with the lookup failing too: exit 6 "unknown", then the same command keeps it (no duplicate)', async function () {
      this.timeout(30_000)
      await e2e.fault([
        {
          method: 'POST', path: '/v1/webhooks', apply: true, status: 503,
        },
        // the first list (before the create) answers; every later one fails
        {
          method: 'GET', path: '/v1/webhooks', times: 1, delay: 0,
        },
        {
          method: 'GET', path: '/v1/webhooks', status: 503, times: 4,
        },
      ])
      const r = await e2e.run(['webhook', 'add', 'change.deal', '--url', HOOK, '--json'])
      expect(r.code, explain(r)).to.equal(6)
      expect(r.json().error.code).to.equal('outcome_unknown')
      expect(r.json().error.message).to.include('it is unknown whether the webhook was created')
      expect(r.json().error.message).to.include('pdhooks webhook list')
      expect(await count('POST', '/v1/webhooks')).to.equal(1)
      const again = await e2e.run(['webhook', 'add', 'change.deal', '--url', HOOK, '--json'])
      expect(again.code, explain(again)).to.equal(0)
      expect(again.json().created).to.equal(false)
      expect((await e2e.state()).pipedrive.webhooks).to.have.length(1)
    })

    it('instance create: applied then 503 is found, recorded in the profile at once; a second run is a name conflict', async function () {
      this.timeout(30_000)
      await e2e.fault({
        method: 'POST', path: '/elements/api-v2/instances', apply: true, status: 503,
      })
      const r = await e2e.run(['instance', 'create', '--name', 'crm-events', ...login, '--json'])
      expect(r.code, explain(r)).to.equal(0)
      expect(r.json()).to.deep.include({recovered: true})
      const {id} = r.json().instance
      expect(await count('POST', '/elements/api-v2/instances')).to.equal(1)
      const cb = await e2e.run(['instance', 'callback-url', '--json'])
      expect(cb.code, explain(cb)).to.equal(0)
      expect(JSON.stringify(cb.json())).to.include(Buffer.from(String(id)).toString('base64'))
      const again = await e2e.run(['instance', 'create', '--name', 'crm-events', ...login, '--json'])
      expect(again.code, explain(again)).to.equal(5)
      expect(again.json().error).to.deep.include({code: 'conflict', ids: [id]})
      expect((await e2e.state()).elements.instances).to.have.length(1)
    })

    it('pipeliner webhook add: applied then 502 is found (one POST); not applied 503 is resent once after the lookup', async function () {
      this.timeout(30_000)
      await e2e.fault({
        method: 'POST', path: PL_HOOKS, apply: true, status: 502, body: '<html>Bad Gateway</html>',
      })
      const r = await e2e.run(['pipeliner', 'webhook', 'add', '--event', 'Account.Create', '--url', HOOK, '--json'])
      expect(r.code, explain(r)).to.equal(0)
      expect(r.json()).to.deep.include({created: true, recovered: true})
      expect(await count('POST', PL_HOOKS)).to.equal(1)
      await e2e.fault({method: 'POST', path: PL_HOOKS, status: 503})
      const s = await e2e.run(['pipeliner', 'webhook', 'add', '--event', 'Account.Update', '--url', HOOK, '--json'])
      expect(s.code, explain(s)).to.equal(0)
      expect(s.json().created).to.equal(true)
      expect(await count('POST', PL_HOOKS)).to.equal(3)
      expect((await e2e.state()).pipeliner.webhooks).to.have.length(2)
    })
  })
})
