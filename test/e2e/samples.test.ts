// e2e: a merge as Pipedrive documents it, through the sandbox to `pdhooks listen` (a child process), for a v1 and a v2
// webhook with basic auth; then `pdhooks trigger --from` sends the journaled deliveries again, byte for byte.
import {expect} from 'chai'
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {verifyBasicAuth} from '../../src/lib/deliveries/signatures.js'
import {receiver} from '../support/receiver.js'
import {
  explain, HOOK_PASSWORD, listen, useSandbox,
} from './helpers.js'

describe('e2e: documented samples through the sandbox', () => {
  const e2e = useSandbox()

  it('merged.person: v1 gets merged.person, v2 a delete (merged_to_id) and a change (merged_from_id); trigger --from re-sends them', async function () {
    this.timeout(30_000)
    const journal = join(mkdtempSync(join(tmpdir(), 'pdhooks-e2e-samples-')), 'deliveries.ndjson')
    const app = await listen(['--basic-auth', `hooks:${HOOK_PASSWORD}`, '--journal', journal, '--max-events', '3', '--json'])
    const auth = ['--http-auth-user', 'hooks', '--http-auth-password', HOOK_PASSWORD]
    const v1 = await e2e.run(['webhook', 'add', 'merged.person', '--url', app.url, ...auth])
    expect(v1.code, explain(v1)).to.equal(0)
    const v2 = await e2e.run(['webhook', 'add', '*.person', '--url', app.url, ...auth])
    expect(v2.code, explain(v2)).to.equal(0)

    const trigger = await e2e.run(['trigger', 'merged.person', '--sandbox', '--set', 'name=Ada Lovelace', '--json'])
    expect(trigger.code, explain(trigger)).to.equal(0)
    expect(trigger.json().deliveries.map((d: any) => d.description.split(' ')[0]).sort()).to.deep.equal(['change.person', 'delete.person', 'merged.person'])

    const done = await app.exited
    expect(done.code, done.stderr).to.equal(0)
    const events = done.stdout.trim().split('\n').map(l => JSON.parse(l))
    expect(events.map(e => `${e.source} ${e.action}.${e.object} ${e.verified}`).sort()).to.deep.equal([
      'pipedrive-v1 merged.person true',
      'pipedrive-v2 change.person true',
      'pipedrive-v2 delete.person true',
    ])
    const lines = readFileSync(journal, 'utf8').trim().split('\n').map(l => JSON.parse(l))
    const v2Bodies = lines.filter(l => l.source === 'pipedrive-v2').map(l => JSON.parse(l.body))
    expect(v2Bodies.map(b => b.meta.action)).to.deep.equal(['delete', 'change'])
    const [deleted, changed] = v2Bodies
    expect(deleted.meta.merged_to_id).to.equal(changed.meta.entity_id)
    expect(changed.meta.merged_from_id).to.equal(deleted.meta.entity_id)
    expect(changed.data.name).to.equal('Ada Lovelace')
    expect(changed.data.custom_fields).to.deep.equal({})

    const rx = await receiver({path: '/again'})
    try {
      const again = await e2e.run(['trigger', '--from', journal, '--to', rx.url, '--basic-auth', 'hooks:another-pass-77', '--json'])
      expect(again.code, explain(again)).to.equal(0)
      expect(rx.received.map(r => r.raw.toString())).to.deep.equal(lines.map(l => l.body))
      for (const r of rx.received) expect(verifyBasicAuth(r.headers.authorization as string, 'hooks', 'another-pass-77')).to.equal(true)
      expect(again.stdout).not.to.contain('another-pass-77')
      // one journal line through standard input
      const piped = await e2e.run(['trigger', '--from', '-', '--to', rx.url, '--json'], {input: readFileSync(journal, 'utf8').split('\n')[0]})
      expect(piped.code, explain(piped)).to.equal(0)
      expect(piped.json().deliveries[0].description).to.match(/^stdin: pipedrive-v/)
      expect(rx.received.at(-1)!.raw.toString()).to.equal(lines[0].body)
    } finally {
      await rx.close()
    }
  })
})
