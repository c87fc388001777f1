// e2e: `pdhooks listen --register / --pipeliner` (the built CLI, a child process) against the sandbox over real HTTP:
// temporary webhooks registered, a real sandbox delivery verified, and every way out (Ctrl-C, SIGTERM, --max-events, an
// error, a signal while registering) leaves no webhook behind; a SIGKILLed run's leftovers are swept by the next run,
// other hosts' never; the quota is checked first; a create applied but answered 503 is not duplicated. The tunnels are
// fake `cloudflared` / `ngrok` programs on the PATH that behave like the real ones (the fake ngrok really forwards).
import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {
  chmodSync, mkdtempSync, readFileSync, writeFileSync,
} from 'node:fs'
import {hostname, tmpdir} from 'node:os'
import {join} from 'node:path'

import {track} from '../support/children.js'
import {PL_HOOKS} from '../support/fixtures.js'
import {freePort, receiver} from '../support/receiver.js'
import {sleep, waitFor} from '../support/wait.js'
import {
  binRun, cleanEnv, masked, root, useSandbox,
} from './helpers.js'

interface Running {
  exited: Promise<{code: null | number; stderr: string; stdout: string}>
  pid: number
  /** The local URL of "Ready:" */
  url: string
  stderr(): string
  stdout(): string
  signal(sig: NodeJS.Signals): void
}

const HOST = hostname().replaceAll(/\s+/g, '-')

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Fake tunnel programs: node scripts on a PATH of their own

const FAKE_CLOUDFLARED = `
const fs = require('node:fs')
const mode = process.env.FAKE_TUNNEL_MODE || 'url'
if (process.env.FAKE_TUNNEL_PIDFILE) fs.writeFileSync(process.env.FAKE_TUNNEL_PIDFILE, String(process.pid))
if (process.env.FAKE_TUNNEL_ARGSFILE) fs.writeFileSync(process.env.FAKE_TUNNEL_ARGSFILE, JSON.stringify(process.argv.slice(2)))
const log = (lvl, msg) => process.stderr.write(new Date().toISOString() + ' ' + lvl + ' ' + msg + '\\n')
log('INF', 'Thank you for trying Cloudflare Tunnel. Doing so, without a Cloudflare account, is a quick way to experiment.')
log('INF', 'Requesting new quick Tunnel on trycloudflare.com...')
if (mode === 'fail') {
  log('ERR', 'failed to request quick Tunnel: Post "https://api.trycloudflare.com/tunnel": dial tcp: lookup api.trycloudflare.com: no such host')
  process.exit(1)
}
const banner = () => {
  log('INF', '+--------------------------------------------------------------------------------------------+')
  log('INF', '|  Your quick Tunnel has been created! Visit it at (it may take some time to be reachable):  |')
  log('INF', '|  https://seasonal-deck-organisms-sf.trycloudflare.com                                      |')
  log('INF', '+--------------------------------------------------------------------------------------------+')
}
if (mode === 'url' || mode === 'die-later') setTimeout(banner, 300)
// die-later: ends when the test creates FAKE_TUNNEL_DIE_FILE (the connection to Cloudflare lost)
if (mode === 'die-later') setInterval(() => { if (fs.existsSync(process.env.FAKE_TUNNEL_DIE_FILE)) { log('ERR', 'Connection terminated'); process.exit(3) } }, 50)
setInterval(() => {}, 1000)
`

