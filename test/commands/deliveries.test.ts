import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {type Listener, startListener} from '../../src/lib/deliveries/listener.js'
import {verifyElements, verifyPipeliner} from '../../src/lib/deliveries/signatures.js'
import {startSandbox} from '../../src/lib/sandbox/index.js'
import {root, run} from '../helpers.js'
import {captureServer} from '../receivers.js'

const UUID = '01234567-abcd-dcba-ffff-000000000000'

describe('trigger', () => {
  let listener: Listener

  afterEach(async () => listener?.close())

  it('sends a v2 Pipedrive delivery with Basic auth that listen verifies', async () => {
    listener = await startListener({basicAuth: {password: 'hook-pass-123', user: 'hooks'}, port: 0})
    const events: any[] = []
    listener.on('event', e => events.push(e))
    const r = await run(['trigger', 'change.deal', '--to', listener.url, '--basic-auth', 'hooks:hook-pass-123', '--set', 'value=5000', '--json'])
    expect(r.exit).to.equal(0)
    expect(r.json().ok).to.equal(true)
    expect(r.json().deliveries[0]).to.include({n: 1, status: 200})
    expect(events).to.have.length(1)
    expect(events[0]).to.include({
      action: 'change', object: 'deal', source: 'pipedrive-v2', verified: true,
    })
    expect(r.stdout).not.to.contain('hook-pass-123')
  })

  it('exit 0 only on 2xx: wrong credentials are refused (exit 1), a dead receiver is exit 6', async () => {
    listener = await startListener({basicAuth: {password: 'right-password', user: 'hooks'}, port: 0})
    const bad = await run(['trigger', 'added.person', '--to', listener.url, '--basic-auth', 'hooks:wrong'])
    expect(bad.exit).to.equal(1)
    expect(bad.stdout).to.contain('pipedrive v1.0 added.person 8 → 401')
    const dead = await run(['trigger', 'added.person', '--to', 'http://127.0.0.1:9/'])
    expect(dead.exit).to.equal(6)
    expect(dead.stderr).to.contain('pdhooks listen')
  })

  it('elements format: the platform notification, signed; pipeliner format: the array, signed (hex)', async () => {
    const rec = await captureServer()
    try {
      let r = await run(['trigger', 'updated.deal', '--format', 'elements', '--elements-key', 'ce-key-123456', '--to', rec.url, '--count', '2'])
      expect(r.exit).to.equal(0)
      const [first] = rec.got
      const body = JSON.parse(first.body.toString())
      expect(body.message.events[0]).to.include({elementKey: 'pipedrive', eventType: 'UPDATED', objectType: 'opportunities'})
      expect(verifyElements('ce-key-123456', first.body, first.headers['elements-webhook-signature'] as string)).to.equal(true)
      expect(first.headers['elements-webhook-id']).to.equal(body.message.eventId)
      expect(rec.got).to.have.length(2)
      r = await run(['trigger', 'Opportunity.Won', '--pipeliner-key', UUID, '--to', rec.url, '--set', 'name=Big'])
      expect(r.exit).to.equal(0)
      const pl = rec.got[2]
      const items = JSON.parse(pl.body.toString())
      expect(items[0]).to.deep.include({event: 'Opportunity.Won', team_space_id: 'sandbox'})
      expect(items[0].entity.name).to.equal('Big')
      expect(pl.headers['webhook-signature']).to.match(/^[\da-f]{64}$/)
      expect(verifyPipeliner(UUID, pl.body, pl.headers['webhook-signature'] as string)).to.equal(true)
    } finally {
      await rec.close()
    }
  })

  it('usage errors: wildcard events, bad --set, missing --to, bad auth', async () => {
    expect((await run(['trigger', '*.deal', '--to', 'http://127.0.0.1:9/'])).exit).to.equal(2)
    expect((await run(['trigger', 'change.deal', '--to', 'http://127.0.0.1:9/', '--set', 'nope'])).exit).to.equal(2)
    expect((await run(['trigger', 'change.deal'])).exit).to.equal(2)
    expect((await run(['trigger', 'change.deal', '--to', 'http://127.0.0.1:9/', '--basic-auth', 'nocolon'])).exit).to.equal(2)
    expect((await run(['trigger', 'Opportunity.Nope', '--to', 'http://127.0.0.1:9/'])).exit).to.equal(2)
  })

  it('--sandbox makes a running sandbox deliver to every matching webhook', async () => {
    const sandbox = await startSandbox({port: 0})
    const rec = await captureServer()
    try {
      const env = sandbox.env()
      // eslint-disable-next-line n/no-unsupported-features/node-builtins
      await fetch(`${env.PDHOOKS_PIPEDRIVE_URL}/webhooks`, {
        body: JSON.stringify({
          event_action: '*', event_object: 'deal', name: 'x', subscription_url: rec.url, version: '2.0',
        }),
        headers: {'content-type': 'application/json', 'x-api-token': 't'},
        method: 'POST',
      })
      const r = await run(['trigger', 'change.deal', '--sandbox', '--json'], env)
      expect(r.exit, r.stdout).to.equal(0)
      expect(r.json().deliveries).to.have.length(1)
      expect(r.json().deliveries[0].status).to.equal(200)
      expect(JSON.parse(rec.got[0].body.toString()).meta).to.include({action: 'change', entity: 'deal'})
    } finally {
      await rec.close()
      await sandbox.close()
    }
  })
})

