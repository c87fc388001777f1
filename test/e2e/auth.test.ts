// e2e: auth login / status against the sandbox, with the built CLI as a child process.
import {expect} from 'chai'
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import {PL_HOOKS, PL_SPACE} from '../support/fixtures.js'
import {
  CREDENTIALS, explain, masked, root, useSandbox,
} from './helpers.js'

const {version} = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {version: string}

/** The environment without any credential or URL: only what is stored can be used. */
const bare = {
  PDHOOKS_ELEMENTS_URL: undefined,
  PDHOOKS_ORG_SECRET: undefined,
  PDHOOKS_PIPEDRIVE_TOKEN: undefined,
  PDHOOKS_PIPEDRIVE_URL: undefined,
  PDHOOKS_PIPELINER_PASSWORD: undefined,
  PDHOOKS_PIPELINER_URL: undefined,
  PDHOOKS_PIPELINER_USERNAME: undefined,
  PDHOOKS_USER_SECRET: undefined,
}

describe('e2e: auth', () => {
  const e2e = useSandbox()
  const config = () => JSON.parse(readFileSync(join(e2e.configDir, 'config.json'), 'utf8'))

  it('auth login verifies each service with one cheap read, then stores; auth status --verify uses the profile', async function () {
    this.timeout(30_000)
    const login = await e2e.run([
      'auth',
      'login',
      '--json',
      '--pipedrive-url',
      `${e2e.url}/v1`,
      '--pipedrive-token',
      CREDENTIALS.PDHOOKS_PIPEDRIVE_TOKEN,
      '--elements-url',
      `${e2e.url}/elements/api-v2`,
      '--user-secret',
      CREDENTIALS.PDHOOKS_USER_SECRET,
      '--org-secret',
      CREDENTIALS.PDHOOKS_ORG_SECRET,
      '--pipeliner-url',
      `${e2e.url}${PL_SPACE}`,
      '--pipeliner-username',
      CREDENTIALS.PDHOOKS_PIPELINER_USERNAME,
      '--pipeliner-password',
      CREDENTIALS.PDHOOKS_PIPELINER_PASSWORD,
    ], {env: bare})
    expect(login.code, explain(login)).to.equal(0)
    const doc = login.json()
    expect(doc.profile).to.equal('default')
    expect(doc.verified.map((v: any) => v.service).sort()).to.deep.equal(['elements', 'pipedrive', 'pipeliner'])
    expect(doc.verified.every((v: any) => v.ok === true)).to.equal(true)

    const stored = config().profiles.default
    expect(stored.pipedriveToken).to.equal(CREDENTIALS.PDHOOKS_PIPEDRIVE_TOKEN)
    expect(stored.userSecret).to.equal(CREDENTIALS.PDHOOKS_USER_SECRET)
    expect(stored.orgSecret).to.equal(CREDENTIALS.PDHOOKS_ORG_SECRET)
    expect(stored.pipelinerPassword).to.equal(CREDENTIALS.PDHOOKS_PIPELINER_PASSWORD)

    const reqs = await e2e.requests()
    const pd = reqs.find(r => r.path === '/v1/webhooks')!
    expect(pd.method).to.equal('GET')
    expect(pd.headers['x-api-token']).to.equal(masked(CREDENTIALS.PDHOOKS_PIPEDRIVE_TOKEN)) // the sandbox log redacts it
    expect(pd.headers['user-agent']).to.equal(`pdhooks/${version}`)
    const ce = reqs.find(r => r.path === '/elements/api-v2/instances')!
    expect(ce.method).to.equal('GET')
    expect(ce.headers.authorization).to.equal(`User ${masked(CREDENTIALS.PDHOOKS_USER_SECRET)}, Organization ${masked(CREDENTIALS.PDHOOKS_ORG_SECRET)}`)
    expect(ce.headers['user-agent']).to.equal(`pdhooks/${version}`)
    const pl = reqs.find(r => r.path === PL_HOOKS)!
    expect(pl.method).to.equal('GET')
    expect(pl.query.first).to.equal('1')
    expect(pl.headers.authorization).to.match(/^Basic /)
    expect(reqs.every(r => r.method === 'GET'), 'login only reads').to.equal(true)

    // no credential in the environment: everything comes from the stored profile
    const status = await e2e.run(['auth', 'status', '--verify', '--json'], {env: bare})
    expect(status.code, explain(status)).to.equal(0)
    const s = status.json()
    for (const service of s.services) {
      expect(service.verified, service.service).to.deep.include({ok: true})
    }

    const token = s.services.find((x: any) => x.service === 'pipedrive').settings.find((x: any) => x.key === 'pipedriveToken')
    expect(token).to.deep.include({source: 'profile', value: masked(CREDENTIALS.PDHOOKS_PIPEDRIVE_TOKEN)})
    const human = await e2e.run(['auth', 'status'], {env: bare})
    expect(human.code, explain(human)).to.equal(0)
    expect(human.stdout).to.include(masked(CREDENTIALS.PDHOOKS_USER_SECRET))
  })

  it('auth login stores nothing when a check answers 401 (exit 3)', async function () {
    this.timeout(30_000)
    await e2e.fault({
      method: 'GET', path: '/v1/webhooks', status: 401, body: {success: false, error: 'unauthorized access', errorCode: 401},
    })
    const r = await e2e.run([
      'auth',
      'login',
      '--json',
      '--pipedrive-url',
      `${e2e.url}/v1`,
      '--pipedrive-token',
      CREDENTIALS.PDHOOKS_PIPEDRIVE_TOKEN,
      '--user-secret',
      CREDENTIALS.PDHOOKS_USER_SECRET,
      '--org-secret',
      CREDENTIALS.PDHOOKS_ORG_SECRET,
    ], {env: {...bare, PDHOOKS_ELEMENTS_URL: `${e2e.url}/elements/api-v2`}})
    expect(r.code, explain(r)).to.equal(3)
    const err = r.json().error
    expect(err.code).to.equal('auth')
    expect(err.message).to.match(/401/)
    const file = join(e2e.configDir, 'config.json')
    if (existsSync(file)) {
      const text = readFileSync(file, 'utf8')
      expect(text).not.to.include(CREDENTIALS.PDHOOKS_PIPEDRIVE_TOKEN)
      expect(text).not.to.include(CREDENTIALS.PDHOOKS_USER_SECRET)
    }

    // and the human form is one line on stderr, nothing on stdout
    await e2e.fault({
      method: 'GET', path: '/v1/webhooks', status: 401, body: {success: false, error: 'unauthorized access', errorCode: 401},
    })
    const human = await e2e.run(['auth', 'login', '--pipedrive-token', CREDENTIALS.PDHOOKS_PIPEDRIVE_TOKEN])
    expect(human.code, explain(human)).to.equal(3)
    expect(human.stdout).to.equal('')
    expect(human.stderr.trim().split('\n')).to.have.length(1)
    expect(human.stderr).to.match(/^Error: .*401/)
  })

  it('auth login --json carries the HTTP status of the failed check', async function () {
    this.timeout(30_000)
    await e2e.fault({
      method: 'GET', path: '/v1/webhooks', status: 401, body: {success: false, error: 'unauthorized access', errorCode: 401},
    })
    const r = await e2e.run(['auth', 'login', '--json', '--pipedrive-token', CREDENTIALS.PDHOOKS_PIPEDRIVE_TOKEN])
    expect(r.code, explain(r)).to.equal(3)
    expect(r.json().error.status).to.equal(401)
  })
})
