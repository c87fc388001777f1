// e2e: deliveries on this machine. `pdhooks listen` (a child process) is the app; setup aims the Pipedrive webhooks at
// a Cloud Elements instance whose callback URL is that listener; `pdhooks trigger --sandbox` changes a deal for real;
// the listener verifies the platform's signature and journals the notification; `pdhooks replay` re-sends it.
import {expect} from 'chai'
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {receiver} from '../support/receiver.js'
import {
  explain, listen, PD_LOGIN, SIGNATURE_KEY, useSandbox,
} from './helpers.js'

describe('e2e: listen, trigger --sandbox, replay', () => {
  const e2e = useSandbox()

  it('a deal change travels Pipedrive → Cloud Elements → pdhooks listen, verified, journaled and replayable', async function () {
    this.timeout(30_000)
    const journal = join(mkdtempSync(join(tmpdir(), 'pdhooks-e2e-journal-')), 'deliveries.ndjson')
    const app = await listen(['--elements-key', SIGNATURE_KEY, '--journal', journal, '--max-events', '1', '--json'])
    const setup = await e2e.run(['setup',
      '--name',
      'chain',
      '--callback-url',
      app.url,
      '--signature-key',
      SIGNATURE_KEY,
      ...PD_LOGIN,
      '--event',
      '*.deal',
      '--yes'])
    expect(setup.code, explain(setup)).to.equal(0)

    const trigger = await e2e.run(['trigger', 'change.deal', '--sandbox', '--set', 'title=Big deal', '--json'])
    expect(trigger.code, explain(trigger)).to.equal(0)
    expect(trigger.json().deliveries).to.have.length(1)
    expect(trigger.json().deliveries[0].status).to.equal(200)

    const done = await app.exited
    expect(done.code, done.stderr).to.equal(0)
    const events = done.stdout.trim().split('\n').map(l => JSON.parse(l))
    expect(events).to.have.length(1)
    expect(events[0]).to.include({
      action: 'updated', object: 'opportunities', source: 'elements', verified: true,
    })
    expect(done.stdout + done.stderr).not.to.contain(SIGNATURE_KEY)

    const lines = readFileSync(journal, 'utf8').trim().split('\n').map(l => JSON.parse(l))
    expect(lines).to.have.length(1)
    expect(lines[0].source).to.equal('elements')
    const rx = await receiver({path: '/replayed'})
    try {
      const replay = await e2e.run(['replay', '--journal', journal, '--to', rx.url, '--json'])
      expect(replay.code, explain(replay)).to.equal(0)
      expect(rx.received).to.have.length(1)
      expect(rx.received[0].raw.toString()).to.equal(lines[0].body)
    } finally {
      await rx.close()
    }
  })

  it('trigger against listen: wrong basic auth is refused (exit 1), right one accepted', async function () {
    this.timeout(30_000)
    const app = await listen(['--basic-auth', 'hooks:e2e-listen-pass', '--max-events', '1'])
    const bad = await e2e.run(['trigger', 'added.person', '--to', app.url, '--basic-auth', 'hooks:nope'])
    expect(bad.code).to.equal(1)
    const good = await e2e.run(['trigger', 'added.person', '--to', app.url, '--basic-auth', 'hooks:e2e-listen-pass'])
    expect(good.code, explain(good)).to.equal(0)
    const done = await app.exited
    expect(done.code).to.equal(0)
    expect(done.stdout).to.match(/pipedrive-v1\s+added\.person\s+8\s+attempt 1\s+verified/)
    expect(done.stderr).to.contain('rejected POST /: 401')
  })
})