describe('replay', () => {
  let listener: Listener | undefined

  afterEach(async () => {
    await listener?.close()
    listener = undefined
  })

  it('re-sends journaled deliveries byte for byte with fresh auth; an unknown id is exit 4', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pdhooks-replay-'))
    const journal = join(dir, 'j.ndjson')
    const listener = await startListener({basicAuth: {password: 'pw-123456789', user: 'hooks'}, journal, port: 0})
    const rec = await captureServer()
    try {
      await run(['trigger', 'change.deal', '--to', listener.url, '--basic-auth', 'hooks:pw-123456789', '--count', '2'])
      await listener.close()
      const lines = readFileSync(journal, 'utf8').trim().split('\n').map(l => JSON.parse(l))
      expect(lines).to.have.length(2)
      expect(lines[0].headers.authorization).to.equal('Basic ****')
      const r = await run(['replay', '--journal', journal, '--to', rec.url, '--basic-auth', 'hooks:new-password-1', '--json'])
      expect(r.exit).to.equal(0)
      expect(r.json().deliveries.map((d: any) => d.status)).to.deep.equal([200, 200])
      expect(rec.got.map(x => x.body.toString())).to.deep.equal(lines.map(l => l.body))
      expect(rec.got[0].headers.authorization).to.equal(`Basic ${Buffer.from('hooks:new-password-1').toString('base64')}`)
      const one = await run(['replay', '--journal', journal, '--to', rec.url, '--id', lines[1].id])
      expect(one.exit).to.equal(0)
      expect(rec.got).to.have.length(3)
      const missing = await run(['replay', '--journal', journal, '--to', rec.url, '--id', 'nope'])
      expect(missing.exit).to.equal(4)
      expect((await run(['replay', '--journal', join(dir, 'none.ndjson'), '--to', rec.url])).exit).to.equal(2)
    } finally {
      await rec.close()
    }
  })

  it('a journal with no valid line is exit 2; a 401 hints the flag that authenticates the source', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pdhooks-replay-'))
    const empty = join(dir, 'empty.ndjson')
    writeFileSync(empty, 'not json\n')
    const r = await run(['replay', '--journal', empty, '--to', 'http://127.0.0.1:9/'])
    expect(r.exit).to.equal(2)
    expect(r.stderr).to.contain(`Journal ${empty} has no valid delivery line (1 malformed line skipped).`)

    const journal = join(dir, 'j.ndjson')
    const recorder = await startListener({journal, port: 0})
    await run(['trigger', 'change.deal', '--to', recorder.url])
    await recorder.close()
    listener = await startListener({basicAuth: {password: 'replay-pass-1', user: 'hooks'}, port: 0})
    const refused = await run(['replay', '--journal', journal, '--to', listener.url])
    expect(refused.exit).to.equal(1)
    expect(refused.stderr).to.contain('1 of 1 replayed deliveries were not accepted (401). The receiver refused their authentication, and the journal keeps none: pass --basic-auth user:password.')
    const json = await run(['replay', '--journal', journal, '--to', listener.url, '--json'])
    expect(json.exit).to.equal(1)
    expect(json.json().hint).to.contain('--basic-auth')
    expect(json.json()).to.deep.include({ok: false})
    expect(json.json().error).to.include({code: 'rejected', status: null})
    expect(json.json().error.message).to.match(/^1 of 1 replayed deliveries were not accepted \(401\)\. .*--basic-auth/)
    expect((await run(['replay', '--journal', journal, '--to', listener.url, '--basic-auth', 'hooks:replay-pass-1'])).exit).to.equal(0)
  })

  it('--pipeliner-key must be a UUID in listen, trigger and replay (exit 2)', async () => {
    for (const args of [
      ['listen', '--port', '0', '--pipeliner-key', 'not-a-uuid'],
      ['trigger', 'Opportunity.Won', '--to', 'http://127.0.0.1:9/', '--pipeliner-key', 'not-a-uuid'],
      ['replay', '--journal', 'x.ndjson', '--to', 'http://127.0.0.1:9/', '--pipeliner-key', 'not-a-uuid'],
    ]) {
      const r = await run(args)
      expect(r.exit, args[0]).to.equal(2)
      expect(r.stderr, args[0]).to.contain('Invalid --pipeliner-key: Pipeliner signature keys are UUIDs (8-4-4-4-12 hex digits).')
      expect(r.stderr, args[0]).not.to.contain('not-a-uuid')
    }
  })

  it('listen on a port in use is exit 2', async () => {
    listener = await startListener({port: 0})
    const r = await run(['listen', '--port', String(listener.port)])
    expect(r.exit).to.equal(2)
    expect(r.stderr).to.contain(`Port ${listener.port} is already in use on 127.0.0.1. Choose another port with --port (0 picks a free one).`)
  })
})

