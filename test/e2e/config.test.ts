// e2e: the config file under concurrent pdhooks processes, and when it cannot be written (real child processes).
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {
  chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {ensureBuilt, explain, pdhooks} from './helpers.js'

describe('e2e: config file integrity', () => {
  ensureBuilt()
  let dir = ''

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pdhooks-e2e-config-'))
  })

  afterEach(() => {
    chmodSync(dir, 0o700)
    rmSync(dir, {force: true, recursive: true})
  })

  const profiles = () => JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).profiles

  it('20 concurrent auth login keep all 20 profiles', async function () {
    this.timeout(60_000)
    const t0 = Date.now()
    const runs = await Promise.all(Array.from({length: 20}, (_, i) => pdhooks(
      ['auth', 'login', '--no-verify', '--profile', `p${i}`, '--pipedrive-token', `tok${i}-0123456789abcdef`],
      // the lock wait is 5 s by default; 20 Node start-ups on a loaded 2-core machine can queue longer than that
      {env: {PDHOOKS_CONFIG_DIR: dir, PDHOOKS_LOCK_TIMEOUT_MS: '30000'}, timeoutMs: 40_000},
    )))
    const ms = Date.now() - t0
    for (const r of runs) expect(r.code, explain(r)).to.equal(0)
    const stored = profiles()
    expect(Object.keys(stored)).to.have.lengthOf(20)
    for (let i = 0; i < 20; i++) expect(stored[`p${i}`].pipedriveToken).to.equal(`tok${i}-0123456789abcdef`)
    expect(statSync(join(dir, 'config.json')).mode & 0o777).to.equal(0o600)
    if (process.env.E2E_TIMING) console.error(`20 concurrent logins: ${ms} ms`)
  })

  it('concurrent logins and logouts of other profiles lose nothing', async function () {
    this.timeout(60_000)
    const seed: Record<string, unknown> = {}
    for (let i = 0; i < 8; i++) seed[`old${i}`] = {pipedriveToken: `old${i}-0123456789abcdef`}
    writeFileSync(join(dir, 'config.json'), JSON.stringify({profiles: seed}), {mode: 0o600})
    const runs = await Promise.all([
      ...Array.from({length: 8}, (_, i) => pdhooks(['auth', 'login', '--no-verify', '--profile', `new${i}`, '--pipedrive-token', `new${i}-0123456789abcdef`], {env: {PDHOOKS_CONFIG_DIR: dir}, timeoutMs: 40_000})),
      ...Array.from({length: 4}, (_, i) => pdhooks(['auth', 'logout', '--profile', `old${i}`], {env: {PDHOOKS_CONFIG_DIR: dir}, timeoutMs: 40_000})),
    ])
    for (const r of runs) expect(r.code, explain(r)).to.equal(0)
    expect(Object.keys(profiles()).sort()).to.deep.equal(['new0', 'new1', 'new2', 'new3', 'new4', 'new5', 'new6', 'new7', 'old4', 'old5', 'old6', 'old7'])
  })

  it('an empty config file is exit 1 naming it, and stays untouched', async () => {
    writeFileSync(join(dir, 'config.json'), '\n', {mode: 0o600})
    const r = await pdhooks(['auth', 'login', '--no-verify', '--pipedrive-token', 'tok-0123456789abcdef'], {env: {PDHOOKS_CONFIG_DIR: dir}})
    expect(r.code, explain(r)).to.equal(1)
    expect(r.stderr).to.contain(join(dir, 'config.json')).and.contain('empty')
    expect(readFileSync(join(dir, 'config.json'), 'utf8')).to.equal('\n')
    const status = await pdhooks(['auth', 'status', '--json'], {env: {PDHOOKS_CONFIG_DIR: dir}})
    expect(status.code, explain(status)).to.equal(1)
    expect(status.json().error.message).to.contain(join(dir, 'config.json'))
  })

  it('an unwritable config folder is exit 1 naming the path and PDHOOKS_CONFIG_DIR', async function () {
    // as root, permissions do not stop writes: run the CLI as an unprivileged user then
    const asUser = process.getuid?.() === 0 ? {gid: 65_534, uid: 65_534} : undefined
    // (a Node that lives in root's own folders, such as the cached Node 24, cannot be run by that user)
    if (asUser && spawnSync(process.execPath, ['-e', '0'], asUser).status !== 0) this.skip()
    if (asUser) chmodSync(dir, 0o755)
    const ro = join(dir, 'ro')
    mkdirSync(ro, {mode: 0o555})
    chmodSync(ro, 0o555)
    const home = join(dir, 'home')
    mkdirSync(home, {mode: 0o777})
    chmodSync(home, 0o777)
    // the other user could not write coverage data where c8 collects it; Node gives NODE_V8_COVERAGE back to every child
    // process unless it is set to the empty string
    const env = {HOME: home, NODE_V8_COVERAGE: '', PDHOOKS_CONFIG_DIR: ro}
    const r = await pdhooks(['auth', 'login', '--no-verify', '--pipedrive-token', 'tok-0123456789abcdef'], {env, spawn: asUser})
    if (r.code === 0 && !asUser) this.skip()
    expect(r.code, explain(r)).to.equal(1)
    expect(r.stderr, JSON.stringify(r.stderr)).to.match(/^Error: Cannot write the config file .*ro\/config\.json \(permission denied, EACCES\)\. Make .* writable, or set PDHOOKS_CONFIG_DIR to a writable folder\.\n$/)
    const json = await pdhooks(['auth', 'login', '--no-verify', '--pipedrive-token', 'tok-0123456789abcdef', '--json'], {env, spawn: asUser})
    expect(json.code, explain(json)).to.equal(1)
    expect(json.json().error).to.include({code: 'config_unwritable'})
  })
})
