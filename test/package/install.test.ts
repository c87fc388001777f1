// The package as users get it: `npm pack` of this checkout (its prepack builds), `npm install --global` of the tarball
// into a temporary prefix, then the installed `pdhooks` run through its bin link on the Node that runs this test (the
// full `npm test` runs this file on Node 20 and on Node 24): version, help, instance callback-url, an unknown command,
// webhook list against the sandbox. Nothing may be written into the installed package.
import {expect} from 'chai'
import {execFile} from 'node:child_process'
import {
  existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import {
  delimiter, dirname, join,
} from 'node:path'
import {promisify} from 'node:util'

import {type Sandbox, startSandbox} from '../../src/lib/sandbox/index.js'
import {
  cleanEnv, CREDENTIALS, hasCompileCache, root, snapshot,
} from '../e2e/helpers.js'
import {rawFetch} from '../lib/sandbox/helpers.js'

const exec = promisify(execFile)

/** This process's environment for npm and the installed CLI: this Node first on the PATH, no npm_* of an outer npm run. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(cleanEnv())) {
    if (!k.startsWith('npm_') && k !== 'PDHOOKS_CACHE_DIR') env[k] = v
  }

  env.PATH = [dirname(process.execPath), env.PATH].join(delimiter)
  return env
}

describe(`package: npm pack, npm install --global, run on Node ${process.version}`, function () {
  this.timeout(300_000)
  const dir = mkdtempSync(join(tmpdir(), 'pdhooks-package-'))
  const prefix = join(dir, 'prefix')
  const installed = join(prefix, 'lib', 'node_modules', 'pdhooks')
  const bin = join(prefix, 'bin', 'pdhooks')
  const home = join(dir, 'home')
  const xdgCache = join(dir, 'xdg-cache')
  const {version} = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  let files: string[] = []
  let pristine: Record<string, string> = {}
  let sandbox: Sandbox | undefined

  /** Runs the installed `pdhooks` through its bin link (its `#!/usr/bin/env node` finds this Node first on the PATH). */
  async function pdhooks(args: string[], env: Record<string, string> = {}) {
    try {
      const {stderr, stdout} = await exec(bin, args, {
        cwd: dir,
        env: {
          ...baseEnv(), HOME: home, PDHOOKS_CONFIG_DIR: join(dir, 'config'), XDG_CACHE_HOME: xdgCache, ...env,
        },
        timeout: 30_000,
      })
      return {code: 0, stderr, stdout}
    } catch (error) {
      const e = error as {code?: number | string; stderr: string; stdout: string}
      return {code: e.code, stderr: e.stderr, stdout: e.stdout}
    }
  }

  before(async () => {
    mkdirSync(home)
    const packed = await exec('npm', ['pack', '--json', '--pack-destination', dir], {cwd: root, env: baseEnv(), maxBuffer: 10_000_000})
    const [info] = JSON.parse(packed.stdout)
    files = info.files.map((f: {path: string}) => f.path)
    await exec('npm', ['install', '--global', '--prefix', prefix, join(dir, info.filename), '--no-audit', '--no-fund', '--loglevel=error'], {cwd: dir, env: baseEnv()})
    pristine = snapshot(installed)
    sandbox = await startSandbox({port: 0})
  })

  after(async () => {
    await sandbox?.close()
    rmSync(dir, {force: true, recursive: true})
  })

  it('the tarball holds the bundle, the manifest and the bin script; no sources, tests or caches', () => {
    expect(files).to.include.members(['bin/run.js', 'dist/index.js', 'oclif.manifest.json', 'package.json', 'README.md', 'schema/pdhooks.schema.json'])
    expect(files.filter(f => !/^(bin\/run\.js|dist\/.*\.js|oclif\.manifest\.json|package\.json|README\.md|schema\/.*\.json)$/.test(f))).to.deep.equal([])
  })

  it('pdhooks --version', async () => {
    const r = await pdhooks(['--version'])
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stdout).to.equal(`pdhooks/${version} ${process.platform}-${process.arch === 'ia32' ? 'x86' : process.arch} node-${process.version}\n`)
  })

  it('pdhooks --help lists the topics', async () => {
    const r = await pdhooks(['--help'])
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stdout).to.include('USAGE').and.include('$ pdhooks [COMMAND]').and.match(/webhook\s+Pipedrive webhooks/)
  })

  it('pdhooks instance callback-url (no network, no credentials)', async () => {
    const r = await pdhooks(['instance', 'callback-url', '20931', '--json'])
    expect(r.code, r.stderr).to.equal(0)
    expect(JSON.parse(r.stdout)).to.include({encodedId: 'MjA5MzE=', instanceId: '20931', url: 'https://api.cloud-elements.com/elements/api-v2/events/pipedrive/MjA5MzE='})
  })

  it('an unknown command is a usage error (exit 2) that says what was meant, from the installed package', async () => {
    let r = await pdhooks(['no-such-command'])
    expect(r.code).to.equal(2)
    expect(r.stderr).to.equal('Error: Unknown command "pdhooks no-such-command". Run "pdhooks help" for every command.\n')
    r = await pdhooks(['webhok', 'list'])
    expect(r.code).to.equal(2)
    expect(r.stderr).to.include('Did you mean "pdhooks webhook list"?')
  })

  it('pdhooks webhook list --json against the sandbox', async () => {
    const s = sandbox!
    const created = await rawFetch(`${s.url}/v1/webhooks`, {
      body: JSON.stringify({
        event_action: 'change', event_object: 'deal', name: 'smoke', subscription_url: 'https://app.example.com/hook', version: '2.0',
      }),
      headers: {'content-type': 'application/json', 'x-api-token': CREDENTIALS.PDHOOKS_PIPEDRIVE_TOKEN},
      method: 'POST',
    })
    expect(created.status, await created.text()).to.equal(201)
    const r = await pdhooks(['webhook', 'list', '--json'], {...s.env(), PDHOOKS_PIPEDRIVE_TOKEN: CREDENTIALS.PDHOOKS_PIPEDRIVE_TOKEN})
    expect(r.code, r.stderr).to.equal(0)
    expect(JSON.parse(r.stdout).webhooks.map((w: {event: string; url: string}) => [w.event, w.url])).to.deep.equal([['change.deal', 'https://app.example.com/hook']])
  })

  it("Node's compile cache goes to the user's cache folder (Node >= 22.8), never into the package", async () => {
    const r = await pdhooks(['webhook', 'list', '--help'])
    expect(r.code, r.stderr).to.equal(0)
    const cache = join(xdgCache, 'pdhooks', 'compile-cache')
    if (hasCompileCache) expect(readdirSync(cache).length, cache).to.be.greaterThan(0)
    else expect(existsSync(cache), `${cache} on Node ${process.version}`).to.equal(false)
    expect(snapshot(installed)).to.deep.equal(pristine)
  })
})