describe('listen (child process)', function () {
  this.timeout(30_000)

  it('prints Ready on stderr, one JSON line per event, refuses bad credentials, exits 0 after --max-events', async () => {
    const child = spawn(process.execPath, [join(root, 'bin', 'run.js'), 'listen', '--port', '0', '--basic-auth', 'hooks:listen-pass-1', '--max-events', '2', '--json'], {
      env: {...process.env},
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', d => {
      stdout += d
    })
    const ready = new Promise<string>((resolve, reject) => {
      child.stderr.on('data', d => {
        stderr += d
        const m = /Ready: (\S+)/.exec(stderr)
        if (m) resolve(m[1])
      })
      child.on('exit', () => reject(new Error(`listen exited early: ${stderr}`)))
    })
    const exited = new Promise<null | number>(resolve => {
      child.on('exit', code => resolve(code))
    })
    const url = await ready
    expect((await run(['trigger', 'change.deal', '--to', url, '--basic-auth', 'hooks:wrong'])).exit).to.equal(1)
    expect((await run(['trigger', 'change.deal', '--to', url, '--basic-auth', 'hooks:listen-pass-1'])).exit).to.equal(0)
    expect((await run(['trigger', 'deleted.person', '--to', url, '--basic-auth', 'hooks:listen-pass-1'])).exit).to.equal(0)
    expect(await exited).to.equal(0)
    const lines = stdout.trim().split('\n').map(l => JSON.parse(l))
    expect(lines.filter(l => l.rejected).map(l => l.rejected.status)).to.deep.equal([401])
    expect(lines.filter(l => !l.rejected).map(l => `${l.source} ${l.action}.${l.object} ${l.verified}`)).to.deep.equal([
      'pipedrive-v2 change.deal true',
      'pipedrive-v1 deleted.person true',
    ])
    expect(stdout + stderr).not.to.contain('listen-pass-1')
  })
})
