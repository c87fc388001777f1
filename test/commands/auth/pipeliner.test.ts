import {expect} from 'chai'
import nock from 'nock'
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import {ConfigStore} from '../../../src/lib/core/config.js'
import {assertNockDone, cleanNock} from '../../support/fakes.js'
import {run} from '../../support/run.js'

// Pipeliner values of auth login / status (issue 6, item 1)
const dir = () => process.env.PDHOOKS_CONFIG_DIR!
const file = () => join(dir(), 'config.json')
const PL = 'https://eu-central.api.pipelinersales.com'
const PL_URL = `${PL}/api/v100/rest/spaces/space-1`
const USER = 'pl-key-username'
const PASSWORD = 'pl-key-password-0123456789'
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`

describe('auth (Pipeliner)', () => {
  afterEach(async () => {
    cleanNock()
    await new ConfigStore(dir()).removeAll()
  })

  it('login verifies with GET /entities/Webhooks?first=1 (Basic auth), then stores the three values', async () => {
    nock(PL, {reqheaders: {authorization: BASIC}}).get('/api/v100/rest/spaces/space-1/entities/Webhooks').query({first: '1'}).reply(200, {data: [], page_info: {has_next_page: false}, success: true})
    const r = await run(['auth:login', '--pipeliner-url', `${PL_URL}/`, '--pipeliner-username', USER, '--pipeliner-password', PASSWORD, '--profile', 'pl'])
    expect(r.exit, r.stderr).to.equal(0)
    expect(r.stdout).to.contain('Stored Pipeliner credentials in profile "pl"')
    expect(await new ConfigStore(dir()).getProfile('pl')).to.deep.equal({pipelinerPassword: PASSWORD, pipelinerUrl: PL_URL, pipelinerUsername: USER})
    expect(r.stdout + r.stderr).not.to.contain(PASSWORD)
    assertNockDone()
  })

  it('login stores nothing when Pipeliner rejects the key pair (exit 3), password never shown', async () => {
    const before = existsSync(file()) ? readFileSync(file(), 'utf8') : undefined
    nock(PL).get('/api/v100/rest/spaces/space-1/entities/Webhooks').query({first: '1'})
    .reply(401, {
      code: 401, http_status: 401, message: 'Authentication failed', name: 'ERROR_UNAUTHORIZED', success: false,
    })
    const r = await run(['auth:login', '--pipeliner-url', PL_URL, '--pipeliner-username', USER, '--pipeliner-password', PASSWORD, '--json'])
    expect(r.exit).to.equal(3)
    expect(r.json().error.message).to.contain('Pipeliner rejected the API key pair (401 from eu-central.api.pipelinersales.com).').and.contain('Nothing was stored')
    expect(r.stdout).not.to.contain(PASSWORD)
    expect(existsSync(file()) ? readFileSync(file(), 'utf8') : undefined).to.equal(before)
  })

  it('login: a URL without a space is exit 2; a missing companion value is exit 2 naming the flag', async () => {
    let r = await run(['auth:login', '--pipeliner-url', 'https://us-east.api.pipelinersales.com', '--pipeliner-username', USER, '--pipeliner-password', PASSWORD])
    expect(r.exit).to.equal(2)
    expect(r.stderr).to.contain('does not name a space')
    r = await run(['auth:login', '--pipeliner-url', PL_URL])
    expect(r.exit).to.equal(2)
    expect(r.stderr).to.contain('--pipeliner-username')
    r = await run(['auth:login', '--pipeliner-url', 'http://pipeliner.example.com/api/v100/rest/spaces/x', '--pipeliner-username', USER, '--pipeliner-password', PASSWORD])
    expect(r.exit).to.equal(2)
    expect(r.stderr).to.contain('Refusing plain http://')
  })

  it('status shows the Pipeliner values with their sources, the password masked; --verify checks them', async () => {
    await new ConfigStore(dir()).updateProfile('default', p => ({...p, pipelinerUrl: PL_URL}))
    const env = {PDHOOKS_PIPELINER_PASSWORD: PASSWORD, PDHOOKS_PIPELINER_USERNAME: USER}
    const r = await run(['auth:status', '--json'], env)
    expect(r.exit).to.equal(0)
    const pl = r.json().services.find((s: any) => s.service === 'pipeliner')
    expect(pl.configured).to.equal(true)
    const get = (key: string) => pl.settings.find((x: any) => x.key === key)
    expect(get('pipelinerUrl')).to.include({source: 'profile', value: PL_URL, variable: 'PDHOOKS_PIPELINER_URL'})
    expect(get('pipelinerUsername')).to.include({source: 'env', value: USER, variable: 'PDHOOKS_PIPELINER_USERNAME'})
    expect(get('pipelinerPassword')).to.include({source: 'env', value: 'pl-k…', variable: 'PDHOOKS_PIPELINER_PASSWORD'})
    const human = await run(['auth:status'], env)
    expect(human.stdout).to.contain('Pipeliner').and.contain('pl-k…').and.contain('PDHOOKS_PIPELINER_PASSWORD')
    expect(r.stdout + human.stdout).not.to.contain(PASSWORD)

    nock(PL, {reqheaders: {authorization: BASIC}}).get('/api/v100/rest/spaces/space-1/entities/Webhooks').query({first: '1'})
    .reply(403, {
      code: 403, http_status: 403, message: 'Forbidden', name: 'ERROR_FORBIDDEN', success: false,
    })
    const failed = await run(['auth:status', '--verify', '--json'], env)
    expect(failed.exit).to.equal(3)
    expect(failed.json().services.find((s: any) => s.service === 'pipeliner').verified).to.deep.include({ok: false, service: 'pipeliner'})
    nock(PL, {reqheaders: {authorization: BASIC}}).get('/api/v100/rest/spaces/space-1/entities/Webhooks').query({first: '1'}).reply(200, {data: [], success: true})
    const ok = await run(['auth:status', '--verify', '--json'], env)
    expect(ok.exit).to.equal(0)
    expect(ok.json().services.find((s: any) => s.service === 'pipeliner').verified).to.deep.equal({ok: true, service: 'pipeliner'})
    assertNockDone()
  })
})