const FAKE_NGROK = `
const fs = require('node:fs')
const http = require('node:http')
if (process.env.FAKE_TUNNEL_PIDFILE) fs.writeFileSync(process.env.FAKE_TUNNEL_PIDFILE, String(process.pid))
if (process.env.FAKE_TUNNEL_ARGSFILE) fs.writeFileSync(process.env.FAKE_TUNNEL_ARGSFILE, JSON.stringify(process.argv.slice(2)))
const target = new URL(process.argv[3])
const log = o => process.stdout.write(JSON.stringify({t: new Date().toISOString(), lvl: 'info', ...o}) + '\\n')
// the tunnel: forwards every request to the listener, like ngrok's edge would
const proxy = http.createServer((req, res) => {
  const fwd = http.request({host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers}, r => {
    res.writeHead(r.statusCode, r.headers)
    r.pipe(res)
  })
  fwd.on('error', () => { res.writeHead(502); res.end() })
  req.pipe(fwd)
})
let polls = 0
const api = http.createServer((req, res) => {
  polls++
  const tunnels = [{name: 'other', public_url: 'https://other-machine.ngrok-free.app', proto: 'https', config: {addr: 'http://localhost:1', inspect: true}}]
  // like the real one, the tunnel shows up after a moment
  if (polls > 2) tunnels.push({name: 'command_line', public_url: 'http://127.0.0.1:' + proxy.address().port, proto: 'https', config: {addr: process.argv[3], inspect: true}})
  res.writeHead(200, {'content-type': 'application/json'})
  res.end(JSON.stringify({tunnels, uri: '/api/tunnels'}))
})
proxy.listen(0, '127.0.0.1', () => api.listen(0, '127.0.0.1', () => {
  log({obj: 'web', msg: 'starting web service', addr: '127.0.0.1:' + api.address().port})
  log({obj: 'tunnels', msg: 'started tunnel', name: 'command_line', addr: process.argv[3]})
}))
`

/** A folder holding fake programs (`cloudflared`, `ngrok`), to be the PATH. */
function fakeBin(programs: Array<'cloudflared' | 'ngrok'>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pdhooks-e2e-fakebin-'))
  for (const p of programs) {
    const file = join(dir, p)
    writeFileSync(file, `#!${process.execPath}\n${p === 'cloudflared' ? FAKE_CLOUDFLARED : FAKE_NGROK}`)
    chmodSync(file, 0o755)
  }

  return dir
}

const noSecretIn = (text: string, secrets: string[]) => {
  for (const s of secrets) expect(text, `${masked(s)} printed in full`).not.to.contain(s)
}

async function publicArgs(): Promise<string[]> {
  const port = await freePort()
  return ['--port', String(port), '--public-url', `http://127.0.0.1:${port}`]
}

