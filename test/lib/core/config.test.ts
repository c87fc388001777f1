import {expect} from 'chai'
import {
  existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {ConfigStore, profileName, Settings} from '../../../src/lib/core/config.js'
import {PdhooksError} from '../../../src/lib/core/errors.js'

const fresh = () => new ConfigStore(mkdtempSync(join(tmpdir(), 'pdhooks-conf-')))

async function failure(fn: () => Promise<unknown>): Promise<PdhooksError> {
  try {
    await fn()
  } catch (error) {
    expect(error).to.be.instanceOf(PdhooksError)
    return error as PdhooksError
  }

  throw new Error('expected a failure')
}

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

  for (const [what, text] of [['empty', ''], ['whitespace-only', ' \n\t\n']] as const) {
    it(`an ${what} file is corrupt: exit 1 naming its path, file untouched`, async () => {
      const store = fresh()
      writeFileSync(store.path, text, {mode: 0o600})
      expect(() => store.read()).to.throw(store.path)
      const err = await failure(() => store.updateProfile('default', p => ({...p, pipedriveToken: 'tok-0123456789'})))
      expect(err.exit).to.equal(1)
      expect(err.message).to.contain(store.path).and.contain('empty')
      expect(readFileSync(store.path, 'utf8')).to.equal(text)
    })
  }

  it('writes through a symlinked config file (the link stays a link)', async () => {
    const store = fresh()
    const elsewhere = mkdtempSync(join(tmpdir(), 'pdhooks-dotfiles-'))
    const real = join(elsewhere, 'pdhooks.json')
    writeFileSync(real, JSON.stringify({profiles: {old: {pipedriveToken: 'tok-old-0123456789'}}}), {mode: 0o644})
    symlinkSync(real, store.path)
    await store.updateProfile('new', p => ({...p, pipedriveToken: 'tok-new-0123456789'}))
    expect(lstatSync(store.path).isSymbolicLink()).to.equal(true)
    expect(JSON.parse(readFileSync(real, 'utf8')).profiles).to.have.keys('old', 'new')
    expect(statSync(real).mode & 0o777).to.equal(0o600)
  })

  it('a symlink to a file that does not exist yet: the file is created, the link kept', async () => {
    const store = fresh()
    const real = join(mkdtempSync(join(tmpdir(), 'pdhooks-dotfiles-')), 'sub', 'pdhooks.json')
    symlinkSync(real, store.path)
    await store.updateProfile('default', p => ({...p, pipedriveToken: 'tok-0123456789'}))
    expect(lstatSync(store.path).isSymbolicLink()).to.equal(true)
    expect(JSON.parse(readFileSync(real, 'utf8')).profiles.default.pipedriveToken).to.equal('tok-0123456789')
  })

  it('a config folder that cannot be created is exit 1 naming the path and PDHOOKS_CONFIG_DIR', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'pdhooks-conf-'))
    writeFileSync(join(parent, 'file'), 'not a folder')
    const store = new ConfigStore(join(parent, 'file', 'pdhooks'))
    const err = await failure(() => store.updateProfile('default', p => ({...p, pipedriveToken: 'tok-0123456789'})))
    expect(err.exit).to.equal(1)
    expect(err.code).to.equal('config_unwritable')
    expect(err.line).to.contain(store.path).and.contain('PDHOOKS_CONFIG_DIR')
  })

  it('takes over a lock left by a process that died (stale), and removes its own lock', async () => {
    const store = fresh()
    const lock = `${store.path}.lock`
    mkdirSync(lock)
    const old = new Date(Date.now() - 60_000)
    utimesSync(lock, old, old)
    const t0 = Date.now()
    await store.updateProfile('default', p => ({...p, pipedriveToken: 'tok-0123456789'}))
    expect(Date.now() - t0).to.be.below(2000)
    expect(existsSync(lock)).to.equal(false)
    expect(new ConfigStore(store.dir).listProfiles()).to.deep.equal(['default'])
  })

  it('a lock held by a live process and not released in time is exit 1 naming the file; nothing is written', async () => {
    const store = fresh()
    writeFileSync(store.path, '{"profiles":{}}', {mode: 0o600})
    const lock = `${store.path}.lock`
    mkdirSync(lock)
    // the holder keeps its lock fresh, as proper-lockfile does
    const refresh = setInterval(() => {
      const now = new Date()
      utimesSync(lock, now, now)
    }, 100)
    process.env.PDHOOKS_LOCK_TIMEOUT_MS = '600'
    try {
      const t0 = Date.now()
      const err = await failure(() => store.updateProfile('default', p => ({...p, pipedriveToken: 'tok-0123456789'})))
      expect(Date.now() - t0).to.be.within(500, 3000)
      expect(err.exit).to.equal(1)
      expect(err.code).to.equal('config_locked')
      expect(err.line).to.contain(store.path).and.contain(lock)
      expect(readFileSync(store.path, 'utf8')).to.equal('{"profiles":{}}')
    } finally {
      clearInterval(refresh)
    }
  })

  it('re-reads the file under the lock: a write made by another process meanwhile is kept', async () => {
    const store = fresh()
    await store.updateProfile('a', p => ({...p, pipedriveToken: 'tok-a-0123456789'}))
    expect(store.listProfiles()).to.deep.equal(['a'])
    // another process writes profile b after this store cached the file
    await new ConfigStore(store.dir).updateProfile('b', p => ({...p, pipedriveToken: 'tok-b-0123456789'}))
    await store.updateProfile('c', p => ({...p, pipedriveToken: 'tok-c-0123456789'}))
    expect(new ConfigStore(store.dir).listProfiles()).to.deep.equal(['a', 'b', 'c'])
  })
})
