import {expect} from 'chai'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {type Listener, type ListenerEvent, startListener} from '../../src/lib/deliveries/listener.js'
import {verifyBasicAuth} from '../../src/lib/deliveries/signatures.js'
import {startSandbox} from '../../src/lib/sandbox/index.js'
import {pl} from '../lib/sandbox/helpers.js'
import {receiver, type Receiver} from '../support/receiver.js'
import {run} from '../support/run.js'

const bodies = (rec: Receiver) => rec.received.map(g => JSON.parse(g.body.toString('utf8')))

describe('trigger: samples, merges, custom fields, --list, --from', function () {
  this.timeout(30_000)
  let rec: Receiver
  let listener: Listener | undefined

  beforeEach(async () => {
    rec = await receiver({path: '/'})
  })

  afterEach(async () => {
    await rec.close()
    await listener?.close()
    listener = undefined
  })

  it('--list shows every sample (table, or JSON with --json)', async () => {
    const table = await run(['trigger', '--list'])
    expect(table.exit).to.equal(0)
    expect(table.stdout.split('\n')[0]).to.match(/^FORMAT\s+VERSION\s+EVENT\s+DELIVERIES\s+NOTE$/)
    expect(table.stdout).to.match(/pipedrive\s+2\.0\s+merged\.deal\s+2\s+delete \(merged_to_id\) \+ change \(merged_from_id\)/)
    expect(table.stdout).to.match(/pipeliner\s+-\s+Opportunity\.Won/)
    const json = await run(['trigger', '--list', '--json'])
    expect(json.exit).to.equal(0)
    const {samples} = json.json()
    expect(samples.length).to.equal(table.stdout.trim().split('\n').length - 1)
    expect(samples).to.deep.include({
      deliveries: 1, event: 'delete.user', format: 'pipedrive', note: 'sent as a change.user (deactivation), as documented', version: '2.0',
    })
    expect(samples.filter((s: any) => s.note.startsWith('shape guessed') && s.format === 'pipedrive').map((s: any) => s.event.split('.')[1]))
    .to.include.members(['project', 'task', 'board', 'phase', 'deal_product', 'deal_installment'])
  })

  it('merged.deal --version 2.0: a delete (merged_to_id) then a change (merged_from_id), each answered', async () => {
    const r = await run(['trigger', 'merged.deal', '--version', '2.0', '--to', rec.url, '--json'])
    expect(r.exit, r.stderr).to.equal(0)
    expect(r.json().deliveries.map((d: any) => [d.n, d.status, d.description])).to.deep.equal([
      [1, 200, 'pipedrive v2.0 delete.deal 9 (merged into 8)'],
      [2, 200, 'pipedrive v2.0 change.deal 8 (merged from 9)'],
    ])
    const [deleted, changed] = bodies(rec)
    expect(deleted.meta).to.include({action: 'delete', entity_id: '9', merged_to_id: '8'})
    expect(changed.meta).to.include({action: 'change', entity_id: '8', merged_from_id: '9'})
    const v1 = await run(['trigger', 'merged.deal', '--to', rec.url])
    expect(v1.exit).to.equal(0)
    expect(v1.stdout).to.match(/^#1 pipedrive v1\.0 merged\.deal 8 → 200 in [\d.]+ ms\n#2 pipedrive v1\.0 deleted\.deal 9 → 200/)
    expect(bodies(rec).slice(2).map(b => b.event)).to.deep.equal(['merged.deal', 'deleted.deal'])
  })

  it('--format elements takes either vocabulary; --version 2.0 is the vendor body', async () => {
    const r = await run(['trigger', 'change.deal', '--format', 'elements', '--version', '2.0', '--to', rec.url])
    expect(r.exit, r.stderr).to.equal(0)
    const v1 = await run(['trigger', 'updated.deal', '--format', 'elements', '--to', rec.url, '--elements-form', 'response'])
    expect(v1.exit, v1.stderr).to.equal(0)
    const [first, second] = bodies(rec)
    expect(first.message.events[0].eventType).to.equal('UPDATED')
    expect(first.message.raw.meta.version).to.equal('2.0')
    expect(second.response.events[0].eventType).to.equal('UPDATED')
    expect(second).to.have.property('notificationId')
  })

  it('--set custom_fields.KEY:TYPE=VALUE, shown in --help', async () => {
    const r = await run(['trigger', 'change.deal', '--to', rec.url, '--set', 'value=5000', '--set', 'custom_fields.abc:monetary=200 EUR'])
    expect(r.exit, r.stderr).to.equal(0)
    const [p] = bodies(rec)
    expect(p.data.value).to.equal(5000)
    expect(p.data.custom_fields.abc).to.deep.equal({currency: 'EUR', type: 'monetary', value: 200})
    expect(p.previous).to.include({value: 100})
    expect(p.previous.custom_fields).to.deep.equal({abc: null})
    const bad = await run(['trigger', 'change.deal', '--to', rec.url, '--set', 'custom_fields.abc:monetary=lots'])
    expect(bad.exit).to.equal(2)
    expect(bad.stderr).to.contain('Invalid monetary custom field value "lots"')
    expect(rec.received).to.have.length(1)
    const help = await run(['trigger', '--help'])
    expect(help.stdout).to.contain('custom_fields.KEY:TYPE=VALUE')
    expect(help.stdout).to.match(/daterange\s+FROM\.\.UNTIL/)
  })

  it('--print: the bodies without sending them (JSON with --json)', async () => {
    const r = await run(['trigger', 'merged.organization', '--version', '2.0', '--print'])
    expect(r.exit).to.equal(0)
    const docs = r.stdout.trim().split(/\n(?=\{)/).map(d => JSON.parse(d))
    expect(docs.map(d => d.meta.action)).to.deep.equal(['delete', 'change'])
    const json = await run(['trigger', 'Account.Create', '--print', '--count', '2', '--json'])
    expect(json.json().deliveries.map((d: any) => [d.description, d.body[0].event])).to.deep.equal([
      ['pipeliner Account.Create', 'Account.Create'],
      ['pipeliner Account.Create', 'Account.Create'],
    ])
    expect(rec.received).to.have.length(0)
  })

  it('delete.user: warns that Pipedrive documents it as a change', async () => {
    const r = await run(['trigger', 'delete.user', '--to', rec.url])
    expect(r.exit).to.equal(0)
    expect(r.stderr).to.contain('change.user that deactivates it')
    expect(bodies(rec)[0].meta.action).to.equal('change')
  })

  it('--from: a JSON file and a listen journal, authenticated again, byte for byte', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pdhooks-from-'))
    const journal = join(dir, 'j.ndjson')
    listener = await startListener({basicAuth: {password: 'pw-1234567', user: 'hooks'}, journal, port: 0})
    const events: ListenerEvent[] = []
    listener.on('event', e => events.push(e))
    const payload = JSON.stringify({
      current: {id: 5, title: 'Mine'}, event: 'updated.deal', meta: {
        action: 'updated', id: 5, object: 'deal', v: 1,
      }, v: 1,
    }, null, 2)
    const file = join(dir, 'mine.json')
    writeFileSync(file, payload)
    const r = await run(['trigger', '--from', file, '--to', listener.url, '--basic-auth', 'hooks:pw-1234567', '--json'])
    expect(r.exit, r.stdout + r.stderr).to.equal(0)
    expect(r.json().deliveries[0].description).to.equal(`${file}: pipedrive-v1 updated.deal 5`)
    expect(events.map(e => [e.source, e.action, e.objectId, e.verified])).to.deep.equal([['pipedrive-v1', 'updated', '5', true]])
    await listener.close()
    listener = undefined
    const line = JSON.parse(readFileSync(journal, 'utf8').trim())
    expect(line.body).to.equal(payload)
    const again = await run(['trigger', '--from', journal, '--to', rec.url, '--basic-auth', 'hooks:new-pw-99'])
    expect(again.exit).to.equal(0)
    expect(rec.received[0].body.toString()).to.equal(payload)
    expect(verifyBasicAuth(rec.received[0].headers.authorization, 'hooks', 'new-pw-99')).to.equal(true)
    expect(again.stdout).not.to.contain('new-pw-99')
  })

  it('usage errors: no event, event and --from, --from with --set or --sandbox, unreadable file', async () => {
    const cases: Array<[string[], string]> = [
      [['trigger', '--to', rec.url], 'Missing EVENT.'],
      [['trigger', 'change.deal', '--from', 'x.json', '--to', rec.url], 'Give an EVENT or --from FILE, not both.'],
      [['trigger', '--from', 'x.json', '--set', 'a=1', '--to', rec.url], '--from sends the file as it is: --set and --version do not apply.'],
      [['trigger', '--from', 'x.json', '--sandbox'], '--sandbox makes a sample change in the sandbox: it does not take --from.'],
      [['trigger', '--from', '/no/such.json', '--to', rec.url], 'Cannot read /no/such.json: no such file.'],
      [['trigger', 'merged.note', '--to', rec.url], 'A note cannot be merged.'],
      [['trigger', 'change.deal', '--sandbox', '--print'], '--print shows a sample without sending it; --sandbox has the sandbox deliver it.'],
      [['trigger', 'change.deal'], 'Missing --to URL.'],
    ]
    for (const [args, message] of cases) {
      const r = await run(args)
      expect(r.exit, args.join(' ')).to.equal(2)
      expect(r.stderr, args.join(' ')).to.contain(message)
    }

    expect(rec.received).to.have.length(0)
  })

  it('--sandbox: a merge reaches v1 and v2 webhooks in their own words', async () => {
    const sandbox = await startSandbox({port: 0})
    try {
      const env = sandbox.env()
      for (const [version, action] of [['1.0', '*'], ['2.0', '*']]) {
        // eslint-disable-next-line n/no-unsupported-features/node-builtins
        const res = await fetch(`${env.PDHOOKS_PIPEDRIVE_URL}/webhooks`, {
          body: JSON.stringify({
            event_action: action, event_object: 'person', name: `v${version}`, subscription_url: `${rec.url}v${version}`, version,
          }),
          headers: {'content-type': 'application/json', 'x-api-token': 't'},
          method: 'POST',
        })
        expect(res.status).to.equal(201)
      }

      const r = await run(['trigger', 'merged.person', '--sandbox', '--set', 'name=Ada', '--json'], env)
      expect(r.exit, r.stdout).to.equal(0)
      expect(r.json().deliveries.map((d: any) => d.description.split(' ')[0]).sort()).to.deep.equal(['change.person', 'delete.person', 'deleted.person', 'merged.person'])
      const byPath = (p: string) => rec.received.filter(g => g.path === `/v${p}`).map(g => JSON.parse(g.body.toString()))
      expect(byPath('1.0').map(b => b.event)).to.deep.equal(['merged.person', 'deleted.person'])
      expect(byPath('2.0').map(b => b.meta.action)).to.deep.equal(['delete', 'change'])
      expect(byPath('2.0')[1].data.name).to.equal('Ada')
      expect(byPath('1.0')[0].current.name).to.equal('Ada')
      // a Pipeliner event: the sandbox delivers a sample entity with the --set fields
      const plWebhook = await pl(sandbox, '/entities/Webhooks', {
        json: {events: ['Opportunity.*'], insecure_ssl: false, url: `${rec.url}pl`}, method: 'POST',
      })
      expect(plWebhook.status).to.equal(201)
      const won = await run(['trigger', 'Opportunity.Won', '--sandbox', '--set', 'name=Big one'], env)
      expect(won.exit, won.stdout + won.stderr).to.equal(0)
      const [item] = JSON.parse(rec.received.find(g => g.path === '/pl')!.body.toString())
      expect(item.event).to.equal('Opportunity.Won')
      expect(item.entity).to.include({is_delete: false, name: 'Big one'})
    } finally {
      await sandbox.close()
    }
  })
})
