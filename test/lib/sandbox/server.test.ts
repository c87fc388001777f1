import {expect} from 'chai'
import {
  mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {redactRequestHeaders} from '../../../src/lib/sandbox/http.js'
import {type Sandbox, sandboxEnv, startSandbox} from '../../../src/lib/sandbox/index.js'
import {
  emptyState, loadState, type SandboxState, saveState,
} from '../../../src/lib/sandbox/state.js'
import {TestClock} from '../../support/clock.js'
import {receiver} from '../../support/receiver.js'
import {
  call, ce, CE_AUTH, hook, pd, pl, rawFetch, sandbox, webhookBody,
} from './helpers.js'

describe('sandbox: server, test hooks and persistence', () => {
  describe('basics', () => {
    let sb: Sandbox

    beforeEach(async () => {
      sb = await sandbox()
    })

    afterEach(async () => {
      await sb.close()
    })

    it('reports health, its URL and the environment that points pdhooks at it', async () => {
      expect(sb.url).to.equal(`http://127.0.0.1:${sb.port}`)
      expect(sb.port).to.be.greaterThan(0)
      const r = await hook(sb, '/health')
      expect(r.status).to.equal(200)
      expect(sb.env()).to.deep.equal({
        PDHOOKS_ELEMENTS_URL: `${sb.url}/elements/api-v2`,
        PDHOOKS_USER_SECRET: 'sandbox-user-secret',
        PDHOOKS_ORG_SECRET: 'sandbox-org-secret',
        PDHOOKS_PIPEDRIVE_URL: `${sb.url}/v1`,
        PDHOOKS_PIPEDRIVE_TOKEN: 'sandbox-token',
        PDHOOKS_PIPELINER_URL: `${sb.url}/api/v100/rest/spaces/sandbox`,
        PDHOOKS_PIPELINER_USERNAME: 'sandbox',
        PDHOOKS_PIPELINER_PASSWORD: 'sandbox-password',
      })
      expect(sandboxEnv('http://h:1/').PDHOOKS_PIPEDRIVE_URL).to.equal('http://h:1/v1')
    })

    it('the env() credentials work against every service', async () => {
      const env = sb.env()
      const a = await call(env.PDHOOKS_PIPEDRIVE_URL + '/webhooks', {headers: {'x-api-token': env.PDHOOKS_PIPEDRIVE_TOKEN}})
      const b = await call(env.PDHOOKS_ELEMENTS_URL + '/instances', {headers: {authorization: `User ${env.PDHOOKS_USER_SECRET}, Organization ${env.PDHOOKS_ORG_SECRET}`}})
      const c = await call(env.PDHOOKS_PIPELINER_URL + '/entities/Webhooks?first=1', {
        headers: {authorization: 'Basic ' + Buffer.from(`${env.PDHOOKS_PIPELINER_USERNAME}:${env.PDHOOKS_PIPELINER_PASSWORD}`).toString('base64')},
      })
      expect([a.status, b.status, c.status]).to.deep.equal([200, 200, 200])
    })

    it('answers unknown routes with 404 JSON', async () => {
      for (const path of ['/nope', '/v2/webhooks', '/sandbox/nope', '/elements/api-v2/whatever']) {
        const r = await call(sb.url + path, {headers: {authorization: CE_AUTH}})
        expect(r.status, path).to.equal(404)
        expect(r.body, path).to.be.an('object')
        expect(r.headers.get('content-type')).to.match(/application\/json/)
      }
    })

    it('answers 413 to an oversized body', async () => {
      const r = await call(sb.url + '/v1/webhooks', {method: 'POST', headers: {'x-api-token': 't', 'content-type': 'application/json'}, body: 'x'.repeat(1_100_000)})
      expect(r.status).to.equal(413)
    })

    it('logs API requests with secrets redacted, filters by path prefix, and clears', async () => {
      await pd(sb, '/webhooks', {method: 'POST', json: webhookBody()})
      await ce(sb, '/instances')
      await pl(sb, '/entities/Webhooks')
      await call(sb.url + '/v1/users/me?api_token=query-secret-token')
      const all = (await hook(sb, '/requests')).body
      expect(all.map((r: any) => `${r.method} ${r.path}`)).to.deep.equal([
        'POST /v1/webhooks',
        'GET /elements/api-v2/instances',
        'GET /api/v100/rest/spaces/sandbox/entities/Webhooks',
        'GET /v1/users/me',
      ])
      expect(all[0].headers['x-api-token']).to.equal('sand…')
      expect(all[0].body).to.deep.equal(webhookBody())
      expect(all[0].time).to.be.a('string')
      expect(all[1].headers.authorization).to.equal('User sand…, Organization sand…')
      expect(all[2].headers.authorization).to.match(/^Basic \S{4}…$/)
      expect(all[3].query.api_token).to.equal('quer…')
      expect(JSON.stringify(all)).not.to.contain('sandbox-user-secret')
      expect(JSON.stringify(all)).not.to.contain('query-secret-token')
      const onlyPd = (await call(sb.url + '/sandbox/requests?path=/v1')).body
      expect(onlyPd).to.have.length(2)
      expect((await hook(sb, '/requests', undefined, 'DELETE')).status).to.equal(200)
      expect((await hook(sb, '/requests')).body).to.deep.equal([])
    })

    it('resets all state', async () => {
      await pd(sb, '/webhooks', {method: 'POST', json: webhookBody()})
      await ce(sb, '/instances', {method: 'POST', json: {element: {key: 'pipedrive'}, configuration: {'pipedrive.api.token': 'x'}}})
      await hook(sb, '/faults', {path: '/nowhere'})
      expect((await hook(sb, '/reset', {})).status).to.equal(200)
      expect((await pd(sb, '/webhooks')).body.data).to.deep.equal([])
      expect((await ce(sb, '/instances')).body).to.deep.equal([])
      expect((await hook(sb, '/faults')).body).to.deep.equal([])
      const again = await ce(sb, '/instances', {method: 'POST', json: {element: {key: 'pipedrive'}, configuration: {'pipedrive.api.token': 'x'}}})
      expect(again.body.id).to.equal(20_931)
    })
  })

  describe('faults', () => {
    let sb: Sandbox
    let clock: TestClock

    beforeEach(async () => {
      clock = new TestClock()
      sb = await sandbox({clock})
    })

    afterEach(async () => {
      await sb.close()
    })

    it('answers the next `times` matching requests with the fault, then normally', async () => {
      const f = await hook(sb, '/faults', {
        method: 'POST', path: '/v1/webhooks', status: 503, body: {success: false, error: 'down'}, headers: {'retry-after': '1'}, times: 2,
      })
      expect(f.status).to.equal(201)
      const get = await pd(sb, '/webhooks')
      expect(get.status).to.equal(200)
      for (let i = 0; i < 2; i++) {
        const r = await pd(sb, '/webhooks', {method: 'POST', json: webhookBody()})
        expect(r.status).to.equal(503)
        expect(r.body).to.deep.equal({success: false, error: 'down'})
        expect(r.headers.get('retry-after')).to.equal('1')
      }

      expect((await pd(sb, '/webhooks')).body.data).to.deep.equal([])
      expect((await pd(sb, '/webhooks', {method: 'POST', json: webhookBody()})).status).to.equal(201)
    })

    it('sends a string body as HTML (a CDN page) and matches path prefixes ending in *', async () => {
      await hook(sb, '/faults', {path: '/v1/*', status: 403, body: '<html><body>Forbidden by CDN</body></html>'})
      const r = await pd(sb, '/users/me')
      expect(r.status).to.equal(403)
      expect(r.headers.get('content-type')).to.match(/text\/html/)
      expect(r.text).to.equal('<html><body>Forbidden by CDN</body></html>')
      expect((await pd(sb, '/users/me')).status).to.equal(200)
    })

    it('delays the answer', async () => {
      await hook(sb, '/faults', {path: '/elements/api-v2/instances', delay: 150})
      const slow = ce(sb, '/instances')
      await clock.scheduled(150)
      await clock.tick(149)
      expect(clock.pending()).to.deep.equal([1])
      await clock.tick(1)
      expect((await slow).status).to.equal(200)
      // a fault is used once: the next answer comes with no tick
      expect((await ce(sb, '/instances')).status).to.equal(200)
      expect(clock.pending()).to.deep.equal([])
    })

    it('passThrough: the real handler runs (the webhook is created), then the answer is delayed and replaced', async () => {
      await hook(sb, '/faults', {
        method: 'POST', path: '/v1/webhooks', delay: 200, passThrough: true, status: 504, body: '<html>Gateway Timeout</html>',
      })
      const controller = new AbortController()
      const aborted = rawFetch(sb.url + '/v1/webhooks', {
        method: 'POST', headers: {'x-api-token': 't', 'content-type': 'application/json'}, body: JSON.stringify(webhookBody()), signal: controller.signal,
      }).then(() => false, () => true)
      // the answer is held for 200 ms: the client gives up first
      await clock.scheduled(200)
      controller.abort()
      expect(await aborted).to.equal(true)
      const list = await pd(sb, '/webhooks')
      expect(list.body.data).to.have.length(1)
      await hook(sb, '/faults', {
        method: 'POST', path: '/v1/webhooks', passThrough: true, status: 504, body: '<html>Gateway Timeout</html>',
      })
      const replaced = await pd(sb, '/webhooks', {method: 'POST', json: webhookBody({name: 'second'})})
      expect(replaced.status).to.equal(504)
      expect(replaced.text).to.contain('Gateway Timeout')
      expect((await pd(sb, '/webhooks')).body.data).to.have.length(2)
    })

    it('apply: the create happens, then the answer is only the fault (default 503, no body)', async () => {
      await hook(sb, '/faults', {method: 'POST', path: '/v1/webhooks', apply: true})
      const r = await pd(sb, '/webhooks', {method: 'POST', json: webhookBody()})
      expect(r.status).to.equal(503)
      expect(r.text).to.equal('')
      expect((await pd(sb, '/webhooks')).body.data).to.have.length(1)
      await hook(sb, '/faults', {
        method: 'POST', path: '/v1/webhooks', apply: true, status: 429, headers: {'retry-after': '0'}, body: {success: false, error: 'Rate limit'},
      })
      const limited = await pd(sb, '/webhooks', {method: 'POST', json: webhookBody({name: 'second'})})
      expect(limited.status).to.equal(429)
      expect(limited.headers.get('retry-after')).to.equal('0')
      expect(limited.body).to.deep.equal({success: false, error: 'Rate limit'})
      expect((await pd(sb, '/webhooks')).body.data).to.have.length(2)
      // the fault was used once: the next create answers normally
      expect((await pd(sb, '/webhooks', {method: 'POST', json: webhookBody({name: 'third'})})).status).to.equal(201)
      expect((await hook(sb, '/faults', {path: '/x', apply: 'yes'})).status).to.equal(400)
      expect((await hook(sb, '/faults', {path: '/x', apply: true, passThrough: true})).status).to.equal(400)
    })

    it('validates, lists and clears faults', async () => {
      expect((await hook(sb, '/faults', {status: 500})).status).to.equal(400)
      expect((await hook(sb, '/faults', {path: '/x', status: 99})).status).to.equal(400)
      await hook(sb, '/faults', {path: '/v1/webhooks', status: 500, times: 0})
      expect((await hook(sb, '/faults')).body).to.have.length(1)
      expect((await pd(sb, '/webhooks')).status).to.equal(500)
      expect((await pd(sb, '/webhooks')).status).to.equal(500)
      expect((await hook(sb, '/faults', undefined, 'DELETE')).status).to.equal(200)
      expect((await pd(sb, '/webhooks')).status).to.equal(200)
    })
  })

  describe('persistence (--data)', () => {
    let dir: string
    let opened: Sandbox[] = []

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'pdhooks-sandbox-'))
    })

    afterEach(async () => {
      for (const sb of opened) await sb.close()
      opened = []
      rmSync(dir, {recursive: true, force: true})
    })

    it('writes the state atomically after each change and loads it at start', async () => {
      const file = join(dir, 'nested', 'state.json')
      const first = await sandbox({dataFile: file})
      opened.push(first)
      const w = (await pd(first, '/webhooks', {method: 'POST', json: webhookBody({http_auth_password: 'pw'})})).body.data
      const inst = (await ce(first, '/instances', {method: 'POST', json: {element: {key: 'pipedrive'}, configuration: {'pipedrive.email': 'e', 'pipedrive.password': 'p'}, tags: ['x']}})).body
      const plw = (await pl(first, '/entities/Webhooks', {method: 'POST', json: {url: 'https://x.example/', events: ['*'], insecure_ssl: false}})).body.data
      const saved = JSON.parse(readFileSync(file, 'utf8'))
      expect(saved.version).to.equal(1)
      expect(saved.pipedrive.webhooks.map((x: any) => x.id)).to.deep.equal([w.id])
      expect(saved.pipeliner.webhooks.map((x: any) => x.id)).to.deep.equal([plw.id])
      expect(readdirSync(join(dir, 'nested'))).to.deep.equal(['state.json'])
      expect(statSync(file).mode & 0o777).to.equal(0o600)
      await first.close()

      const second = await sandbox({dataFile: file})
      opened.push(second)
      expect((await pd(second, '/webhooks')).body.data).to.deep.equal([w])
      const got = await ce(second, `/instances/${inst.id}`)
      expect(got.status).to.equal(200)
      expect(got.body.token).to.equal(inst.token)
      expect((await pl(second, `/entities/Webhooks/${plw.id}`)).body.data).to.deep.equal(plw)
      const next = (await pd(second, '/webhooks', {method: 'POST', json: webhookBody()})).body.data
      expect(next.id).to.equal(w.id + 1)
      expect((await ce(second, '/instances', {method: 'POST', json: {element: {key: 'pipedrive'}, configuration: {'pipedrive.api.token': 't'}}})).body.id).to.equal(inst.id + 1)
    })

    it('never leaves a half-written file: a failed save keeps the previous state and no temporary file', () => {
      const file = join(dir, 'state.json')
      const state = emptyState()
      saveState(file, state)
      const before = readFileSync(file, 'utf8')
      const broken = {...state, pipedrive: {...state.pipedrive, nextId: 10n}} as unknown as SandboxState
      expect(() => saveState(file, broken)).to.throw()
      expect(readFileSync(file, 'utf8')).to.equal(before)
      expect(readdirSync(dir)).to.deep.equal(['state.json'])
      expect(loadState(join(dir, 'missing.json'))).to.deep.equal(emptyState())
    })

    it('refuses to start on a corrupt data file, naming it', async () => {
      const file = join(dir, 'bad.json')
      writeFileSync(file, '{not json')
      let error: unknown
      try {
        await startSandbox({port: 0, dataFile: file})
      } catch (error_) {
        error = error_
      }

      expect(String(error)).to.contain(file)
      expect(readFileSync(file, 'utf8')).to.equal('{not json')
    })
  })

  it('closes quickly with a delivery in flight', async () => {
    const rx = await receiver(() => ({status: 200, delayMs: 5000}))
    const sb = await sandbox()
    try {
      await pd(sb, '/webhooks', {method: 'POST', json: webhookBody({subscription_url: rx.url, event_action: '*', event_object: '*'})})
      const pending = hook(sb, '/events', {object: 'deal', action: 'create', id: 1}).catch(() => 'failed')
      await rx.waitFor(1)
      const t = Date.now()
      await sb.close()
      expect(Date.now() - t).to.be.lessThan(500)
      await pending
    } finally {
      await sb.close()
      await rx.close()
    }
  })

  it('redacts every part of an Authorization header', () => {
    expect(redactRequestHeaders({authorization: 'User abcdefgh, Organization ijklmnop, Element qrstuvwx'}).authorization).to.equal('User abcd…, Organization ijkl…, Element qrst…')
    expect(redactRequestHeaders({authorization: 'Bearer short'}).authorization).to.equal('Bearer ****')
    expect(redactRequestHeaders({'x-api-token': 'abcdefghijkl', accept: 'x'})).to.deep.equal({'x-api-token': 'abcd…', accept: 'x'})
  })
})
