import {expect} from 'chai'
import {
  mkdtempSync, readFileSync, statSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {ConfigStore, profileName, Settings} from '../../src/lib/config.js'
import {PdhooksError} from '../../src/lib/errors.js'

const fresh = () => new ConfigStore(mkdtempSync(join(tmpdir(), 'pdhooks-conf-')))

describe('config store', () => {
  const saved = {...process.env}

  afterEach(() => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k]
    Object.assign(process.env, saved)
  })

  it('writes config.json with mode 0600 and keeps profiles apart', async () => {
    const store = fresh()
    await store.updateProfile('default', p => ({...p, pipedriveToken: 'tok-default-123456'}))
    await store.updateProfile('staging', p => ({...p, pipedriveToken: 'tok-staging-123456'}))
    expect(statSync(store.path).mode & 0o777).to.equal(0o600)
    const again = new ConfigStore(store.dir)
    expect((await again.getProfile('default'))?.pipedriveToken).to.equal('tok-default-123456')
    expect((await again.getProfile('staging'))?.pipedriveToken).to.equal('tok-staging-123456')
    expect(again.listProfiles()).to.deep.equal(['default', 'staging'])
    expect(await again.removeProfile('staging')).to.equal(true)
    expect(new ConfigStore(store.dir).listProfiles()).to.deep.equal(['default'])
  })

  it('resolves flag > env > profile, and says where each value comes from', async () => {
    const store = fresh()
    await store.updateProfile('default', p => ({...p, pipedriveToken: 'from-profile-1234', pipedriveUrl: 'acme'}))
    let s = new Settings({profile: 'default', store})
    expect(await s.get('pipedriveToken')).to.deep.equal({source: 'profile', value: 'from-profile-1234'})
    process.env.PDHOOKS_PIPEDRIVE_TOKEN = 'from-env-123456'
    s = new Settings({profile: 'default', store})
    expect(await s.get('pipedriveToken')).to.deep.equal({source: 'env', value: 'from-env-123456'})
    s = new Settings({flags: {pipedriveToken: 'from-flag-123456'}, profile: 'default', store})
    expect(await s.get('pipedriveToken')).to.deep.equal({source: 'flag', value: 'from-flag-123456'})
    expect(await s.get('userSecret')).to.deep.equal({source: 'default', value: undefined})
  })

  it('does not read the file when flags and env give the value', async () => {
    const store = fresh()
    writeFileSync(store.path, '{broken')
    process.env.PDHOOKS_PIPEDRIVE_TOKEN = 'from-env-123456'
    const s = new Settings({profile: 'default', store})
    expect(await s.value('pipedriveToken')).to.equal('from-env-123456')
  })

  it('chooses the profile from the flag, then PDHOOKS_PROFILE, then "default"', () => {
    delete process.env.PDHOOKS_PROFILE
    expect(profileName()).to.equal('default')
    process.env.PDHOOKS_PROFILE = 'ci'
    expect(profileName()).to.equal('ci')
    expect(profileName('x')).to.equal('x')
  })

  it('a corrupt file is an error naming its path, and is left exactly as it was', async () => {
    const store = fresh()
    writeFileSync(store.path, '{"profiles": {"default": ', {mode: 0o600})
    const before = readFileSync(store.path)
    let err: unknown
    try {
      await store.updateProfile('default', p => ({...p, pipedriveToken: 'x'}))
    } catch (error) {
      err = error
    }

    expect(err).to.be.instanceOf(PdhooksError)
    expect((err as PdhooksError).message).to.contain(store.path)
    expect((err as PdhooksError).exit).to.equal(1)
    expect(readFileSync(store.path).equals(before)).to.equal(true)
    expect(() => new ConfigStore(store.dir).read()).to.throw(store.path)
  })

  it('rejects a file whose profiles are not an object', () => {
    const store = fresh()
    writeFileSync(store.path, '{"profiles": []}')
    expect(() => store.read()).to.throw(/profiles/)
  })
})
