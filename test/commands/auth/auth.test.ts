import {expect} from 'chai'
import nock from 'nock'
import {
  existsSync, readFileSync, statSync, writeFileSync,
} from 'node:fs'
import {join} from 'node:path'

import {ConfigStore} from '../../../src/lib/core/config.js'
import {
  assertNockDone, cleanNock, PD, run, stubPrompts,
} from '../../helpers.js'

const dir = () => process.env.PDHOOKS_CONFIG_DIR!
const file = () => join(dir(), 'config.json')
const profile = async (name: string) => new ConfigStore(dir()).getProfile(name)
const CE = 'https://api.cloud-elements.com'
const PL = 'https://us-east.api.pipelinersales.com'
const PL_URL = `${PL}/api/v100/rest/spaces/abc`

async function seedProfiles(): Promise<void> {
  const store = new ConfigStore(dir())
  await store.updateProfile('default', p => ({...p, pipedriveToken: 'tok-default-0123456789', pipedriveUrl: 'https://acme.pipedrive.com/api/v1'}))
  await store.updateProfile('staging', p => ({
    ...p, instance: {id: 20_931, name: 'crm'}, orgSecret: 'org-secret-0123456', userSecret: 'user-secret-0123456',
  }))
}

describe('auth', () => {
  afterEach(async () => {
    cleanNock()
    await new ConfigStore(dir()).removeAll()
  })

  describe('login', () => {
    it('verifies each service with one cheap read, then stores (mode 0600)', async () => {
      nock(PD, {reqheaders: {'x-api-token': 'pd-token-abcdefghijkl'}}).get('/v1/webhooks').reply(200, {data: []})
      nock(CE, {reqheaders: {authorization: 'User user-secret-abcdef, Organization org-secret-abcdef'}}).get('/elements/api-v2/instances').reply(200, [])
      nock(PL, {reqheaders: {authorization: `Basic ${Buffer.from('key:pl-password-abcdef').toString('base64')}`}})
      .get('/api/v100/rest/spaces/abc/entities/Webhooks').query({first: '1'}).reply(200, {data: [], success: true})
      const r = await run(['auth:login',
        '--pipedrive-token',
        'pd-token-abcdefghijkl',
        '--user-secret',
        'user-secret-abcdef',
        '--org-secret',
        'org-secret-abcdef',
        '--pipeliner-url',
        PL_URL,
        '--pipeliner-username',
        'key',
        '--pipeliner-password',
        'pl-password-abcdef',
        '--json'])
      expect(r.exit, r.stdout).to.equal(0)
      const doc = r.json()
      expect(doc.services).to.deep.equal(['pipedrive', 'elements', 'pipeliner'])
      expect(doc.verified.every((v: any) => v.ok)).to.equal(true)
      expect(r.stdout).not.to.match(/pd-token-abcdefghijkl|user-secret-abcdef|pl-password-abcdef/)
      expect(statSync(file()).mode & 0o777).to.equal(0o600)
      expect(await profile('default')).to.deep.equal({
        orgSecret: 'org-secret-abcdef', pipedriveToken: 'pd-token-abcdefghijkl', pipelinerPassword: 'pl-password-abcdef',
        pipelinerUrl: PL_URL, pipelinerUsername: 'key', userSecret: 'user-secret-abcdef',
      })
      assertNockDone()
    })

    it('stores nothing when a check fails (exit 3)', async () => {
      const before = existsSync(file()) ? readFileSync(file(), 'utf8') : undefined
      nock(PD).get('/v1/webhooks').reply(200, {data: []})
      nock(CE).get('/elements/api-v2/instances').reply(401, {message: 'Invalid Organization or User secret, or invalid Element token provided.', requestId: 'req-1'})
      const r = await run(['auth:login', '--pipedrive-token', 'pd-token-abcdefghijkl', '--user-secret', 'bad-user-secret', '--org-secret', 'bad-org-secret', '--json'])
      expect(r.exit).to.equal(3)
      expect(r.json().error.message).to.contain('Cloud Elements rejected').and.contain('Nothing was stored')
      expect(existsSync(file()) ? readFileSync(file(), 'utf8') : undefined).to.equal(before)
      expect(await profile('default')).to.equal(undefined)
    })

    it('normalizes a company domain and stores into the named profile', async () => {
      nock('https://acme.pipedrive.com').get('/api/v1/webhooks').reply(200, {data: []})
      const r = await run(['auth:login', '--pipedrive-url', 'acme', '--pipedrive-token', 'pd-token-abcdefghijkl', '--profile', 'acme'])
      expect(r.exit).to.equal(0)
      expect((await profile('acme'))?.pipedriveUrl).to.equal('https://acme.pipedrive.com/api/v1')
      expect(await profile('default')).to.equal(undefined)
    })

    it('--no-verify stores without a request', async () => {
      const r = await run(['auth:login', '--pipedrive-access-token', 'oauth-token-abcdefgh', '--no-verify'])
      expect(r.exit).to.equal(0)
      expect((await profile('default'))?.pipedriveAccessToken).to.equal('oauth-token-abcdefgh')
    })

    it('off a terminal, a missing companion value is exit 2 naming the flag', async () => {
      const r = await run(['auth:login', '--user-secret', 'user-secret-abcdef'])
      expect(r.exit).to.equal(2)
      expect(r.stderr).to.contain('--org-secret')
      expect((await run(['auth:login'])).exit).to.equal(2)
    })

    it('asks on a terminal for what is missing (secrets hidden)', async () => {
      const asked: string[] = []
      const restore = stubPrompts({
        async input(m: string) {
          asked.push(`input:${m}`)
          return ''
        },
        interactive: () => true,
        async password(m: string) {
          asked.push(`password:${m}`)
          return 'org-secret-prompted'
        },
      })
      nock(CE).get('/elements/api-v2/instances').reply(200, [])
      try {
        const r = await run(['auth:login', '--user-secret', 'user-secret-abcdef'])
        expect(r.exit).to.equal(0)
      } finally {
        restore()
      }

      expect(asked).to.deep.equal(['password:Cloud Elements organization secret:'])
      expect((await profile('default'))?.orgSecret).to.equal('org-secret-prompted')
    })

    it('a corrupt config file is exit 1 naming it, and left as it was', async () => {
      writeFileSync(file(), '{"profiles":', {mode: 0o600})
      const r = await run(['auth:login', '--pipedrive-token', 'pd-token-abcdefghijkl', '--no-verify'])
      expect(r.exit).to.equal(1)
      expect(r.stderr).to.contain(file())
      expect(readFileSync(file(), 'utf8')).to.equal('{"profiles":')
      writeFileSync(file(), '{}')
    })
  })

  describe('status', () => {
    it('shows each value masked with its source (flag > env > profile)', async () => {
      await new ConfigStore(dir()).updateProfile('default', p => ({...p, pipedriveToken: 'stored-token-abcdefgh', userSecret: 'stored-user-secret'}))
      const r = await run(['auth:status', '--json'], {PDHOOKS_ORG_SECRET: 'env-org-secret-abcdef'})
      expect(r.exit).to.equal(0)
      const doc = r.json()
      const get = (svc: string, key: string) => doc.services.find((s: any) => s.service === svc).settings.find((x: any) => x.key === key)
      expect(get('pipedrive', 'pipedriveToken')).to.include({source: 'profile', value: 'stor…'})
      expect(get('pipedrive', 'pipedriveUrl')).to.include({source: 'default', value: 'https://api.pipedrive.com/v1'})
      expect(get('elements', 'orgSecret')).to.include({source: 'env', value: 'env-…'})
      expect(get('elements', 'userSecret')).to.include({source: 'profile', value: 'stor…'})
      expect(doc.services.map((s: any) => s.configured)).to.deep.equal([true, true, false])
      expect(r.stdout).not.to.match(/stored-token-abcdefgh|env-org-secret-abcdef|stored-user-secret/)
      const human = await run(['auth:status'])
      expect(human.stdout).to.contain('Pipedrive').and.contain('stor…').and.contain('PDHOOKS_PIPEDRIVE_TOKEN')
    })

    it('--verify makes the live checks; a failure is exit 3', async () => {
      nock(PD).get('/v1/webhooks').reply(401, {error: 'unauthorized access', errorCode: 401, success: false})
      const r = await run(['auth:status', '--verify', '--json'], {PDHOOKS_PIPEDRIVE_TOKEN: 'env-token-abcdefgh'})
      expect(r.exit).to.equal(3)
      expect(r.json().services[0].verified.ok).to.equal(false)
      expect(r.json().error).to.deep.equal({code: 'check_failed', message: 'Check failed for Pipedrive.', status: null})
      nock(PD).get('/v1/webhooks').reply(401, {error: 'unauthorized access', errorCode: 401, success: false})
      const human = await run(['auth:status', '--verify'], {PDHOOKS_PIPEDRIVE_TOKEN: 'env-token-abcdefgh'})
      expect(human.exit).to.equal(3)
      expect(human.stderr).to.contain('Error: Check failed for Pipedrive.')
      nock(PD).get('/v1/webhooks').reply(200, {data: []})
      const ok = await run(['auth:status', '--verify'], {PDHOOKS_PIPEDRIVE_TOKEN: 'env-token-abcdefgh'})
      expect(ok.exit).to.equal(0)
      expect(ok.stdout).to.contain('verified')
    })
  })

  describe('logout', () => {
    it('removes a profile, or all of them', async () => {
      const store = new ConfigStore(dir())
      await store.updateProfile('default', p => ({...p, pipedriveToken: 'tok-abcdefghijkl'}))
      await store.updateProfile('other', p => ({...p, pipedriveToken: 'tok-abcdefghijkl'}))
      let r = await run(['auth:logout', '--json'])
      expect(r.json().removed).to.deep.equal(['default'])
      expect(new ConfigStore(dir()).listProfiles()).to.deep.equal(['other'])
      r = await run(['auth:logout', '--all', '--yes'])
      expect(r.stdout).to.contain('"other"')
      expect(new ConfigStore(dir()).listProfiles()).to.deep.equal([])
      r = await run(['auth:logout'])
      expect(r.stdout).to.contain('Nothing stored')
      r = await run(['auth:logout', '--all'])
      expect(r.exit).to.equal(0)
      expect(r.stdout).to.contain('Nothing stored for any profile.')
    })

    it('--all off a terminal needs --yes (exit 2, nothing removed)', async () => {
      const store = new ConfigStore(dir())
      await store.updateProfile('a', p => ({...p, pipedriveToken: 'tok-abcdefghijkl'}))
      await store.updateProfile('b', p => ({...p, pipedriveToken: 'tok-abcdefghijkl'}))
      let r = await run(['auth:logout', '--all'])
      expect(r.exit).to.equal(2)
      expect(r.stderr).to.equal('Error: Refusing to remove all 2 stored profiles without confirmation. Pass --yes to confirm (not a terminal).\n')
      r = await run(['auth:logout', '--all', '--json'])
      expect(r.exit).to.equal(2)
      expect(r.json().error).to.include({code: 'confirmation_required'})
      expect(new ConfigStore(dir()).listProfiles()).to.deep.equal(['a', 'b'])
      r = await run(['auth:logout', '--all', '--yes', '--json'])
      expect(r.exit).to.equal(0)
      expect(r.json().removed).to.deep.equal(['a', 'b'])
    })
  })

  describe('profiles', () => {
    it('--profile NAME that does not exist says so and lists the stored ones (exit 2), before any request', async () => {
      await seedProfiles()
      let r = await run(['webhook:list', '--profile', 'stagng'])
      expect(r.exit).to.equal(2)
      const hint = 'Did you mean --profile staging? Store it with "pdhooks auth login --profile stagng …", or pass the credentials as flags or PDHOOKS_* variables.'
      expect(r.stderr).to.equal(`Error: Profile "stagng" does not exist (stored profiles: default, staging). ${hint}\n`)
      r = await run(['instance:list', '--json'], {PDHOOKS_PROFILE: 'prod'})
      expect(r.exit).to.equal(2)
      expect(r.json().error).to.include({code: 'profile_not_found'})
      expect(r.json().error.message).to.contain('Profile "prod" does not exist (stored profiles: default, staging).')
      await new ConfigStore(dir()).removeAll()
      r = await run(['pipeliner:webhook:list', '--profile', 'x'])
      expect(r.stderr).to.contain(`Profile "x" does not exist (no profile is stored in ${file()}).`)
    })

    it('a profile named only to store into, or whose values all come from variables, still works', async () => {
      await seedProfiles()
      nock(PD, {reqheaders: {'x-api-token': 'pd-token-abcdefghijkl'}}).get('/v1/webhooks').reply(200, {data: [], success: true})
      let r = await run(['auth:login', '--profile', 'new', '--pipedrive-token', 'pd-token-abcdefghijkl'])
      expect(r.exit, r.stderr).to.equal(0)
      expect((await profile('new'))?.pipedriveToken).to.equal('pd-token-abcdefghijkl')
      nock(PD, {reqheaders: {'x-api-token': 'pd-token-from-env-0123'}}).get('/v1/webhooks').reply(200, {data: [], success: true})
      r = await run(['webhook:list', '--profile', 'elsewhere'], {PDHOOKS_PIPEDRIVE_TOKEN: 'pd-token-from-env-0123'})
      expect(r.exit, r.stderr).to.equal(0)
      assertNockDone()
      // "default" is never reported missing: no credentials is then what is wrong
      await new ConfigStore(dir()).removeAll()
      r = await run(['webhook:list'])
      expect(r.exit).to.equal(3)
      expect(r.stderr).to.contain('No Pipedrive credentials.')
    })

    it('auth status --profile NAME that does not exist warns and shows what flags and variables give', async () => {
      await seedProfiles()
      const r = await run(['auth:status', '--profile', 'nope'], {PDHOOKS_PIPEDRIVE_TOKEN: 'pd-token-from-env-0123'})
      expect(r.exit).to.equal(0)
      expect(r.stderr).to.contain('Warning: Profile "nope" does not exist (stored profiles: default, staging). Showing the values flags and variables give.')
      expect(r.stdout).to.contain('Pipedrive: configured')
    })

    it('auth status --all shows every stored profile, the one in use marked', async () => {
      await seedProfiles()
      let r = await run(['auth:status', '--all'], {PDHOOKS_PROFILE: 'staging'})
      expect(r.exit).to.equal(0)
      const lines = r.stdout.trimEnd().split('\n')
      expect(lines[0].split(/\s{2,}/)).to.deep.equal(['PROFILE', 'PIPEDRIVE', 'CLOUD ELEMENTS', 'PIPELINER', 'INSTANCE'])
      expect(lines[1].split(/\s{2,}/)).to.deep.equal(['default', 'acme.pipedrive.com', '-', '-', '-'])
      expect(lines[2].split(/\s{2,}/)).to.deep.equal(['*staging', '-', 'api.cloud-elements.com', '-', '20931 (crm)'])
      expect(r.stdout).not.to.match(/tok-default|secret-0123/)
      r = await run(['auth:status', '--all', '--json'], {PDHOOKS_PIPEDRIVE_TOKEN: 'pd-token-from-env-0123'})
      const doc = r.json()
      expect(doc.current).to.equal('default')
      expect(doc.profiles.map((p: any) => [p.name, p.current, p.services.pipedrive.configured, p.services.elements.configured])).to.deep.equal([
        ['default', true, true, false], ['staging', false, false, true],
      ])
      expect(doc.profiles[1].instance).to.deep.equal({id: 20_931, name: 'crm'})
      r = await run(['auth:status', '--all'], {PDHOOKS_PIPEDRIVE_TOKEN: 'pd-token-from-env-0123'})
      expect(r.stderr).to.contain('PDHOOKS_PIPEDRIVE_TOKEN is set in this environment: it overrides what these profiles hold.')
      r = await run(['auth:status', '--all', '--verify'])
      expect(r.exit).to.equal(2)
      expect(r.stderr).to.contain('--verify cannot be used with --all.')
      await new ConfigStore(dir()).removeAll()
      r = await run(['auth:status', '--all'])
      expect(r.stdout).to.contain('No profile is stored in')
    })
  })
})
