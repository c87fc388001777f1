// e2e: the setup workflow against the sandbox: happy path, idempotent re-run, resume and rollback through faults.
import {expect} from 'chai'

import {
  explain, PD_LOGIN, shellWords, useSandbox,
} from './helpers.js'

describe('e2e: setup', () => {
  const e2e = useSandbox()
  const answers = [
    '--name',
    'crm-events',
    '--callback-url',
    'https://app.example.com/ce',
    ...PD_LOGIN,
    '--event',
    '*.deal',
    '--event',
    '*.person',
    '--yes',
  ]
  const ceUrl = (id: number) => `${e2e.url}/elements/api-v2/events/pipedrive/${Buffer.from(String(id)).toString('base64')}`
  const writes = async () => (await e2e.requests()).filter(r => r.method !== 'GET').map(r => `${r.method} ${r.path}`)

  it('creates the instance and its v1.0 webhooks; a re-run with --instance changes nothing', async function () {
    this.timeout(30_000)
    const r = await e2e.run(['setup', ...answers, '--json'])
    expect(r.code, explain(r)).to.equal(0)
    const doc = r.json()
    expect(doc.instance).to.deep.include({
      created: true, id: 20_931, name: 'crm-events', events: 'webhook',
    })
    expect(doc.callbackUrl).to.equal(ceUrl(20_931))
    expect(doc.webhooks.map((w: any) => [w.event, w.version, w.created, w.active])).to.deep.equal([
      ['*.deal', '1.0', true, true],
      ['*.person', '1.0', true, true],
    ])
    const state = await e2e.state()
    expect(state.elements.instances.map((i: any) => i.name)).to.deep.equal(['crm-events'])
    expect(state.pipedrive.webhooks.map((w: any) => [w.event_action, w.event_object, w.version, w.subscription_url])).to.deep.equal([
      ['*', 'deal', '1.0', ceUrl(20_931)],
      ['*', 'person', '1.0', ceUrl(20_931)],
    ])
    expect(await writes()).to.deep.equal(['POST /elements/api-v2/instances', 'POST /v1/webhooks', 'POST /v1/webhooks'])

    await e2e.api('DELETE', '/sandbox/requests')
    const again = await e2e.run(['setup', '--instance', '20931', '--event', '*.deal', '--event', '*.person', '--yes', '--json'])
    expect(again.code, explain(again)).to.equal(0)
    const d2 = again.json()
    expect(d2.instance).to.deep.include({created: false, id: 20_931})
    expect(d2.webhooks.map((w: any) => [w.created, w.active])).to.deep.equal([[false, true], [false, true]])
    expect(await writes()).to.deep.equal([])

    const human = await e2e.run(['setup', '--instance', '20931', '--event', '*.deal', '--yes'])
    expect(human.code, explain(human)).to.equal(0)
    expect(human.stdout).to.include(ceUrl(20_931))
    expect(human.stdout).to.match(/Webhook 1: \*\.deal \(v1\.0\).*active/)
  })

  it('polling mode skips the webhook step', async function () {
    this.timeout(30_000)
    const r = await e2e.run([
      'setup',
      '--name',
      'crm-poll',
      '--events',
      'polling',
      '--poll',
      'contacts',
      '--callback-url',
      'https://app.example.com/poll',
      ...PD_LOGIN,
      '--yes',
      '--json',
    ])
    expect(r.code, explain(r)).to.equal(0)
    expect(r.json().instance).to.deep.include({created: true, events: 'polling'})
    expect(await writes()).to.deep.equal(['POST /elements/api-v2/instances'])
  })

  it('a failure at the webhook step is exit 6 with the command that resumes; running it converges', async function () {
    this.timeout(30_000)
    await e2e.fault({
      method: 'POST', path: '/v1/webhooks', status: 500, times: 4,
    })
    const r = await e2e.run(['setup', ...answers])
    expect(r.code, explain(r)).to.equal(6)
    expect(r.stderr).to.include('instance 20931')
    const line = /Resume with: (pdhooks .+)$/m.exec(r.stderr)
    expect(line, r.stderr).not.to.equal(null)
    const resume = shellWords(line![1])
    expect(resume.slice(0, 4)).to.deep.equal(['pdhooks', 'setup', '--instance', '20931'])
    expect(resume).to.include('*.deal').and.to.include('*.person').and.to.include('--yes')
    expect((await e2e.state()).pipedrive.webhooks).to.deep.equal([])
    // a 500 is not retried (README: retries on 429, 502, 503, 504), so the other 3 faults are still armed: disarm them
    expect((await e2e.requests('/v1/webhooks')).filter(q => q.method === 'POST')).to.have.length(1)
    await e2e.api('DELETE', '/sandbox/faults')

    const resumed = await e2e.run(resume.slice(1))
    expect(resumed.code, explain(resumed)).to.equal(0)
    const state = await e2e.state()
    expect(state.elements.instances.map((i: any) => i.id)).to.deep.equal([20_931])
    expect(state.pipedrive.webhooks.map((w: any) => `${w.event_action}.${w.event_object}`)).to.deep.equal(['*.deal', '*.person'])

    // the same failure under --json: step, created and resume in the error document
    await e2e.api('POST', '/sandbox/reset')
    await e2e.fault({
      method: 'POST', path: '/v1/webhooks', status: 500, times: 4,
    })
    const j = await e2e.run(['setup', ...answers, '--json'])
    expect(j.code, explain(j)).to.equal(6)
    const err = j.json().error
    expect(err).to.deep.include({step: 'webhooks', code: 'unavailable'})
    expect(err.created.instance).to.deep.include({created: true, id: 20_931})
    expect(err.resume).to.match(/^pdhooks setup --instance 20931 /)
  })

  it('--rollback deletes what the run created, and never a reused instance', async function () {
    this.timeout(30_000)
    // the first webhook is created, the second fails
    await e2e.fault([{method: 'POST', path: '/v1/webhooks', times: 1}, {
      method: 'POST', path: '/v1/webhooks', status: 500, times: 4,
    }])
    const r = await e2e.run(['setup', ...answers, '--rollback', '--json'])
    expect(r.code, explain(r)).to.equal(6)
    const err = r.json().error
    expect(err.step).to.equal('webhooks')
    expect(err.rolledBack.instance).to.deep.include({id: 20_931, status: 'deleted'})
    expect(err.rolledBack.webhooks.map((w: any) => w.status)).to.deep.equal(['deleted'])
    const state = await e2e.state()
    expect(state.elements.instances).to.deep.equal([])
    expect(state.pipedrive.webhooks).to.deep.equal([])

    // a reused instance and a webhook that existed before survive a rollback
    await e2e.api('DELETE', '/sandbox/faults')
    const base = await e2e.run(['setup', ...answers.slice(0, -5), '--event', '*.deal', '--yes', '--json'])
    expect(base.code, explain(base)).to.equal(0)
    const id = String(base.json().instance.id)
    await e2e.fault({
      method: 'POST', path: '/v1/webhooks', status: 500, times: 4,
    })
    const reused = await e2e.run(['setup', '--instance', id, '--event', '*.deal', '--event', '*.person', '--yes', '--rollback', '--json'])
    expect(reused.code, explain(reused)).to.equal(6)
    const after = await e2e.state()
    expect(after.elements.instances.map((i: any) => String(i.id))).to.deep.equal([id])
    expect(after.pipedrive.webhooks.map((w: any) => `${w.event_action}.${w.event_object}`)).to.deep.equal(['*.deal'])
  })
})
