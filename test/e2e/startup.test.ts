// e2e: how bin/run.js starts the built CLI: the --version fast path answers exactly what oclif answers, Node's compile
// cache (Node >= 22.8) goes to oclif's cacheDir and never into the package, and the build's manifest is complete.
import {Config} from '@oclif/core'
import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {
  existsSync, mkdtempSync, readdirSync, readFileSync, rmSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'

import {COMMANDS} from '../../src/index.js'
import {
  binRun, cleanEnv, ensureBuilt, hasCompileCache, root, snapshot,
} from './helpers.js'

function run(args: string[], env: Record<string, string | undefined> = {}) {
  const merged: Record<string, string> = cleanEnv()
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete merged[k]
    else merged[k] = v
  }

  return spawnSync(process.execPath, args, {
    cwd: root, encoding: 'utf8', env: merged, timeout: 30_000,
  })
}

/** oclif's own answer: the bundle's run(), bypassing bin/run.js. */
function oclifRun(args: string[], env: Record<string, string | undefined> = {}) {
  const bundle = JSON.stringify(pathToFileURL(join(root, 'dist', 'index.js')).href)
  const code = `const {run, flush} = await import(${bundle}); await run(${JSON.stringify(args)}, ${JSON.stringify(pathToFileURL(binRun).href)}); await flush()`
  return run(['--input-type=module', '-e', code], env)
}

/** oclif's config.cacheDir for pdhooks under the environment `env` (loaded in this process, the env applied meanwhile). */
async function oclifCacheDir(env: Record<string, string | undefined>): Promise<string> {
  const saved = {...process.env}
  try {
    for (const [k, v] of Object.entries(env)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }

    return (await Config.load({root})).cacheDir
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k]
    Object.assign(process.env, saved)
  }
}

describe('e2e: start-up (bin/run.js)', () => {
  ensureBuilt()

  it('the manifest the build generated has every command', () => {
    const manifest = JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8'))
    expect(Object.keys(manifest.commands).sort()).to.deep.equal(Object.keys(COMMANDS).sort())
  })

  for (const flag of ['--version', '-v', 'version']) {
    it(`pdhooks ${flag} (answered without oclif) prints exactly what oclif prints`, () => {
      const fast = run([binRun, flag])
      const oclif = oclifRun([flag])
      expect(fast.status, fast.stderr).to.equal(0)
      expect(oclif.status, oclif.stderr).to.equal(0)
      expect(fast.stdout).to.equal(oclif.stdout)
      expect(fast.stdout).to.match(/^pdhooks\/\d+\.\d+\.\d+\S* \S+-\S+ node-v\d+\.\d+\.\d+\n$/)
    })
  }

  it('--version with other arguments goes to oclif', () => {
    const r = run([binRun, '--version', '--verbose'])
    expect(r.status, r.stderr).to.equal(0)
    expect(r.stdout).to.equal(oclifRun(['--version', '--verbose']).stdout)
  })

  describe(`Node's compile cache (${hasCompileCache ? 'on' : 'absent'} in Node ${process.version})`, () => {
    let dir = ''

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'pdhooks-cache-'))
    })

    afterEach(() => {
      rmSync(dir, {force: true, recursive: true})
    })

    const cases: Array<[string, (d: string) => Record<string, string | undefined>]> = [
      ['PDHOOKS_CACHE_DIR', d => ({PDHOOKS_CACHE_DIR: join(d, 'explicit'), XDG_CACHE_HOME: join(d, 'xdg')})],
      ['XDG_CACHE_HOME', d => ({HOME: join(d, 'home'), PDHOOKS_CACHE_DIR: undefined, XDG_CACHE_HOME: join(d, 'xdg')})],
      ['HOME (~/.cache)', d => ({HOME: join(d, 'home'), PDHOOKS_CACHE_DIR: undefined, XDG_CACHE_HOME: undefined})],
    ]
    for (const [name, envOf] of cases) {
      it(`lives in oclif's cacheDir (from ${name}), never in the package`, async () => {
        const env = envOf(dir)
        const dist = snapshot(join(root, 'dist'))
        const r = run([binRun, 'instance', 'callback-url', '20931'], env)
        expect(r.status, r.stderr).to.equal(0)
        expect(r.stderr).to.equal('')
        const cache = join(await oclifCacheDir(env), 'compile-cache')
        expect(cache.startsWith(dir)).to.equal(true)
        if (hasCompileCache) expect(readdirSync(cache).length, cache).to.be.greaterThan(0)
        else expect(existsSync(cache), cache).to.equal(false)
        // and the warm run answers the same
        expect(run([binRun, 'instance', 'callback-url', '20931'], env).stdout).to.equal(r.stdout)
        expect(snapshot(join(root, 'dist'))).to.deep.equal(dist)
        expect(existsSync(join(root, 'node_modules', '.cache', 'pdhooks'))).to.equal(false)
      })
    }

    it('NODE_DISABLE_COMPILE_CACHE=1 (Node\'s own switch) turns it off', () => {
      const r = run([binRun, 'instance', 'callback-url', '20931'], {NODE_DISABLE_COMPILE_CACHE: '1', PDHOOKS_CACHE_DIR: dir})
      expect(r.status, r.stderr).to.equal(0)
      expect(existsSync(join(dir, 'compile-cache'))).to.equal(false)
    })
  })

  // oclif sorts its command list with localeCompare at every start: the first call builds ICU's collator (~13 ms). A
  // preload counts the comparisons that reach String.prototype.localeCompare (ICU) during a run of the built CLI.
  describe('command list sorted without building ICU\'s collator (lib/cli/startup-collation)', () => {
    const preload = [
      'const icu = String.prototype.localeCompare; let n = 0;',
      'String.prototype.localeCompare = function (...a) { n++; return icu.apply(this, a) };',
      String.raw`process.on("exit", () => process.stderr.write("localeCompare calls: " + n + "\n"));`,
    ].join(' ')
    const counted = (env: Record<string, string | undefined>) => {
      const r = run(['--import', `data:text/javascript,${encodeURIComponent(preload)}`, binRun, 'help'], {LANG: undefined, LC_MESSAGES: undefined, ...env})
      expect(r.status, r.stderr).to.equal(0)
      return {calls: Number(/localeCompare calls: (\d+)/.exec(r.stderr)?.[1]), stdout: r.stdout}
    }

    it('in the C and English locales: no comparison reaches ICU, and the help lists the commands in the same order', () => {
      const plain = counted({LC_ALL: 'C.UTF-8'})
      expect(plain.calls).to.equal(0)
      expect(counted({LC_ALL: 'en_US.UTF-8'}).calls).to.equal(0)
      // the same run with ICU sorting (a locale the fast path leaves alone, whose collation orders these ids alike)
      const icu = counted({LC_ALL: 'de_DE.UTF-8'})
      expect(icu.calls).to.be.greaterThan(20)
      expect(plain.stdout).to.equal(icu.stdout)
    })

    it('in a locale that tailors Latin letters, ICU sorts as before', () => {
      expect(counted({LC_ALL: 'lt_LT.UTF-8'}).calls).to.be.greaterThan(20)
    })
  })
})