describe('e2e: listen --register / --pipeliner: temporary webhooks, cleaned up on every way out', function () {
  this.timeout(60_000)
  const e2e = useSandbox()

  /** Spawns `pdhooks listen …args` with the sandbox's environment (tracked: killed after the test if still running). */
  function spawnListen(args: string[], env: Record<string, string> = {}) {
    const child = track(spawn(process.execPath, [binRun, 'listen', ...args], {cwd: root, env: {...cleanEnv(), ...e2e.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']}))
    const out = {stderr: '', stdout: ''}
    child.stdout.on('data', d => {
      out.stdout += d
    })
    child.stderr.on('data', d => {
      out.stderr += d
    })
    const exited = new Promise<{code: null | number; stderr: string; stdout: string}>(resolve => {
      child.on('close', code => resolve({code, ...out}))
    })
    return {child, exited, out}
  }

  /** Starts `pdhooks listen …args`; resolves once "Ready:" (or rejects with its output when it exits first). */
  function start(args: string[], env: Record<string, string> = {}): Promise<Running> {
    const {child, exited, out} = spawnListen(args, env)
    return new Promise((resolve, reject) => {
      child.stderr.on('data', () => {
        const m = /Ready: (\S+)/.exec(out.stderr)
        if (m) {
          resolve({
            exited, pid: child.pid!, signal: sig => child.kill(sig), stderr: () => out.stderr, stdout: () => out.stdout, url: m[1],
          })
        }
      })
      exited.then(r => reject(Object.assign(new Error(`listen exited (${r.code}) before it was ready:\n${r.stderr}`), r)), () => {})
    })
  }

  /** Runs listen expecting it to fail before it is ready. */
  async function startFails(args: string[], env: Record<string, string> = {}): Promise<{code: number; stderr: string; stdout: string}> {
    try {
      const r = await start(args, env)
      r.signal('SIGKILL')
      throw new Error(`listen became ready: ${r.stderr()}`)
    } catch (error: any) {
      if (error.code === undefined) throw error
      return error
    }
  }

  const pdHooks = async () => (await e2e.state()).pipedrive.webhooks as any[]
  const plHooks = async () => ((await e2e.state()).pipeliner.webhooks as any[]).filter(w => !w.is_deleted)

  it('registers Pipedrive and Pipeliner webhooks, a real sandbox delivery of each is verified, Ctrl-C deletes them all (exit 0)', async () => {
    const app = await start([...await publicArgs(), '--register', '*.deal', '--register', 'added.person', '--pipeliner', 'Account.*'])
    const pd = await pdHooks()
    expect(pd).to.have.length(2)
    const token = new URL(app.url).pathname
    expect(token).to.match(/^\/[\da-f]{24}$/)
    for (const w of pd) {
      expect(w.name).to.match(new RegExp(`^pdhooks-listen ${HOST} ${app.pid} \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z$`))
      expect(new URL(w.subscription_url).pathname).to.equal(token)
      expect(w.http_auth_user).to.equal('pdhooks')
      expect(w.http_auth_password).to.have.length.greaterThan(20)
    }

    expect(pd.map(w => `${w.event_action}.${w.event_object} ${w.version}`).sort()).to.deep.equal(['*.deal 2.0', 'added.person 1.0'])
    const [pl] = await plHooks()
    expect(pl.events).to.deep.equal(['Account.*'])
    expect(pl.options.skip_keys).to.deep.equal([pd[0].name])
    expect(pl.signature).to.match(/^[\da-f-]{36}$/)

    const deal = await e2e.api('POST', '/sandbox/events', {
      action: 'change', data: {title: 'Big'}, id: 42, object: 'deal',
    })
    expect(deal.body.deliveries.map((d: any) => d.status)).to.deep.equal([200])
    const account = await e2e.api('POST', '/sandbox/events', {entity: {id: 'a1', name: 'Acme'}, event: 'Account.Create'})
    expect(account.body.deliveries.map((d: any) => d.status)).to.deep.equal([200])
    // a delivery without the generated basic auth is refused
    // eslint-disable-next-line n/no-unsupported-features/node-builtins -- stable on Node 20
    const forged = await fetch(app.url, {body: JSON.stringify({data: {id: 1}, meta: {action: 'change', entity: 'deal', version: '2.0'}}), headers: {'content-type': 'application/json'}, method: 'POST'})
    expect(forged.status).to.equal(401)
    await waitFor('both events printed', () => app.stdout().split('\n').filter(Boolean).length >= 2)

    app.signal('SIGINT')
    const done = await app.exited
    expect(done.code, done.stderr).to.equal(0)
    expect(done.stdout).to.match(/pipedrive-v2\s+change\.deal\s+42\s+attempt 1\s+verified/)
    expect(done.stdout).to.match(/pipeliner\s+\S+\s+a1\s+verified/)
    expect(done.stderr).to.include(`Registered Pipedrive webhook ${pd[0].id}`)
    expect(done.stderr).to.include(`Registered Pipeliner webhook ${pl.id}`)
    expect(done.stderr).to.include(`Deleted 3 temporary webhooks (Pipedrive ${pd.map(w => w.id).join(', ')}; Pipeliner ${pl.id}).`)
    expect(await pdHooks()).to.deep.equal([])
    expect(await plHooks()).to.deep.equal([])
    noSecretIn(done.stdout + done.stderr, [pd[0].http_auth_password, pl.signature])
  })

  it('SIGTERM deletes them too (exit 0); --json prints only events on stdout, the status lines on stderr; --journal and --forward-to work alongside', async () => {
    const journal = join(mkdtempSync(join(tmpdir(), 'pdhooks-e2e-register-journal-')), 'deliveries.ndjson')
    const target = await receiver({path: '/app'})
    const app = await start([...await publicArgs(), '--register', 'change.deal', '--json', '--journal', journal, '--forward-to', target.url])
    const [w] = await pdHooks()
    await e2e.api('POST', '/sandbox/events', {action: 'change', id: 7, object: 'deal'})
    await waitFor('the event on stdout', () => app.stdout().includes('\n'))
    app.signal('SIGTERM')
    const done = await app.exited
    await target.close()
    expect(done.code, done.stderr).to.equal(0)
    const lines = done.stdout.trim().split('\n').map(l => JSON.parse(l))
    expect(lines).to.have.length(1)
    expect(lines[0]).to.include({
      action: 'change', object: 'deal', objectId: '7', verified: true,
    })
    expect(lines[0].forward.status).to.equal(200)
    expect(target.received).to.have.length(1)
    expect(target.received[0].json.meta.entity_id).to.equal('7')
    const kept = readFileSync(journal, 'utf8').trim().split('\n').map(l => JSON.parse(l))
    expect(kept).to.have.length(1)
    expect(kept[0].id).to.equal(lines[0].id)
    // the journal redacts the generated basic auth
    expect(readFileSync(journal, 'utf8')).not.to.contain(w.http_auth_password)
    expect(done.stderr).to.include(`Registered Pipedrive webhook ${w.id}: change.deal (v2.0)`)
    expect(done.stderr).to.include(`Deleted 1 temporary webhook (Pipedrive ${w.id}).`)
    expect(await pdHooks()).to.deep.equal([])
    noSecretIn(done.stdout + done.stderr, [w.http_auth_password])
  })

  it('--max-events 1: ends by itself after the first delivery and deletes the webhooks (exit 0)', async () => {
    const app = await start([...await publicArgs(), '--register', '*.person', '--max-events', '1'])
    expect(await pdHooks()).to.have.length(1)
    await e2e.api('POST', '/sandbox/events', {action: 'create', id: 3, object: 'person'})
    const done = await app.exited
    expect(done.code, done.stderr).to.equal(0)
    expect(done.stderr).to.match(/Deleted 1 temporary webhook/)
    expect(await pdHooks()).to.deep.equal([])
  })

  it('--max-events reached by a delivery that came while still registering: it ends once registered, and deletes them', async () => {
    // each create is applied at once but answered after 1.5 s: the first webhook delivers before the second exists
    await e2e.fault({
      delay: 1500, method: 'POST', passThrough: true, path: '/v1/webhooks', times: 0,
    })
    const port = await freePort()
    const {exited} = spawnListen(['--port', String(port), '--public-url', `http://127.0.0.1:${port}`, '--register', '*.deal', '--register', '*.person', '--max-events', '1'])
    await waitFor('the first webhook', async () => (await pdHooks()).length > 0, 15_000)
    const sent = await e2e.api('POST', '/sandbox/events', {action: 'change', id: 5, object: 'deal'})
    expect(sent.body.deliveries[0].status).to.equal(200)
    const done = await exited
    expect(done.code, done.stderr).to.equal(0)
    expect(done.stderr).to.match(/Deleted 2 temporary webhooks/)
    expect(await pdHooks()).to.deep.equal([])
  })

  it('a SIGKILLed run leaves its webhooks; the next run sweeps them (process gone), never another host\'s or a live run\'s', async () => {
    const killed = await start([...await publicArgs(), '--register', '*.deal', '--pipeliner', 'Opportunity.*'])
    const left = await pdHooks()
    const leftPl = await plHooks()
    killed.signal('SIGKILL')
    await killed.exited
    expect(await pdHooks()).to.have.length(1)
    // another host's leftover, a live run's on this host (this test process, started before its marker), a name made by hand
    const started = new Date().toISOString()
    await e2e.seedPipedrive(3, i => ({name: [`pdhooks-listen other-laptop 4242 ${started}`, `pdhooks-listen ${HOST} ${process.pid} ${started}`, 'pdhooks-listen my own'][i]}))
    await e2e.seedPipeliner(1, () => ({options: {skip_keys: [`pdhooks-listen other-laptop 4242 ${started}`]}}))

    const next = await start([...await publicArgs(), '--register', 'change.person', '--pipeliner', 'Contact.Create'])
    next.signal('SIGINT')
    const done = await next.exited
    expect(done.code, done.stderr).to.equal(0)
    expect(done.stderr).to.include(`Swept Pipedrive webhook ${left[0].id} (*.deal (v2.0) → ${left[0].subscription_url}): left by pdhooks listen on ${HOST} (pid ${killed.pid}`)
    expect(done.stderr).to.include(`Swept Pipeliner webhook ${leftPl[0].id}`)
    expect(done.stderr).to.match(/Pipedrive webhook (\d+) \(.*?\) was left by pdhooks listen on other-laptop \(pid 4242, started [^)]+\): not deleted from here \(that run may still be alive there\)\. If it is over: pdhooks webhook delete \1 --yes/)
    expect(done.stderr).to.match(/Pipeliner webhook [\da-f-]+ \(.*?\) was left by pdhooks listen on other-laptop .*pdhooks pipeliner webhook delete [\da-f-]+ --yes/)
    expect(done.stderr).to.include(`pid ${process.pid}, started ${started}), which is still running: left alone.`)
    const names = (await pdHooks()).map(w => w.name).sort()
    expect(names).to.deep.equal([`pdhooks-listen ${HOST} ${process.pid} ${started}`, `pdhooks-listen other-laptop 4242 ${started}`, 'pdhooks-listen my own'].sort())
    expect((await plHooks()).map(w => w.options.skip_keys[0])).to.deep.equal([`pdhooks-listen other-laptop 4242 ${started}`])
  })

  it('--keep leaves them (named pdhooks-listen-kept: the next run does not sweep them) and says how to delete them', async () => {
    const app = await start([...await publicArgs(), '--register', '*.deal', '--keep'])
    const [w] = await pdHooks()
    expect(w.name).to.match(new RegExp(`^pdhooks-listen-kept ${HOST} ${app.pid} `))
    app.signal('SIGINT')
    const done = await app.exited
    expect(done.code, done.stderr).to.equal(0)
    expect(done.stderr).to.include(`Kept 1 temporary Pipedrive webhook (--keep): ${w.id}. They are never swept; delete them with: pdhooks webhook delete ${w.id} --yes`)
    const next = await start([...await publicArgs(), '--register', 'change.person'])
    next.signal('SIGINT')
    const again = await next.exited
    expect(again.code).to.equal(0)
    expect(again.stderr).not.to.include('Swept')
    expect((await pdHooks()).map(h => h.id)).to.deep.equal([w.id])
  })

  it('quota: 39 webhooks and two events to register: exit 5 with the count, nothing created, nothing left listening', async () => {
    await e2e.seedPipedrive(39)
    await e2e.api('DELETE', '/sandbox/requests')
    const r = await startFails([...await publicArgs(), '--register', '*.deal', '--register', '*.person'])
    expect(r.code, r.stderr).to.equal(5)
    expect(r.stderr).to.match(/Webhook limit: user \d+ has 39 webhooks and --register needs 2 more \(Pipedrive allows 40 per user\)\. Nothing was registered\./)
    expect(r.stderr).to.include('pdhooks webhook list')
    expect(await pdHooks()).to.have.length(39)
    const posts = (await e2e.requests('/v1/webhooks')).filter(q => q.method === 'POST')
    expect(posts).to.have.length(0)
  })

  it('quota under --json: one error document with the count', async () => {
    await e2e.seedPipedrive(40)
    const r = await startFails([...await publicArgs(), '--register', '*.deal', '--json'])
    expect(r.code).to.equal(5)
    const doc = JSON.parse(r.stdout)
    expect(doc.error).to.include({
      code: 'quota', count: 40, limit: 40, needed: 1,
    })
  })

  it('a create applied but answered 503 is found, not sent again (one webhook), and still deleted at Ctrl-C', async () => {
    await e2e.fault({
      apply: true, method: 'POST', path: '/v1/webhooks', status: 503,
    })
    const app = await start([...await publicArgs(), '--register', '*.deal'])
    const hooks = await pdHooks()
    expect(hooks).to.have.length(1)
    expect(app.stderr()).to.include(`Registered Pipedrive webhook ${hooks[0].id}: *.deal (v2.0) → `)
    expect(app.stderr()).to.include('(confirmed after the create call failed)')
    expect((await e2e.requests('/v1/webhooks')).filter(q => q.method === 'POST')).to.have.length(1)
    app.signal('SIGINT')
    const done = await app.exited
    expect(done.code).to.equal(0)
    expect(await pdHooks()).to.deep.equal([])
  })

  it('a registration failing half-way deletes what was made, says so, and exits with the failure\'s code', async () => {
    await e2e.fault({
      body: {
        code: 117, http_status: 400, message: "Parameter 'url' is invalid", name: 'ERROR_PARAMETER_INVALID', success: false,
      }, method: 'POST', path: PL_HOOKS, status: 400,
    })
    const r = await startFails([...await publicArgs(), '--register', '*.deal', '--register', '*.person', '--pipeliner', 'Account.Create'])
    expect(r.code, r.stderr).to.equal(2)
    expect(r.stderr).to.match(/Registered Pipedrive webhook \d+: \*\.deal/)
    expect(r.stderr).to.match(/Deleted 2 temporary webhooks \(Pipedrive \d+, \d+\)\./)
    expect(r.stderr).to.include("Parameter 'url' is invalid")
    expect(await pdHooks()).to.deep.equal([])
    expect(await plHooks()).to.deep.equal([])
  })

  it('a webhook that cannot be deleted at exit is named with the command to delete it (exit 6)', async () => {
    const app = await start([...await publicArgs(), '--register', '*.deal'])
    const [w] = await pdHooks()
    await e2e.fault({
      method: 'DELETE', path: '/v1/webhooks/*', status: 503, times: 0,
    })
    app.signal('SIGINT')
    const done = await app.exited
    expect(done.code, done.stderr).to.equal(6)
    expect(done.stderr).to.include(`Warning: could not delete 1 temporary Pipedrive webhook (${w.id}: `)
    expect(done.stderr).to.include(`Delete it with: pdhooks webhook delete ${w.id} --yes`)
    expect(done.stderr).to.include('Error: 1 temporary webhook was not deleted (see above).')
  })

  it('Ctrl-C while registering: the create in flight finishes, everything made is deleted, exit 130', async () => {
    await e2e.fault({
      delay: 800, method: 'POST', passThrough: true, path: '/v1/webhooks', times: 0,
    })
    const port = await freePort()
    const {child, exited} = spawnListen(['--port', String(port), '--public-url', `http://127.0.0.1:${port}`, '--register', '*.deal', '--register', '*.person', '--register', '*.note'])
    await waitFor('the first POST', async () => (await e2e.requests('/v1/webhooks')).some(q => q.method === 'POST'), 15_000)
    child.kill('SIGINT')
    const {code, stderr} = await exited
    expect(code, stderr).to.equal(130)
    expect(stderr).to.include('Interrupted (SIGINT): stopped while registering.')
    expect(stderr).to.match(/Deleted 1 temporary webhook \(Pipedrive \d+\)\./)
    expect(stderr).not.to.include('Ready:')
    expect((await e2e.requests('/v1/webhooks')).filter(q => q.method === 'POST')).to.have.length(1)
    expect(await pdHooks()).to.deep.equal([])
  })

  it('a second Ctrl-C during a slow cleanup stops waiting: what is not confirmed deleted is named with the command (exit 130)', async () => {
    const app = await start([...await publicArgs(), '--register', '*.deal', '--register', '*.person'])
    const ids = (await pdHooks()).map(w => w.id)
    // each delete is answered after 8 s (the real handler runs then)
    await e2e.fault({
      delay: 8000, method: 'DELETE', path: '/v1/webhooks/*', times: 0,
    })
    app.signal('SIGINT')
    const first = Date.now()
    await waitFor('the DELETEs to reach the sandbox', async () => (await e2e.requests('/v1/webhooks/')).filter(q => q.method === 'DELETE').length >= 2, 15_000)
    // a signal within 500 ms of the first is the same Ctrl-C (npx forwards it): this one is a second Ctrl-C
    await sleep(Math.max(0, 700 - (Date.now() - first)))
    const t0 = Date.now()
    app.signal('SIGINT')
    const done = await app.exited
    expect(done.code, done.stderr).to.equal(130)
    expect(Date.now() - t0).to.be.lessThan(7000)
    expect(done.stderr).to.include('Stopping the cleanup')
    expect(done.stderr).to.include(`Delete them with: pdhooks webhook delete ${ids.join(' ')} --yes`)
    expect(done.stderr).to.include('Stopped (SIGINT) before every temporary webhook was deleted.')
  })

  it('usage: --register without a public URL, --public-url alone, a bad event: exit 2 before anything is sent', async () => {
    const a = await startFails(['--port', '0', '--register', '*.deal'])
    expect(a.code).to.equal(2)
    expect(a.stderr).to.include('--register and --pipeliner need a public URL')
    const b = await startFails(['--port', '0', '--public-url', 'https://example.com'])
    expect(b.code).to.equal(2)
    expect(b.stderr).to.include('--public-url only make sense with --register or --pipeliner')
    const c = await startFails(['--port', '0', '--register', 'deal.added', '--public-url', 'https://example.com'])
    expect(c.code).to.equal(2)
    expect(c.stderr).to.include('Did you mean "added.deal"?')
    expect(await e2e.requests()).to.deep.equal([])
  })

  describe('--tunnel', () => {
    it('cloudflared: its trycloudflare.com URL is registered; Ctrl-C deletes the webhook and stops cloudflared', async () => {
      const bin = fakeBin(['cloudflared'])
      const pidFile = join(bin, 'pid')
      const argsFile = join(bin, 'args')
      const app = await start(['--port', '0', '--register', '*.deal', '--tunnel', 'cloudflared'], {FAKE_TUNNEL_ARGSFILE: argsFile, FAKE_TUNNEL_PIDFILE: pidFile, PATH: bin})
      const [w] = await pdHooks()
      const token = new URL(app.url).pathname
      expect(w.subscription_url).to.equal(`https://seasonal-deck-organisms-sf.trycloudflare.com${token}`)
      expect(JSON.parse(readFileSync(argsFile, 'utf8'))).to.deep.equal(['tunnel', '--url', `http://127.0.0.1:${new URL(app.url).port}`, '--no-autoupdate'])
      const tunnelPid = Number(readFileSync(pidFile, 'utf8'))
      expect(isAlive(tunnelPid)).to.equal(true)
      app.signal('SIGINT')
      const done = await app.exited
      expect(done.code, done.stderr).to.equal(0)
      expect(done.stderr).to.include('Tunnel: https://seasonal-deck-organisms-sf.trycloudflare.com (cloudflared')
      expect(await pdHooks()).to.deep.equal([])
      await waitFor('cloudflared stopped', () => !isAlive(tunnelPid))
    })

    it('ngrok: the URL of this listener\'s tunnel (not another one\'s) from its local API; a sandbox delivery arrives through it', async () => {
      const bin = fakeBin(['ngrok'])
      const pidFile = join(bin, 'pid')
      const app = await start(['--port', '0', '--register', 'change.deal', '--max-events', '1', '--tunnel', 'ngrok'], {FAKE_TUNNEL_PIDFILE: pidFile, PATH: bin})
      const [w] = await pdHooks()
      expect(w.subscription_url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/[\da-f]{24}$/)
      expect(new URL(w.subscription_url).port).not.to.equal(new URL(app.url).port)
      const sent = await e2e.api('POST', '/sandbox/events', {action: 'change', id: 9, object: 'deal'})
      expect(sent.body.deliveries[0].status).to.equal(200)
      const done = await app.exited
      expect(done.code, done.stderr).to.equal(0)
      expect(done.stdout).to.match(/change\.deal\s+9\s+attempt 1\s+verified/)
      expect(await pdHooks()).to.deep.equal([])
      const tunnelPid = Number(readFileSync(pidFile, 'utf8'))
      await waitFor('ngrok stopped', () => !isAlive(tunnelPid))
    })

    it('the program is not on the PATH: exit 2 with the install hint, nothing registered', async () => {
      const r = await startFails(['--port', '0', '--register', '*.deal', '--tunnel', 'cloudflared'], {PATH: mkdtempSync(join(tmpdir(), 'pdhooks-e2e-emptybin-'))})
      expect(r.code).to.equal(2)
      expect(r.stderr).to.include('--tunnel cloudflared: "cloudflared" was not found on the PATH. Install it (https://developers.cloudflare.com/')
      expect(r.stderr).to.include('or give --public-url')
      expect(await e2e.requests()).to.deep.equal([])
    })

    it('no URL in time: exit 6 naming the timeout and its last output; the program is stopped, nothing registered', async () => {
      const bin = fakeBin(['cloudflared'])
      const pidFile = join(bin, 'pid')
      const r = await startFails(['--port', '0', '--register', '*.deal', '--tunnel', 'cloudflared', '--tunnel-timeout', '1'], {FAKE_TUNNEL_MODE: 'silent', FAKE_TUNNEL_PIDFILE: pidFile, PATH: bin})
      expect(r.code, r.stderr).to.equal(6)
      expect(r.stderr).to.include('cloudflared gave no public URL within 1 s (its last output: "')
      expect(r.stderr).to.include('Requesting new quick Tunnel on trycloudflare.com...')
      expect(isAlive(Number(readFileSync(pidFile, 'utf8')))).to.equal(false)
      expect(await e2e.requests()).to.deep.equal([])
    })

    it('cloudflared fails (its error names https://api.trycloudflare.com, not a tunnel URL): exit 6 with its message', async () => {
      const bin = fakeBin(['cloudflared'])
      const r = await startFails(['--port', '0', '--register', '*.deal', '--tunnel', 'cloudflared'], {FAKE_TUNNEL_MODE: 'fail', PATH: bin})
      expect(r.code, r.stderr).to.equal(6)
      expect(r.stderr).to.include('cloudflared exited with code 1 before giving a public URL')
      expect(r.stderr).to.include('no such host')
      expect(await e2e.requests()).to.deep.equal([])
    })

    it('the tunnel dies while listening: listen stops, deletes the webhook and exits 6', async () => {
      const bin = fakeBin(['cloudflared'])
      const dieFile = join(bin, 'die')
      const app = await start(['--port', '0', '--register', '*.deal', '--tunnel', 'cloudflared'], {FAKE_TUNNEL_DIE_FILE: dieFile, FAKE_TUNNEL_MODE: 'die-later', PATH: bin})
      expect(await pdHooks()).to.have.length(1)
      writeFileSync(dieFile, '')
      const done = await app.exited
      expect(done.code, done.stderr).to.equal(6)
      expect(done.stderr).to.include('Warning: the tunnel ended: cloudflared exited with code 3')
      expect(done.stderr).to.match(/Deleted 1 temporary webhook/)
      expect(done.stderr).to.include('Error: The tunnel ended while listening')
      expect(await pdHooks()).to.deep.equal([])
    })
  })
})
